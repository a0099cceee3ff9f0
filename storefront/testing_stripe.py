"""Card payments in tests, through localstripe (a fake Stripe on 127.0.0.1).

``pay_by_card`` does what the pay page's script and Stripe do: the card is confirmed on the
server against localstripe, then Stripe's signed webhook reaches ``/webhooks/stripe`` — posted
through the test client (no live server needed), or, with ``webhook=False``, left to localstripe
itself (a ``siyu_live_server`` registered with ``devstripe.register_webhook``) and waited for.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid

from sqlalchemy import select

from siyu.storefront.testing_kit import CSRF, fresh
from siyu.storefront.testing_pg import port_from_env

DATA_CSRF = re.compile(r'data-csrf="([^"]+)"')
FINAL = {"paid", "cancelled"}


def sign_event(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``payload``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def deliver_intent_event(app, intent) -> None:
    """Post Stripe's event for ``intent``'s outcome, signed with the shop's secret, to the webhook."""
    kind = {"succeeded": "payment_intent.succeeded"}.get(intent["status"], "payment_intent.payment_failed")
    event = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind, "created": int(time.time()),
             "data": {"object": intent}}
    payload = json.dumps(event).encode()
    signature = sign_event(payload, app.config["STRIPE_WEBHOOK_SECRET"])
    # A client of its own: Stripe carries no shopper's cookies.
    response = app.test_client().post("/webhooks/stripe", data=payload, headers={
        "Content-Type": "application/json", "Stripe-Signature": signature})
    assert response.status_code < 300, response.get_data(as_text=True)[:500]


def pay_by_card(client, session, order, card: str = "pm_card_visa", *, webhook: bool = True,
                timeout: float = 20):
    """Pay ``order`` by card as its shopper (``client``, signed in) does on the pay page, and
    return the order once the webhook has landed (paid, or cancelled for a declined card).

    ``card`` is a Stripe test payment method (``pm_card_visa``; ``pm_card_chargeCustomerFail``
    is declined). The app needs ``siyu_stripe_config`` in its configuration.
    """
    from siyu.core.models import Order, Payment
    from siyu.core.payments.stripe_provider import client as stripe_client

    html = client.get(f"/orders/{order.number}/pay").get_data(as_text=True)
    match = DATA_CSRF.search(html) or CSRF.search(html)
    assert match, f"no pay page for order {order.number}: {html[:500]}"
    token = next(group for group in match.groups() if group)
    response = client.post(f"/orders/{order.number}/pay", json={"payment_method": card},
                           headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code in (200, 402), response.get_data(as_text=True)[:500]
    app = client.application
    if webhook:
        payment = fresh(session).scalar(select(Payment).where(Payment.order_id == order.id)
                                        .order_by(Payment.id.desc()))
        intent = stripe_client(app.config).v1.payment_intents.retrieve(payment.reference)
        deliver_intent_event(app, intent.to_dict())
    deadline = time.monotonic() + timeout
    while True:
        current = fresh(session).get(Order, order.id)
        if current.status in FINAL or time.monotonic() > deadline:
            return current
        time.sleep(0.1)


def localstripe_port() -> int | None:
    """``SIYU_TEST_LOCALSTRIPE_PORT``, when the tests' localstripe must listen on a given port."""
    return port_from_env("SIYU_TEST_LOCALSTRIPE_PORT")
