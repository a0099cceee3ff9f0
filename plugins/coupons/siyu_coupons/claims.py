"""Claiming and issuing coupons without ever exceeding a template's quantity or a member's limit.

The quantity is taken with one conditional UPDATE (``issued < quantity``), which also locks
the template row until the claim commits; the member's copies are then counted again under
that lock, and the unique ``(template, member, seq)`` key is the last word. So 500 concurrent
claims of 100 coupons make exactly 100, and 50 parallel claims by one member with a limit of
1 make one.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, NotFound, SiyuError, utcnow
from siyu_coupons.definitions import template_by_code
from siyu_coupons.models import Coupon, CouponTemplate

log = logging.getLogger("siyu.coupons")


class SoldOut(SiyuError):
    code = "sold-out"
    status = 409


class LimitReached(SiyuError):
    code = "limit-reached"
    status = 409


class NotClaimable(SiyuError):
    code = "not-claimable"
    status = 409


def claim_check(template: CouponTemplate, now: datetime) -> None:
    """Refuse an inactive, ended or exhausted template, with the reason."""
    if not template.active:
        raise NotClaimable(_l("This coupon is no longer offered."))
    if template.valid_until is not None and template.valid_until <= now:
        raise NotClaimable(_l("This coupon offer has ended."))
    if template.quantity is not None and template.issued >= template.quantity:
        raise SoldOut(_l("Sorry, this coupon is sold out."))


def _held(session: Session, template_id: int, member_id: int) -> int:
    return session.scalar(select(func.count(Coupon.id)).where(
        Coupon.template_id == template_id, Coupon.member_id == member_id)) or 0


def validity(template: CouponTemplate, claimed_at: datetime) -> tuple[datetime | None, datetime | None]:
    """A coupon's own window: the template's dates, or N days from the claim within them."""
    until = template.valid_until
    if template.valid_days:
        own = claimed_at + timedelta(days=template.valid_days)
        until = own if until is None else min(until, own)
    return template.valid_from, until


def claim(session: Session, template: CouponTemplate, member_id: int, *, source: str,
          reason: str = "", ref: str | None = None, now: datetime | None = None) -> Coupon:
    """Give ``member_id`` one coupon of ``template`` inside the caller's transaction.

    Raises ``SoldOut``, ``LimitReached`` or ``NotClaimable``; the caller's transaction must
    then roll back (the counter may already be raised). With ``ref``, a repeat returns the
    coupon issued the first time.
    """
    now = now or utcnow()
    if ref is not None:
        existing = session.scalar(select(Coupon).where(
            Coupon.template_id == template.id, Coupon.member_id == member_id, Coupon.ref == ref))
        if existing is not None:
            return existing
    claim_check(template, now)
    limit_message = _l("You already have the most coupons of this kind (%(n)d).", n=template.per_member_limit)
    if _held(session, template.id, member_id) >= template.per_member_limit:
        raise LimitReached(limit_message)
    taken = session.execute(
        update(CouponTemplate)
        .where(CouponTemplate.id == template.id, CouponTemplate.active.is_(True),
               (CouponTemplate.quantity.is_(None)) | (CouponTemplate.issued < CouponTemplate.quantity))
        .values(issued=CouponTemplate.issued + 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise SoldOut(_l("Sorry, this coupon is sold out."))
    # Counted again under the template's row lock: a parallel claim of the same member that
    # committed while this one waited is visible now (PostgreSQL reads per statement).
    held = _held(session, template.id, member_id)
    if held >= template.per_member_limit:
        raise LimitReached(limit_message)
    valid_from, valid_until = validity(template, now)
    coupon = Coupon(template_id=template.id, member_id=member_id, seq=held + 1, status="available",
                    source=source[:16], reason=(reason or "")[:100], ref=ref, valid_from=valid_from,
                    valid_until=valid_until, claimed_at=now)
    try:
        with session.begin_nested():
            session.add(coupon)
    except IntegrityError as exc:  # the unique (template, member, seq) key: the last word
        raise LimitReached(limit_message) from exc
    return coupon


def issue(session: Session, member_id: int, template_code: str, reason: str, ref: str | None,
          source: str = "hook") -> list[int]:
    """For other plugins (``coupons_issue``) and the welcome gift, inside their transaction.

    Never aborts the caller: an unknown code, a sold-out template or a reached limit issues
    nothing (logged) and returns ``[]``; the caller's check-in or sign-up still succeeds.
    """
    template = template_by_code(session, str(template_code or ""))
    if template is None:
        log.warning("coupons_issue: no coupon with code %r", template_code)
        return []
    try:
        with session.begin_nested():  # a refusal undoes the counter, not the caller's work
            coupon = claim(session, template, member_id, source=source, reason=reason,
                           ref=str(ref)[:100] if ref is not None else None)
    except (SiyuError, IntegrityError) as exc:
        log.info("coupons_issue %s to member %s not issued: %s", template_code, member_id, exc)
        return []
    return [coupon.id]


def template_for_claim(session: Session, code: str) -> CouponTemplate:
    template = template_by_code(session, code)
    if template is None:
        raise NotFound(_l("We could not find that coupon."))
    return template
