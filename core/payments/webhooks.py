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

log = logging.getLogger("siyu.payments")
HANDLED = ("payment_intent.succeeded", "payment_intent.payment_failed")


class SignatureError(SiyuError):
    code = "signature"
    status = 400


class AmountMismatch(SiyuError):
    code = "amount-mismatch"
    status = 409


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
    try:
        with write_transaction(session):
            if session.scalar(select(WebhookEvent.id).where(
                    WebhookEvent.provider == "stripe", WebhookEvent.event_id == event["id"])):
                return "duplicate"
            session.add(WebhookEvent(provider="stripe", event_id=event["id"], type=event["type"]))
            session.flush()  # claim the event id first: a concurrent delivery waits here
            failed_payment = _fulfil(kernel, session, event)
    except IntegrityError:
        return "duplicate"
    if failed_payment is not None:
        # The order is cancelled: make sure the intent can never be paid later.
        kernel.payment_providers["stripe"].cancel(kernel, failed_payment)
    return "processed"


def _fulfil(kernel, session: Session, event: dict) -> Payment | None:
    """Apply the event; returns the payment when it failed (to cancel its intent after commit)."""
    intent = event.get("data", {}).get("object", {})
    payment = session.scalar(select(Payment).where(
        Payment.provider == "stripe", Payment.reference == str(intent.get("id", ""))))
    if payment is None:
        return None  # not one of ours (another app on the same Stripe account)
    order = session.get(Order, payment.order_id)
    if event["type"] == "payment_intent.succeeded":
        if intent.get("amount_received", intent.get("amount")) != order.total:
            raise AmountMismatch(_l("Paid amount does not match the order total."))
        if not mark_paid(kernel, session, order, payment) and not order.is_paid:
            # Money arrived for an order that was cancelled meanwhile: keep the fact and
            # flag it for a refund from the back office; the order does not move backwards.
            payment.status = PaymentStatus.SUCCEEDED.value
            payment.last_error = "paid after the order was cancelled: refund this payment"
            log.error("payment %s succeeded for cancelled order %s", payment.reference, order.number)
    elif event["type"] == "payment_intent.payment_failed" and payment.status == "pending":
        error = intent.get("last_payment_error") or {}
        payment_failed(kernel, session, payment, error.get("message") or "card declined")
        return payment
    return None
