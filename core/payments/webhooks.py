"""Stripe webhook processing: verify, then fulfil each event id exactly once.

The signature is checked on the raw body before anything touches the database. The event
id is recorded in the same transaction as the fulfilment, so a replayed or concurrently
delivered event changes nothing the second time.
"""
from __future__ import annotations

import json
import logging
import time

import stripe
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core.db import write_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.errors import SiyuError
from siyu.core.models import Order, Payment, PaymentStatus, WebhookEvent
from siyu.core.orders import mark_paid, payment_failed
from siyu.core.refunds import record_provider_refund

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


class ProviderUnavailable(SiyuError):
    """The provider could not be asked; the event is not recorded, so it is delivered again."""

    code = "provider-unavailable"
    status = 503


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
    """Fulfil one verified event; returns ``processed``, ``duplicate`` or ``ignored``."""
    if event["type"] not in HANDLED:
        return "ignored"
    current = _intent_status(kernel, event) if event["type"] == "payment_intent.payment_failed" else None
    try:
        with write_transaction(session):
            if session.scalar(select(WebhookEvent.id).where(
                    WebhookEvent.provider == "stripe", WebhookEvent.event_id == event["id"])):
                return "duplicate"
            session.add(WebhookEvent(provider="stripe", event_id=event["id"], type=event["type"]))
            session.flush()  # claim the event id first: a concurrent delivery waits here
            failed_payment = _fulfil(kernel, session, event, current)
    except IntegrityError:
        return "duplicate"
    if failed_payment is not None:
        # The order is cancelled: make sure the intent can never be paid later.
        kernel.payment_providers["stripe"].cancel(kernel, failed_payment)
    return "processed"


def _intent_status(kernel, event: dict) -> str | None:
    """Ask the provider where a failed intent stands now, outside any transaction.

    Stripe delivers events in no particular order: a failure may arrive after a later
    success. Returns ``None`` when the provider cannot be asked (no API key), in which case
    the event is trusted.
    """
    provider = kernel.payment_providers.get("stripe")
    reference = str(event.get("data", {}).get("object", {}).get("id", ""))
    if provider is None or not hasattr(provider, "intent_status") or not reference:
        return None
    try:
        return provider.intent_status(kernel, reference)
    except Exception as exc:  # network or API error: let the provider deliver again later
        log.warning("could not read payment intent %s: %s", reference, exc)
        raise ProviderUnavailable(_l("The payment provider could not be reached; retry later.")) from exc


def _fulfil(kernel, session: Session, event: dict, current: str | None) -> Payment | None:
    """Apply the event; returns the payment when it failed (to cancel its intent after commit)."""
    obj = event.get("data", {}).get("object", {})
    reference = obj.get("payment_intent") if event["type"] == "charge.refunded" else obj.get("id")
    fresh = {"populate_existing": True}  # the row as it is now, not as this session last saw it
    payment = session.scalar(select(Payment).where(
        Payment.provider == "stripe", Payment.reference == str(reference or "")).execution_options(**fresh))
    if payment is None:
        return None  # not one of ours (another app on the same Stripe account)
    order = session.scalar(select(Order).where(Order.id == payment.order_id).execution_options(**fresh))
    if event["type"] == "payment_intent.succeeded":
        _succeeded(kernel, session, order, payment, obj.get("amount_received", obj.get("amount")))
    elif event["type"] == "charge.refunded":
        # A refunded charge was paid first, whatever order the events arrive in.
        _succeeded(kernel, session, order, payment, obj.get("amount_captured", obj.get("amount")))
        refunded = int(obj.get("amount_refunded") or 0)
        if not order.is_paid and refunded >= payment.amount:
            payment.last_error = "paid after the order was cancelled; refunded at the provider"
        record_provider_refund(kernel, session, order, payment, refunded, str(obj.get("id", reference)))
    elif event["type"] == "payment_intent.payment_failed" and payment.status == "pending":
        error = obj.get("last_payment_error") or {}
        if current in NOT_FAILED:
            log.info("stale failure for %s: the intent is %s now", payment.reference, current)
            return None  # an earlier attempt failed; the success event settles the order
        if payment_failed(kernel, session, payment, error.get("message") or "card declined"):
            return payment
    return None


def _succeeded(kernel, session: Session, order: Order, payment: Payment, amount) -> None:
    if order.is_paid:
        return  # a replay, or the success already arrived with another event
    if amount != order.total:
        raise AmountMismatch(_l("Paid amount does not match the order total."))
    if mark_paid(kernel, session, order, payment):
        return
    session.refresh(order)  # another delivery may have paid it while this one waited
    if not order.is_paid:
        # Money arrived for an order that was cancelled meanwhile: keep the fact and
        # flag it for a refund from the back office; the order does not move backwards.
        payment.status = PaymentStatus.SUCCEEDED.value
        payment.last_error = "paid after the order was cancelled: refund this payment"
        log.error("payment %s succeeded for cancelled order %s", payment.reference, order.number)
