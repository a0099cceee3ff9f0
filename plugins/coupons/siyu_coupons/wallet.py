"""The member's wallet by tab (available, reserved, used, expired) and their data export.

"Expired" is an available coupon past its end: derived at read time, so no job has to run
for a coupon to expire and none can be late.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from siyu.plugin import Order, utcnow
from siyu_coupons.models import WALLET_TABS, Coupon, CouponTemplate

PAGE_SIZE = 20


def _tab_filter(tab: str, now: datetime):
    expired = and_(Coupon.status == "available", Coupon.valid_until.is_not(None), Coupon.valid_until <= now)
    if tab == "expired":
        return expired
    if tab == "available":
        return and_(Coupon.status == "available", or_(Coupon.valid_until.is_(None), Coupon.valid_until > now))
    return Coupon.status == tab


def counts(session: Session, member_id: int, now: datetime | None = None) -> dict[str, int]:
    now = now or utcnow()
    return {tab: session.scalar(select(func.count(Coupon.id)).where(
        Coupon.member_id == member_id, _tab_filter(tab, now))) or 0 for tab in WALLET_TABS}


def page_of(session: Session, member_id: int, tab: str, page: int, now: datetime | None = None):
    """``(rows, pages)``: rows are ``(coupon, template, order_number)``, soonest to expire first."""
    now = now or utcnow()
    tab = tab if tab in WALLET_TABS else "available"
    where = (Coupon.member_id == member_id, _tab_filter(tab, now))
    total = session.scalar(select(func.count(Coupon.id)).where(*where)) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    order = (Coupon.valid_until.is_(None), Coupon.valid_until, Coupon.id) if tab == "available" \
        else (Coupon.id.desc(),)
    rows = session.execute(
        select(Coupon, CouponTemplate, Order.number)
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .outerjoin(Order, Order.id == Coupon.order_id)
        .where(*where).order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return rows, page, pages


def export_member(session: Session, member) -> dict:
    rows = session.execute(select(Coupon, CouponTemplate.code, CouponTemplate.name)
                           .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
                           .where(Coupon.member_id == member.id).order_by(Coupon.id)).all()
    now = utcnow()
    return {"coupons": [{
        "id": c.id, "code": code, "name": name, "state": c.tab(now), "source": c.source,
        "claimed_at": c.claimed_at.isoformat(),
        "valid_until": c.valid_until.isoformat() if c.valid_until else None,
        "used_at": c.used_at.isoformat() if c.used_at else None, "discount": c.discount,
    } for c, code, name in rows]}
