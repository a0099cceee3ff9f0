"""Stripe PaymentIntents with the Card Element and ``confirmCardPayment``.

The order is marked paid only by the signed ``payment_intent.succeeded`` webhook, never by
the browser. ``STRIPE_API_BASE`` points the SDK at localstripe in development and tests.
"""
from __future__ import annotations

import json
import re
import time
from typing import Any, Mapping

import stripe

from siyu.core.errors import InvalidTransition, ProviderUnavailable, ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Payment, PaymentStatus
from siyu.core.payments.gateway import (
    DESKTOP, ClientEnvironment, GatewayEvent, GatewaySupport, NotificationReply, PayAction, SignatureError,
)

#: Errors that mean Stripe could not be asked or failed on its side: retry later (503).
OUTAGE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)
#: A PaymentIntent's status in the gateway contract's words (siyu.core.payments.gateway).
STATES = {"succeeded": "succeeded", "processing": "processing", "requires_capture": "processing",
          "canceled": "canceled", "requires_payment_method": "pending", "requires_confirmation": "pending",
          "requires_action": "pending"}
PAYMENT_METHOD = re.compile(r"(pm|card|src)_[A-Za-z0-9_]{1,200}")


def client(config) -> stripe.StripeClient:
    base = config.get("STRIPE_API_BASE") or None
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        max_network_retries=2,
    )


class StripeProvider:
    name = "stripe"
    label = _l("Card")
    supports = GatewaySupport()  # any currency Stripe takes, partial refunds, every browser

    def available(self, config) -> bool:
        return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY"))

    def reservation_minutes(self, config) -> int | None:
        return None  # the shop's default: a card is paid in minutes

    def pay_action(self, kernel, payment: Payment, environment: ClientEnvironment) -> PayAction:
        """The Card Element on the pay page; the card is confirmed on the server (``confirm``)."""
        return PayAction("widget", template="checkout/pay_card.html", script=kernel.config["STRIPE_JS_URL"],
                         data={"publishable_key": kernel.config["STRIPE_PUBLISHABLE_KEY"],
                               "client_secret": payment.client_secret})

    def parse_notification(self, kernel, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        event = verify(body, headers.get("Stripe-Signature"), kernel.config["STRIPE_WEBHOOK_SECRET"],
                       int(kernel.config["WEBHOOK_TOLERANCE"]))
        return [translate(event)]

    def reply(self, ok: bool, message: str = "") -> NotificationReply:
        return NotificationReply()  # any 2xx is success to Stripe: the shop's own JSON answer will do

    def query(self, kernel, payment: Payment) -> str | None:
        status = self.intent_status(kernel, payment.reference)
        return STATES.get(status, status) if status else None

    def start(self, kernel, session, order, environment: ClientEnvironment = DESKTOP) -> Payment:
        intent = client(kernel.config).v1.payment_intents.create(
            params={
                "amount": order.total,
                "currency": order.currency.lower(),
                "payment_method_types": ["card"],
                "metadata": {"order_id": str(order.id), "order_number": order.number},
            },
            options={"idempotency_key": f"siyu-pi-{order.number}"},
        )
        payment = Payment(order_id=order.id, provider=self.name, reference=intent.id,
                          amount=order.total, currency=order.currency,
                          client_secret=intent.client_secret, status=PaymentStatus.PENDING.value)
        session.add(payment)
        return payment

    def confirm(self, kernel, payment, data: Mapping[str, Any]) -> dict:
        """Attach the card the shopper entered (``data["payment_method"]``) and confirm the
        intent on the server.

        Returns ``{"status", "client_secret", "error"}``; ``requires_action`` means the
        browser must finish authentication (3-D Secure) with ``confirmCardPayment``.
        The order itself changes only when the signed webhook arrives.
        A cancelled intent cannot be confirmed: that answers ``InvalidTransition`` (409).
        """
        payment_method = str(data.get("payment_method", ""))
        if not PAYMENT_METHOD.fullmatch(payment_method):
            raise ValidationError(_l("The card details could not be read. Please try again."),
                                  fields={"payment_method": "invalid"})
        stripe_client = client(kernel.config)
        try:
            stripe_client.v1.payment_intents.update(payment.reference,
                                                    params={"payment_method": payment_method})
            intent = stripe_client.v1.payment_intents.confirm(payment.reference)
        except stripe.CardError as exc:
            return {"status": "failed", "client_secret": payment.client_secret,
                    "error": exc.user_message or "card declined"}
        except stripe.InvalidRequestError:
            if self._status(stripe_client, payment.reference) == "canceled":
                raise InvalidTransition(_l("This order was cancelled; it can no longer be paid.")) from None
            raise
        except OUTAGE as exc:
            raise ProviderUnavailable(_l("The payment service did not answer. Please try again.")) from exc
        return {"status": intent.status, "client_secret": payment.client_secret, "error": None}

    def refund(self, kernel, payment, refund, retry: bool = False) -> str:
        """Refund once per ``refund.idempotency_key``.

        Stripe deduplicates by the idempotency key; on a retry we also look for a refund
        carrying our key in its metadata first, so a response lost to a timeout never
        becomes a second refund even where keys are not honoured (as with localstripe).
        """
        stripe_client = client(kernel.config)
        if retry:
            existing = self._find(stripe_client, payment.reference, refund.idempotency_key)
            if existing is not None:
                return existing
        result = stripe_client.v1.refunds.create(
            params={"payment_intent": payment.reference, "amount": refund.amount,
                    "metadata": {"siyu_refund_key": refund.idempotency_key}},
            options={"idempotency_key": refund.idempotency_key},
        )
        return result.id

    @staticmethod
    def _find(stripe_client, intent_id: str, key: str) -> str | None:
        try:
            page = stripe_client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
        except stripe.InvalidRequestError:  # servers without the filter: scan recent refunds
            page = stripe_client.v1.refunds.list(params={"limit": 100})
        for item in (entry.to_dict() for entry in page.data):
            if (item.get("metadata") or {}).get("siyu_refund_key") == key \
                    and item.get("payment_intent") == intent_id:
                return item["id"]
        return None

    def intent_status(self, kernel, reference: str) -> str | None:
        """The intent's status at Stripe now (``succeeded``, ``requires_payment_method``...);
        ``None`` without an API key. Errors propagate: the caller retries later."""
        if not kernel.config.get("STRIPE_SECRET_KEY"):
            return None
        return client(kernel.config).v1.payment_intents.retrieve(reference).status

    def cancel(self, kernel, payment) -> str | None:
        """Cancel the payment's intent so it can never be paid; returns ``canceled``, or the
        intent's state when Stripe refuses because the money is taken or being taken
        (``succeeded``, ``processing``, ``requires_capture``). ``None`` without an API key.
        Raises ``ProviderUnavailable`` when Stripe could not be asked: the caller must not
        cancel the order then."""
        if not kernel.config.get("STRIPE_SECRET_KEY"):
            return None
        stripe_client = client(kernel.config)
        try:
            stripe_client.v1.payment_intents.cancel(payment.reference)
            return "canceled"
        except stripe.InvalidRequestError:  # not cancellable in its state: which one?
            try:
                status = self._status(stripe_client, payment.reference)
                return STATES.get(status, status)
            except Exception as exc:  # noqa: BLE001
                raise ProviderUnavailable(_l("The payment service did not answer. Please try again.")) from exc
        except Exception as exc:  # noqa: BLE001 - an outage, a timeout, a refused key
            raise ProviderUnavailable(_l("The payment service did not answer. Please try again.")) from exc

    @staticmethod
    def _status(stripe_client, reference: str) -> str:
        return stripe_client.v1.payment_intents.retrieve(reference).status


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


def translate(event: Mapping[str, Any]) -> GatewayEvent:
    """A verified Stripe event in the gateway contract's terms."""
    obj = (event.get("data") or {}).get("object") or {}
    kind, event_id = event["type"], str(event["id"])
    if kind == "payment_intent.succeeded":
        return GatewayEvent(event_id, "succeeded", str(obj.get("id") or ""),
                            amount=obj.get("amount_received", obj.get("amount")), type=kind)
    if kind == "payment_intent.payment_failed":
        error = obj.get("last_payment_error") or {}
        return GatewayEvent(event_id, "failed", str(obj.get("id") or ""),
                            message=str(error.get("message") or "card declined"), type=kind)
    if kind == "charge.refunded":
        # A refunded charge was paid first, whatever order the events arrive in.
        return GatewayEvent(event_id, "refunded", str(obj.get("payment_intent") or ""),
                            amount=obj.get("amount_captured", obj.get("amount")),
                            refunded_total=int(obj.get("amount_refunded") or 0),
                            refund_reference=str(obj.get("id") or obj.get("payment_intent") or ""), type=kind)
    return GatewayEvent(event_id, "ignored", "", type=kind)


def process_event(kernel, session, event: Mapping[str, Any]) -> str:
    """A verified Stripe event (the dict ``/webhooks/stripe`` receives), fulfilled as any
    gateway's notification is (``siyu.core.payments.webhooks.process``)."""
    from siyu.core.payments.webhooks import process

    return process(kernel, session, StripeProvider.name, translate(event))
