"""Refunds: full or partial, through the order's payment provider, each exactly once.

The refund row (with its idempotency key) is written before the provider is called and
the same key is handed to the provider, so a request retried after a timeout finds the
pending refund and asks the provider again with the same key: one refund, never two.

Money the provider took for an order that was cancelled meanwhile ("paid after cancel") is
refunded automatically, once per payment (key ``auto-refund-<payment id>``): the order stays
``cancelled`` with ``refunded_amount`` 0 (nothing was sold, so nothing of a sale was refunded
and no ``on_order_refunded`` runs), while its succeeded payment and the refund row (pending,
then succeeded) tell where the money went. A refund made at the provider for such an order is
recorded the same way.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core.db import write_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.errors import InvalidTransition, PaymentError, ValidationError
from siyu.core.hooks import call_in_transaction
from siyu.core.models import Order, OrderStatus, Payment, PaymentStatus, Refund, RefundStatus

log = logging.getLogger("siyu.payments")
AUTO_REFUND_REASON = "paid after the order was cancelled: refunded automatically"
PROVIDER_REFUND_REASON = "refunded at the payment provider"


def refund_order(kernel, session: Session, order: Order, amount: int, idempotency_key: str,
                 reason: str = "", staff_id: int | None = None) -> Refund:
    if not idempotency_key or len(idempotency_key) > 128:
        raise ValidationError(_l("A refund needs an idempotency key."), fields={"idempotency_key": _l("required")})
    refund = session.scalar(select(Refund).where(Refund.idempotency_key == idempotency_key))
    retry = refund is not None
    if refund is None:
        whole = _whole_only(kernel, session, order)
        refund, retry = _reserve(session, order, amount, idempotency_key, reason, staff_id, whole)
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


def _whole_only(kernel, session: Session, order: Order) -> bool:
    """True when the order's payment went through a gateway that cannot refund part of it."""
    provider = session.scalar(select(Payment.provider).where(
        Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED.value))
    gateway = kernel.payment_providers.get(provider) if provider else None
    return gateway is not None and not gateway.supports.partial_refunds


def _reserve(session, order, amount, key, reason, staff_id, whole_only=False) -> tuple[Refund, bool]:
    """Write the pending refund; (refund, True) when a concurrent request with the same key
    got there first (seen once the order's row lock is ours, or by the unique key)."""
    try:
        with write_transaction(session):
            locked = session.scalar(select(Order).where(Order.id == order.id).with_for_update()
                                    .execution_options(populate_existing=True))  # fresh, not cached
            first = session.scalar(select(Refund).where(Refund.idempotency_key == key))
            if first is not None:
                return first, True
            return _insert(session, locked, amount, key, reason, staff_id, whole_only), False
    except IntegrityError:
        first = session.scalar(select(Refund).where(Refund.idempotency_key == key))
        if first is None:
            raise
        return first, True


def _insert(session, order, amount, key, reason, staff_id, whole_only=False) -> Refund:
    """Reserve ``amount`` of the locked ``order`` (pending refunds count as spent)."""
    pending = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.order_id == order.id, Refund.status == RefundStatus.PENDING.value))
    available = order.refundable_amount - pending
    if not order.is_paid:
        if session.scalar(select(Payment.id).where(
                Payment.order_id == order.id, Payment.status == PaymentStatus.SUCCEEDED.value)):
            raise InvalidTransition(_l("This order was cancelled after its payment went through: the "
                                       "payment is refunded automatically (see its payment alarm)."))
        raise InvalidTransition(_l("Only a paid order can be refunded."))
    if not isinstance(amount, int) or not 0 < amount <= available:
        raise ValidationError(_l("The refund must be between 1 and %(max)s.", max=available),
                              fields={"amount": _l("between 1 and %(max)s", max=available)})
    if whole_only and amount != available:
        raise ValidationError(_l("This payment method refunds only the whole amount left: %(max)s.", max=available),
                              fields={"amount": _l("the whole %(max)s", max=available)})
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
        if order.is_paid:
            _apply(kernel, session, order, refund)
        # else: the automatic refund of a payment taken after the order was cancelled; the
        # order stays cancelled and unrefunded (see the module docstring).


def _apply(kernel, session: Session, order: Order, refund: Refund) -> None:
    order.refunded_amount += refund.amount
    if order.refunded_amount >= order.total:
        order.status = OrderStatus.REFUNDED.value
    elif order.status == OrderStatus.PAID.value:
        order.status = OrderStatus.PARTIALLY_REFUNDED.value
    # A shipped or completed order keeps its state when part is refunded (an after-sales
    # refund of one line): the lifecycle never moves back; refunded_amount tells the rest.
    session.flush()
    call_in_transaction(kernel.pm, "on_order_refunded", kernel=kernel, session=session, order=order, refund=refund)


def record_provider_refund(kernel, session: Session, order: Order, payment: Payment,
                           refunded_total: int, reference: str) -> Refund | None:
    """The provider reports ``refunded_total`` returned so far on ``payment`` (e.g. a refund
    made in Stripe's dashboard); record whatever part of it the shop does not know yet.

    Inside the caller's transaction. Cumulative totals make this idempotent and
    order-independent: an older, smaller total arriving late adds nothing. Refunds the shop
    itself started (pending or succeeded) already count, so their echo adds nothing either.
    For a cancelled order whose payment went through anyway the refund is recorded against
    the payment, and the order stays cancelled.
    """
    locked = _lock(session, order)
    known = _known(session, payment)
    if locked.is_paid:
        pending = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order.id, Refund.status == RefundStatus.PENDING.value))
        amount = min(refunded_total - known, locked.refundable_amount - pending)
    elif payment.status == PaymentStatus.SUCCEEDED.value:
        reported = min(refunded_total, payment.amount)
        _settled_by_provider(session, payment, reported, reference)
        amount = reported - known
    else:
        return None
    if amount <= 0:
        return None
    refund = Refund(order_id=order.id, payment_id=payment.id, amount=amount, currency=order.currency,
                    idempotency_key=f"provider:{reference}:{refunded_total}"[:128],
                    provider_reference=reference[:128], reason=PROVIDER_REFUND_REASON,
                    status=RefundStatus.SUCCEEDED.value)
    session.add(refund)
    session.flush()
    if locked.is_paid:
        _apply(kernel, session, locked, refund)
    return refund


def _settled_by_provider(session: Session, payment: Payment, reported: int, reference: str) -> None:
    """The provider reports enough refunded to cover the pending automatic refund as well:
    it went through (its answer was lost) or someone refunded at the provider meanwhile.
    Either way the money is back, and a retry would only be refused: mark it succeeded."""
    pending = session.scalar(select(Refund).where(Refund.idempotency_key == auto_refund_key(payment),
                                                  Refund.status == RefundStatus.PENDING.value))
    succeeded = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment.id, Refund.status == RefundStatus.SUCCEEDED.value))
    if pending is not None and reported - succeeded >= pending.amount:
        pending.status, pending.last_error = RefundStatus.SUCCEEDED.value, None
        pending.provider_reference = pending.provider_reference or reference[:128]
        session.flush()


def auto_refund_key(payment: Payment) -> str:
    return f"auto-refund-{payment.id}"


def reserve_auto_refund(session: Session, order: Order, payment: Payment) -> Refund | None:
    """Inside the caller's transaction: the pending refund of what ``payment`` took for the
    cancelled ``order``, reserved once per payment (a replay finds the first).

    Only what no refund (pending or succeeded, e.g. one made at the provider) covers yet is
    reserved; ``None`` when nothing is left. The provider is asked after commit, by
    ``send_auto_refund``.
    """
    _lock(session, order)  # a concurrent delivery for the same order waits, then finds this one
    key = auto_refund_key(payment)
    existing = session.scalar(select(Refund).where(Refund.idempotency_key == key))
    if existing is not None:
        return existing
    remaining = payment.amount - _known(session, payment)
    if remaining <= 0:
        return None
    refund = Refund(order_id=order.id, payment_id=payment.id, amount=remaining, currency=payment.currency,
                    idempotency_key=key, reason=AUTO_REFUND_REASON, status=RefundStatus.PENDING.value)
    session.add(refund)
    session.flush()
    return refund


def send_auto_refund(kernel, session: Session, refund: Refund) -> Refund:
    """Ask the provider for a reserved automatic refund (or again, after a failure): the same
    key every time, so the payment is refunded once. Logs the outcome with the order number;
    raises ``PaymentError`` when the provider failed (the refund stays pending)."""
    order = session.get(Order, refund.order_id)
    extra = {"order_number": order.number, "payment_reference": "-", "payment_alarm": "paid_after_cancel"}
    try:
        done = refund_order(kernel, session, order, refund.amount, refund.idempotency_key,
                            reason=AUTO_REFUND_REASON)
    except PaymentError as exc:
        log.error("automatic refund of %s for cancelled order %s failed, retried later: %s",
                  refund.amount, order.number, exc.__cause__ or exc, extra=extra)
        raise
    log.warning("automatic refund of %s for cancelled order %s succeeded (%s)",
                done.amount, order.number, done.provider_reference, extra=extra)
    return done


def pending_auto_refunds(session: Session, payment_id: int | None = None) -> list[Refund]:
    query = select(Refund).where(Refund.status == RefundStatus.PENDING.value,
                                 Refund.idempotency_key.like("auto-refund-%"))
    if payment_id is not None:
        query = query.where(Refund.payment_id == payment_id)
    return list(session.scalars(query.order_by(Refund.id)))


def _lock(session: Session, order: Order) -> Order:
    return session.scalar(select(Order).where(Order.id == order.id).with_for_update()
                          .execution_options(populate_existing=True))


def _known(session: Session, payment: Payment) -> int:
    """What refunds of ``payment`` (pending or succeeded) already return."""
    return session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment.id,
        Refund.status.in_([RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value])))
