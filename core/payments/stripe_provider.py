"""Stripe PaymentIntents with the Card Element and ``confirmCardPayment``.

The order is marked paid only by the signed ``payment_intent.succeeded`` webhook, never by
the browser. ``STRIPE_API_BASE`` points the SDK at localstripe in development and tests.
"""
from __future__ import annotations

import stripe

from siyu.core.errors import InvalidTransition, ProviderUnavailable
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Payment, PaymentStatus

#: Errors that mean Stripe could not be asked or failed on its side: retry later (503).
OUTAGE = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def client(config) -> stripe.StripeClient:
    base = config.get("STRIPE_API_BASE") or None
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base} if base else None,
        max_network_retries=2,
    )


class StripeProvider:
    name = "stripe"
    kind = "card"
    label = _l("Card")

    def available(self, config) -> bool:
        return bool(config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY"))

    def start(self, kernel, session, order) -> Payment:
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

    def confirm(self, kernel, payment, payment_method: str) -> dict:
        """Attach the card the shopper entered and confirm the intent on the server.

        Returns ``{"status", "client_secret", "error"}``; ``requires_action`` means the
        browser must finish authentication (3-D Secure) with ``confirmCardPayment``.
        The order itself changes only when the signed webhook arrives.
        A cancelled intent cannot be confirmed: that answers ``InvalidTransition`` (409).
        """
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
                return self._status(stripe_client, payment.reference)
            except Exception as exc:  # noqa: BLE001
                raise ProviderUnavailable(_l("The payment service did not answer. Please try again.")) from exc
        except Exception as exc:  # noqa: BLE001 - an outage, a timeout, a refused key
            raise ProviderUnavailable(_l("The payment service did not answer. Please try again.")) from exc

    @staticmethod
    def _status(stripe_client, reference: str) -> str:
        return stripe_client.v1.payment_intents.retrieve(reference).status
