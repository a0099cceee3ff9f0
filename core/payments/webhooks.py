"""Payment notifications: a gateway verifies and translates, the core fulfils each event once.

``/webhooks/<gateway>`` hands the raw body and headers to the gateway's
``parse_notification``, which checks the signature before anything touches the database and
returns ``GatewayEvent`` values. The event id is recorded in the same transaction as the
fulfilment, so a replayed or concurrently delivered event changes nothing the second time.

A success that lands on an order cancelled meanwhile ("paid after cancel") is kept as a fact:
the payment is marked succeeded, a payment alarm is raised (logged at ERROR on
``siyu.payments`` with the order number, and shown in the back office) and the money is
refunded automatically, once (``auto-refund-<payment id>``), right after the commit. If the
gateway fails that refund, the notification is answered "deliver again": the redelivery (a
duplicate) retries the pending refund with the same key.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core.db import utcnow, write_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.errors import PaymentError, ProviderUnavailable, SiyuError
from siyu.core.models import Order, Payment, PaymentStatus, Refund, WebhookEvent
from siyu.core.orders import mark_paid, payment_failed
from siyu.core.payments import alarms
from siyu.core.payments.gateway import GatewayEvent, SignatureError
from siyu.core.refunds import (
    pending_auto_refunds, record_provider_refund, reserve_auto_refund, send_auto_refund,
)

log = logging.getLogger("siyu.payments")
#: States in which a failure event is stale: the payment went through after all.
NOT_FAILED = ("succeeded", "processing")
__all__ = ["SignatureError", "AmountMismatch", "process"]


class AmountMismatch(SiyuError):
    code = "amount-mismatch"
    status = 409


#: A pending automatic refund is retried by a redelivery once it failed, or once it is this
#: old (its first attempt may have died with its process); a younger one is still in flight.
RETRY_AFTER_SECONDS = 60


def process(kernel, session: Session, gateway: str, event: GatewayEvent) -> str:
    """Fulfil one verified event of ``gateway``; returns ``processed``, ``duplicate`` or ``ignored``.

    Raises ``ProviderUnavailable`` (deliver again) when the gateway could not be asked about a
    failed payment (nothing recorded), or when an automatic refund could not be made (the
    event is recorded; the redelivery retries the refund).
    """
    if event.kind == "ignored" or not event.reference:
        return "ignored"
    current = _failure_check(kernel, session, gateway, event) if event.kind == "failed" else None
    duplicate, refunds = False, []
    try:
        with write_transaction(session):
            if session.scalar(select(WebhookEvent.id).where(
                    WebhookEvent.provider == gateway, WebhookEvent.event_id == event.event_id)):
                duplicate = True
            else:
                session.add(WebhookEvent(provider=gateway, event_id=event.event_id[:255],
                                         type=(event.type or event.kind)[:100]))
                session.flush()  # claim the event id first: a concurrent delivery waits here
                refunds = _fulfil(kernel, session, gateway, event, current)
    except IntegrityError:
        duplicate = True
    if duplicate:
        _retry_refunds(kernel, session, gateway, event)
        return "duplicate"
    _send_refunds(kernel, session, refunds)
    return "processed"


def _failure_check(kernel, session: Session, gateway: str, event: GatewayEvent) -> str | None:
    """Before a failure event cancels an order: where the payment stands now at the gateway and,
    if it did fail, cancel it there first, so no later attempt can pay a cancelled order.
    Outside any transaction.

    Gateways deliver events in no particular order: a failure may arrive after a later
    success. Returns the payment's state (``canceled`` once stopped), or ``None`` when the
    gateway cannot be asked (no API key), in which case the event is trusted. When the
    gateway does not answer, raises a payment alarm and ``ProviderUnavailable``.
    """
    provider = kernel.payment_providers.get(gateway)
    if provider is None:
        return None
    payment = session.scalar(select(Payment).where(Payment.provider == gateway, Payment.reference == event.reference)
                             .execution_options(populate_existing=True))
    if session.in_transaction():
        session.commit()  # no transaction stays open across the gateway calls
    if payment is None or payment.status != PaymentStatus.PENDING.value:
        return None  # not ours, or settled already: the event changes nothing either way
    try:
        current = provider.query(kernel, payment)
        if current not in NOT_FAILED:
            current = provider.cancel(kernel, payment) or current
    except Exception as exc:  # network or API error: let the gateway deliver again later
        alarms.intent_unreadable(kernel, session, payment, exc.__cause__ or exc)
        raise ProviderUnavailable(_l("The payment provider could not be reached; retry later.")) from exc
    alarms.intent_readable(session, payment)
    return current


def _fulfil(kernel, session: Session, gateway: str, event: GatewayEvent, current: str | None) -> list[int]:
    """Apply the event; returns the ids of automatic refunds to send after commit."""
    fresh = {"populate_existing": True}  # the row as it is now, not as this session last saw it
    payment = session.scalar(select(Payment).where(
        Payment.provider == gateway, Payment.reference == event.reference).execution_options(**fresh))
    if payment is None:
        return []  # not one of ours (another shop on the same merchant account)
    order = session.scalar(select(Order).where(Order.id == payment.order_id).execution_options(**fresh))
    if event.kind == "succeeded":
        return _succeeded(kernel, session, order, payment, event.amount)
    if event.kind == "refunded":
        # A refunded payment was paid first, whatever order the events arrive in.
        refunded = (int(event.refunded_total or 0), event.refund_reference or event.reference)
        refunds = _succeeded(kernel, session, order, payment, event.amount, refunded)
        record_provider_refund(kernel, session, order, payment, *refunded)
        return refunds
    if event.kind == "failed" and payment.status == PaymentStatus.PENDING.value:
        if current in NOT_FAILED:
            log.info("stale failure for %s: the payment is %s now", payment.reference, current)
            return []  # an earlier attempt failed; the success event settles the order
        payment_failed(kernel, session, payment, event.message or "payment failed")
    return []


def _succeeded(kernel, session: Session, order: Order, payment: Payment, amount,
               refunded: tuple[int, str] | None = None) -> list[int]:
    if order.is_paid:
        return []  # a replay, or the success already arrived with another event
    if amount != order.total:
        raise AmountMismatch(_l("Paid amount does not match the order total."))
    if mark_paid(kernel, session, order, payment):
        return []
    session.refresh(order)  # another delivery may have paid it while this one waited
    if order.is_paid:
        return []
    return _paid_after_cancel(kernel, session, order, payment, refunded)


def _paid_after_cancel(kernel, session: Session, order: Order, payment: Payment,
                       refunded: tuple[int, str] | None) -> list[int]:
    """Money arrived for an order that was cancelled meanwhile. The order does not move
    backwards (its stock is back on sale): keep the fact, raise the alarm and refund what no
    refund covers yet (a refund made at the provider counts)."""
    payment.status = PaymentStatus.SUCCEEDED.value
    payment.last_error = "paid after the order was cancelled: the shop refunds it automatically"
    if refunded is not None:
        record_provider_refund(kernel, session, order, payment, *refunded)
    refund = reserve_auto_refund(session, order, payment)
    if refund is None:  # refunded at the provider already: link the latest refund
        refund = session.scalar(select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id.desc()))
    message = (f"paid after the order was cancelled: {payment.amount} {payment.currency} taken by "
               f"{payment.provider} ({payment.reference}); refunded automatically")
    _alarm, new = alarms.raise_alarm(session, alarms.PAID_AFTER_CANCEL, order, payment, message, refund)
    if new:
        log.error("paid after cancel: order %s was cancelled but payment %s took %s %s; refunding it "
                  "automatically", order.number, payment.reference, payment.amount, payment.currency,
                  extra=alarms.log_extra(order, payment, alarms.PAID_AFTER_CANCEL))
    return [refund.id] if refund is not None and refund.status == "pending" else []


def _send_refunds(kernel, session: Session, refund_ids: list[int]) -> None:
    failed = None
    for refund_id in refund_ids:
        refund = session.get(Refund, refund_id)
        if refund is None or refund.status != "pending":
            continue
        try:
            send_auto_refund(kernel, session, refund)
        except PaymentError as exc:
            failed = exc
    if failed is not None:
        raise ProviderUnavailable(_l("The automatic refund could not be made yet; it is retried.")) from failed


def _retry_refunds(kernel, session: Session, gateway: str, event: GatewayEvent) -> None:
    """A redelivered event: retry the payment's automatic refunds that failed (or stalled)."""
    payment_id = session.scalar(select(Payment.id).where(Payment.provider == gateway,
                                                         Payment.reference == event.reference))
    if payment_id is None:
        return
    now = utcnow()
    due = [r.id for r in pending_auto_refunds(session, payment_id)
           if r.last_error or (now - r.created_at).total_seconds() >= RETRY_AFTER_SECONDS]
    _send_refunds(kernel, session, due)
