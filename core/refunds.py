"""Refunds: full or partial, through the order's payment provider, each exactly once.

The refund row (with its idempotency key) is written before the provider is called and
the same key is handed to the provider, so a request retried after a timeout finds the
pending refund and asks the provider again with the same key: one refund, never two.
"""
from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core.db import write_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.errors import InvalidTransition, PaymentError, ValidationError
from siyu.core.hooks import call_in_transaction
from siyu.core.models import Order, OrderStatus, Payment, PaymentStatus, Refund, RefundStatus


def refund_order(kernel, session: Session, order: Order, amount: int, idempotency_key: str,
                 reason: str = "", staff_id: int | None = None) -> Refund:
    if not idempotency_key or len(idempotency_key) > 128:
        raise ValidationError(_l("A refund needs an idempotency key."), fields={"idempotency_key": _l("required")})
    refund = session.scalar(select(Refund).where(Refund.idempotency_key == idempotency_key))
    retry = refund is not None
    if refund is None:
        refund, retry = _reserve(session, order, amount, idempotency_key, reason, staff_id)
    if refund.order_id != order.id or refund.amount != amount:
        raise ValidationError(_l("This idempotency key was used for another refund."),
                              fields={"idempotency_key": _l("already used")})
    if refund.status == RefundStatus.SUCCEEDED.value:
        return refund
    payment = session.get(Payment, refund.payment_id)
    provider = kernel.payment_providers.get(payment.provider)
    try:
        reference = provider.refund(kernel, payment, refund, retry=retry)
    except Exception as exc:  # a timeout or a provider error: the refund stays pending
        with write_transaction(session):
            session.get(Refund, refund.id).last_error = str(exc)[:500]
        raise PaymentError(_l("The refund could not be completed yet; retry it.")) from exc
    _complete(kernel, session, refund, reference)
    return refund


def _reserve(session, order, amount, key, reason, staff_id) -> tuple[Refund, bool]:
    """Write the pending refund; (refund, True) when a concurrent request with the same key
    got there first (seen once the order's row lock is ours, or by the unique key)."""
    try:
        with write_transaction(session):
            locked = session.scalar(select(Order).where(Order.id == order.id).with_for_update()
                                    .execution_options(populate_existing=True))  # fresh, not cached
            first = session.scalar(select(Refund).where(Refund.idempotency_key == key))
            if first is not None:
                return first, True
            return _insert(session, locked, amount, key, reason, staff_id), False
    except IntegrityError:
        first = session.scalar(select(Refund).where(Refund.idempotency_key == key))
        if first is None:
            raise
        return first, True


def _insert(session, order, amount, key, reason, staff_id) -> Refund:
    """Reserve ``amount`` of the locked ``order`` (pending refunds count as spent)."""
    pending = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.order_id == order.id, Refund.status == RefundStatus.PENDING.value))
    available = order.refundable_amount - pending
    if not order.is_paid:
        raise InvalidTransition(_l("Only a paid order can be refunded."))
    if not isinstance(amount, int) or not 0 < amount <= available:
        raise ValidationError(_l("The refund must be between 1 and %(max)s.", max=available),
                              fields={"amount": _l("between 1 and %(max)s", max=available)})
    payment = session.scalar(select(Payment).where(
        Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED.value))
    if payment is None:
        raise InvalidTransition(_l("This order has no successful payment to refund."))
    refund = Refund(order_id=order.id, payment_id=payment.id, amount=amount,
                    currency=order.currency, idempotency_key=key, reason=reason[:200],
                    staff_id=staff_id, status=RefundStatus.PENDING.value)
    session.add(refund)
    session.flush()
    return refund


def _complete(kernel, session: Session, refund: Refund, reference: str) -> None:
    with write_transaction(session):
        done = session.execute(
            update(Refund).where(Refund.id == refund.id, Refund.status == RefundStatus.PENDING.value)
            .values(status=RefundStatus.SUCCEEDED.value, provider_reference=reference, last_error=None)
            .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            return  # a concurrent retry completed it
        order = session.scalar(select(Order).where(Order.id == refund.order_id).with_for_update()
                               .execution_options(populate_existing=True))
        session.refresh(refund)
        _apply(kernel, session, order, refund)


def _apply(kernel, session: Session, order: Order, refund: Refund) -> None:
    order.refunded_amount += refund.amount
    if order.refunded_amount >= order.total:
        order.status = OrderStatus.REFUNDED.value
    elif order.status == OrderStatus.PAID.value:
        order.status = OrderStatus.PARTIALLY_REFUNDED.value
    # A shipped or completed order keeps its state when part is refunded (an after-sales
    # refund of one line): the lifecycle never moves back; refunded_amount tells the rest.
    session.flush()
    call_in_transaction(kernel.pm, "on_order_refunded", session=session, order=order, refund=refund)


def record_provider_refund(kernel, session: Session, order: Order, payment: Payment,
                           refunded_total: int, reference: str) -> Refund | None:
    """The provider reports ``refunded_total`` returned so far on ``payment`` (e.g. a refund
    made in Stripe's dashboard); record whatever part of it the shop does not know yet.

    Inside the caller's transaction. Cumulative totals make this idempotent and
    order-independent: an older, smaller total arriving late adds nothing. Refunds the shop
    itself started (pending or succeeded) already count, so their echo adds nothing either.
    """
    locked = session.scalar(select(Order).where(Order.id == order.id).with_for_update()
                            .execution_options(populate_existing=True))
    if not locked.is_paid:
        return None
    known = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment.id,
        Refund.status.in_([RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value])))
    pending = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.order_id == order.id, Refund.status == RefundStatus.PENDING.value))
    amount = min(refunded_total - known, locked.refundable_amount - pending)
    if amount <= 0:
        return None
    refund = Refund(order_id=order.id, payment_id=payment.id, amount=amount, currency=order.currency,
                    idempotency_key=f"provider:{reference}:{refunded_total}"[:128],
                    provider_reference=reference[:128], reason="refunded at the payment provider",
                    status=RefundStatus.SUCCEEDED.value)
    session.add(refund)
    session.flush()
    _apply(kernel, session, locked, refund)
    return refund
