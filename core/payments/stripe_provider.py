"""Stripe PaymentIntents with the Card Element and ``confirmCardPayment``.

The order is marked paid only by the signed ``payment_intent.succeeded`` webhook, never by
the browser. ``STRIPE_API_BASE`` points the SDK at localstripe in development and tests.
"""
from __future__ import annotations

import stripe

from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Payment, PaymentStatus


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
                "description": f"Order {order.number}",
            },
            options={"idempotency_key": f"siyu-pi-{order.number}"},
        )
        payment = Payment(order_id=order.id, provider=self.name, reference=intent.id,
                          amount=order.total, currency=order.currency,
                          client_secret=intent.client_secret, status=PaymentStatus.PENDING.value)
        session.add(payment)
        return payment

    def refund(self, kernel, payment, refund) -> str:
        result = client(kernel.config).v1.refunds.create(
            params={"payment_intent": payment.reference, "amount": refund.amount},
            options={"idempotency_key": refund.idempotency_key},
        )
        return result.id

    def cancel(self, kernel, payment) -> None:
        """Best effort: a cancelled order's intent can no longer be paid."""
        try:
            client(kernel.config).v1.payment_intents.cancel(payment.reference)
        except stripe.StripeError:
            pass
