"""A coupon's life with an order, each step a conditional UPDATE inside the order's transaction.

reserved when the order is placed (``available → reserved``; if another checkout took it
first, this one is refused), used when it is paid (``reserved → used``, once, because the
core runs ``on_order_paid`` once), released when the order is cancelled — by the shopper,
staff, a failed payment or the reservation running out (``reserved → available``) — and,
after a full refund, restored if still valid (setting).
"""
from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, PricedCart, utcnow, ValidationError
from siyu_coupons.models import Coupon, Redemption
from siyu_coupons.pricing import INPUT, SOURCE


def reserve(session: Session, order, cart: PricedCart) -> None:
    applied = [a for a in cart.adjustments if a.source == SOURCE]
    if not applied:
        return
    if len(applied) > 1:
        raise ValidationError(_l("Only one coupon can be used per order."), fields={INPUT: _l("One only.")})
    adj = applied[0]
    coupon_id, now = int(adj.data["coupon_id"]), utcnow()
    taken = session.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id, Coupon.member_id == order.member_id, Coupon.status == "available",
               or_(Coupon.valid_until.is_(None), Coupon.valid_until > now),
               or_(Coupon.valid_from.is_(None), Coupon.valid_from <= now))
        .values(status="reserved", order_id=order.id, reserved_at=now, discount=-adj.amount)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise ValidationError(_l("This coupon was just used by another order; please check out again."),
                              fields={INPUT: _l("No longer available.")})
    session.add(Redemption(coupon_id=coupon_id, template_id=int(adj.data["template_id"]), order_id=order.id,
                           discount=-adj.amount, status="reserved", created_at=now, updated_at=now))


def _history(session: Session, order_id: int, before: str, after: str) -> None:
    session.execute(update(Redemption).where(Redemption.order_id == order_id, Redemption.status == before)
                    .values(status=after, updated_at=utcnow()).execution_options(synchronize_session=False))


def redeem(session: Session, order) -> None:
    used = session.execute(update(Coupon).where(Coupon.order_id == order.id, Coupon.status == "reserved")
                           .values(status="used", used_at=utcnow()).execution_options(synchronize_session=False))
    if used.rowcount:  # the history row was reserved with the coupon (most orders have none)
        _history(session, order.id, "reserved", "used")


def release(session: Session, order) -> None:
    freed = session.execute(update(Coupon).where(Coupon.order_id == order.id, Coupon.status == "reserved")
                            .values(status="available", order_id=None, reserved_at=None, discount=0)
                            .execution_options(synchronize_session=False))
    if freed.rowcount:
        _history(session, order.id, "reserved", "released")


def restore_after_refund(session: Session, order, enabled: bool) -> None:
    """A full refund gives the coupon back while it is still valid; a partial one does not."""
    if not enabled or order.refunded_amount < order.total:
        return
    now = utcnow()
    restored = session.execute(
        update(Coupon)
        .where(Coupon.order_id == order.id, Coupon.status == "used",
               or_(Coupon.valid_until.is_(None), Coupon.valid_until > now))
        .values(status="available", order_id=None, reserved_at=None, used_at=None, discount=0)
        .execution_options(synchronize_session=False))
    if restored.rowcount:
        _history(session, order.id, "used", "restored")
