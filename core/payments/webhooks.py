"""Stripe webhook processing: verify, then fulfil each event id exactly once.

The signature is checked on the raw body before anything touches the database. The event
id is recorded in the same transaction as the fulfilment, so a replayed or concurrently
delivered event changes nothing the second time.

A success that lands on an order cancelled meanwhile ("paid after cancel") is kept as a fact:
the payment is marked succeeded, a payment alarm is raised (logged at ERROR on
``siyu.payments`` with the order number, and shown in the back office) and the money is
refunded automatically, once (``auto-refund-<payment id>``), right after the commit. If the
provider fails that refund, the webhook answers 503: the provider delivers the event again
and the redelivery (a duplicate) retries the pending refund with the same key.
"""
from __future__ import annotations

import json
import logging
import time

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core.db import utcnow, write_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.errors import PaymentError, ProviderUnavailable, SiyuError
from siyu.core.models import Order, Payment, PaymentStatus, Refund, WebhookEvent
from siyu.core.orders import mark_paid, payment_failed
from siyu.core.payments import alarms
from siyu.core.refunds import (
    pending_auto_refunds, record_provider_refund, reserve_auto_refund, send_auto_refund,
)

log = logging.getLogger("siyu.payments")
HANDLED = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded")
#: Intent states in which a failure event is stale: the payment went through after all.
NOT_FAILED = ("succeeded", "processing", "requires_capture")


class SignatureError(SiyuError):
    code = "signature"
    status = 400


class AmountMismatch(SiyuError):
    code = "amount-mismatch"
    status = 409


#: A pending automatic refund is retried by a redelivery once it failed, or once it is this
#: old (its first attempt may have died with its process); a younger one is still in flight.
RETRY_AFTER_SECONDS = 60


def verify(payload: bytes, header: str | None, secret: str, tolerance: int = 300) -> dict:
    """Return the event as a dict, or raise ``SignatureError``.

    Stripe's SDK refuses timestamps older than the tolerance; we also refuse ones further
    in the future, so a captured request cannot be pre-dated and replayed later.
    """
    if not secret:
        raise SignatureError(_l("Webhook secret is not configured."))
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
        timestamp = int(dict(p.split("=", 1) for p in header.split(",") if "=" in p)["t"])
        if timestamp > time.time() + tolerance:
            raise SignatureError(_l("Webhook timestamp is in the future."))
        event = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise SignatureError(_l("Invalid signature.")) from exc
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise SignatureError(_l("Malformed webhook.")) from exc
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise SignatureError(_l("Malformed webhook."))
    return event


def process_event(kernel, session: Session, event: dict) -> str:
    """Fulfil one verified event; returns ``processed``, ``duplicate`` or ``ignored``.

    Raises ``ProviderUnavailable`` (503: deliver again) when the provider could not be asked
    about a failed intent (nothing recorded), or when an automatic refund could not be made
    (the event is recorded; the redelivery retries the refund).
    """
    if event["type"] not in HANDLED:
        return "ignored"
    current = _failure_check(kernel, session, event) if event["type"] == "payment_intent.payment_failed" else None
    duplicate, refunds = False, []
    try:
        with write_transaction(session):
            if session.scalar(select(WebhookEvent.id).where(
                    WebhookEvent.provider == "stripe", WebhookEvent.event_id == event["id"])):
                duplicate = True
            else:
                session.add(WebhookEvent(provider="stripe", event_id=event["id"], type=event["type"]))
                session.flush()  # claim the event id first: a concurrent delivery waits here
                refunds = _fulfil(kernel, session, event, current)
    except IntegrityError:
        duplicate = True
    if duplicate:
        _retry_refunds(kernel, session, event)
        return "duplicate"
    _send_refunds(kernel, session, refunds)
    return "processed"


def _reference(event: dict) -> str:
    obj = event.get("data", {}).get("object", {})
    return str((obj.get("payment_intent") if event["type"] == "charge.refunded" else obj.get("id")) or "")


def _failure_check(kernel, session: Session, event: dict) -> str | None:
    """Before a failure event cancels an order: where the intent stands now and, if it did
    fail, cancel it at the provider first, so no later attempt can pay a cancelled order.
    Outside any transaction.

    Stripe delivers events in no particular order: a failure may arrive after a later
    success. Returns the intent's state (``canceled`` once stopped), or ``None`` when the
    provider cannot be asked (no API key), in which case the event is trusted. When the
    provider does not answer, raises a payment alarm and ``ProviderUnavailable``.
    """
    provider = kernel.payment_providers.get("stripe")
    reference = _reference(event)
    if provider is None or not reference:
        return None
    payment = session.scalar(select(Payment).where(Payment.provider == "stripe", Payment.reference == reference)
                             .execution_options(populate_existing=True))
    if session.in_transaction():
        session.commit()  # no transaction stays open across the provider calls
    if payment is None or payment.status != PaymentStatus.PENDING.value:
        return None  # not ours, or settled already: the event changes nothing either way
    try:
        current = provider.intent_status(kernel, reference) if hasattr(provider, "intent_status") else None
        if current not in NOT_FAILED and hasattr(provider, "cancel"):
            current = provider.cancel(kernel, payment) or current
    except Exception as exc:  # network or API error: let the provider deliver again later
        alarms.intent_unreadable(kernel, session, payment, exc.__cause__ or exc)
        raise ProviderUnavailable(_l("The payment provider could not be reached; retry later.")) from exc
    alarms.intent_readable(session, payment)
    return current


def _fulfil(kernel, session: Session, event: dict, current: str | None) -> list[int]:
    """Apply the event; returns the ids of automatic refunds to send after commit."""
    obj = event.get("data", {}).get("object", {})
    reference = _reference(event)
    fresh = {"populate_existing": True}  # the row as it is now, not as this session last saw it
    payment = session.scalar(select(Payment).where(
        Payment.provider == "stripe", Payment.reference == reference).execution_options(**fresh))
    if payment is None:
        return []  # not one of ours (another app on the same Stripe account)
    order = session.scalar(select(Order).where(Order.id == payment.order_id).execution_options(**fresh))
    if event["type"] == "payment_intent.succeeded":
        return _succeeded(kernel, session, order, payment, obj.get("amount_received", obj.get("amount")))
    if event["type"] == "charge.refunded":
        # A refunded charge was paid first, whatever order the events arrive in.
        refunded = (int(obj.get("amount_refunded") or 0), str(obj.get("id", reference)))
        refunds = _succeeded(kernel, session, order, payment, obj.get("amount_captured", obj.get("amount")),
                             refunded)
        record_provider_refund(kernel, session, order, payment, *refunded)
        return refunds
    if event["type"] == "payment_intent.payment_failed" and payment.status == "pending":
        error = obj.get("last_payment_error") or {}
        if current in NOT_FAILED:
            log.info("stale failure for %s: the intent is %s now", payment.reference, current)
            return []  # an earlier attempt failed; the success event settles the order
        payment_failed(kernel, session, payment, error.get("message") or "card declined")
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


def _retry_refunds(kernel, session: Session, event: dict) -> None:
    """A redelivered event: retry the payment's automatic refunds that failed (or stalled)."""
    reference = _reference(event)
    if not reference:
        return
    payment_id = session.scalar(select(Payment.id).where(Payment.provider == "stripe",
                                                         Payment.reference == reference))
    if payment_id is None:
        return
    now = utcnow()
    due = [r.id for r in pending_auto_refunds(session, payment_id)
           if r.last_error or (now - r.created_at).total_seconds() >= RETRY_AFTER_SECONDS]
    _send_refunds(kernel, session, due)
