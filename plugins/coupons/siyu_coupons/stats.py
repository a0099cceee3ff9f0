"""The owner's figures per coupon: cards sent, issued (claimed by members or given), used,
redemption rate, the discount given and the revenue of the orders that used one.

Revenue is the orders' totals net of refunds, counted for redemptions that are ``used``: a
cancelled order never counts, a fully refunded one counts zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from siyu.plugin import Message, Order
from siyu_coupons.chat_card import NAME as CARD
from siyu_coupons.models import Coupon, Redemption

MEMBER_SOURCES = ("chat", "page")


@dataclass
class Figures:
    cards_sent: int = 0
    issued: int = 0
    claimed: int = 0
    given: int = 0
    reserved: int = 0
    used: int = 0
    discount: int = 0
    revenue: int = 0

    @property
    def rate(self) -> float | None:
        """Used per issued coupon, 0..1 (``None`` before any was issued)."""
        return self.used / self.issued if self.issued else None


def figures(session: Session, template_ids: list[int], since: datetime | None = None) -> dict[int, Figures]:
    """Figures per template id; with ``since``, only what happened after it."""
    found = {tid: Figures() for tid in template_ids}
    if not template_ids:
        return found
    coupons = select(Coupon.template_id, func.count(Coupon.id),
                     func.sum(case((Coupon.source.in_(MEMBER_SOURCES), 1), else_=0)),
                     func.sum(case((Coupon.status == "reserved", 1), else_=0))) \
        .where(Coupon.template_id.in_(template_ids)).group_by(Coupon.template_id)
    if since is not None:
        coupons = coupons.where(Coupon.claimed_at >= since)
    for tid, issued, claimed, reserved in session.execute(coupons):
        f = found[tid]
        f.issued, f.claimed, f.reserved = issued, int(claimed or 0), int(reserved or 0)
        f.given = issued - f.claimed
    used = select(Redemption.template_id, func.count(Redemption.id), func.sum(Redemption.discount),
                  func.sum(Order.total - Order.refunded_amount)) \
        .join(Order, Order.id == Redemption.order_id) \
        .where(Redemption.template_id.in_(template_ids), Redemption.status == "used") \
        .group_by(Redemption.template_id)
    if since is not None:
        used = used.where(Redemption.updated_at >= since)
    for tid, count, discount, revenue in session.execute(used):
        f = found[tid]
        f.used, f.discount, f.revenue = count, int(discount or 0), int(revenue or 0)
    template_key = Message.payload["template_id"].as_integer()
    sent = select(template_key, func.count(Message.id)) \
        .where(Message.card_type == CARD, Message.delivery.in_(("delivered", "pending")),
               template_key.in_(template_ids)).group_by(template_key)
    if since is not None:
        sent = sent.where(Message.created_at >= since)
    for tid, count in session.execute(sent):
        if tid in found:
            found[tid].cards_sent = count
    return found


def totals(found: dict[int, Figures]) -> Figures:
    total = Figures()
    for f in found.values():
        for field in ("cards_sent", "issued", "claimed", "given", "reserved", "used", "discount", "revenue"):
            setattr(total, field, getattr(total, field) + getattr(f, field))
    return total
