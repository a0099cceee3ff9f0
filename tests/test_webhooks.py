"""Stripe webhooks on the test client: signatures, idempotency, failure handling."""
import time

import pytest
from conftest import fresh, make_product
from sqlalchemy import func, select
from webhook_helpers import intent_event, post, sign

from siyu.core import hookimpl
from siyu.core.db import write_transaction
from siyu.core.models import Order, Payment, Product, Refund, WebhookEvent
from siyu.core.orders import place_order
from siyu.core.payments.stripe_provider import StripeProvider


@pytest.fixture
def card_order(kernel, db, member):
    """A placed order with a pending Stripe payment (as if the PaymentIntent was created)."""
    product = make_product(db, "CARD", price=2500, stock=5)
    kernel.payment_providers["stripe"].available = lambda config: True
    order = place_order(kernel, db, member=member, items={product.id: 2}, payment_method="stripe",
                        checkout_token="tok-card-1")
    with write_transaction(db):
        db.add(Payment(order_id=order.id, provider="stripe", reference="pi_test_1", amount=order.total,
                       currency=order.currency, client_secret="pi_test_1_secret"))
    return order


def snapshot(db):
    fresh(db)
    return (db.scalar(select(func.count()).select_from(WebhookEvent)),
            db.scalar(select(func.group_concat(Order.status)) if db.bind.dialect.name == "sqlite"
                      else select(func.string_agg(Order.status, ","))),
            db.scalar(select(func.sum(Product.stock))))


def test_succeeded_marks_paid_once_even_when_replayed(client, db, card_order, register_plugin):
    paid = []

    class Listener:
        @hookimpl
        def on_order_paid(self, order):
            paid.append(order.number)

    register_plugin(Listener())
    payload = intent_event("payment_intent.succeeded", "pi_test_1", 5000, event_id="evt_1")
    for _ in range(3):
        response = post(client, payload, sign(payload))
        assert response.status_code == 200
    other = intent_event("payment_intent.succeeded", "pi_test_1", 5000, event_id="evt_2")
    assert post(client, other, sign(other)).status_code == 200
    fresh(db)
    assert db.get(Order, card_order.id).status == "paid"
    assert paid == [card_order.number]
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 2


@pytest.mark.parametrize("case", ["missing", "wrong-secret", "stale", "future", "changed-body", "garbage"])
def test_bad_signatures_are_refused_with_no_writes(client, db, card_order, case):
    payload = intent_event("payment_intent.succeeded", "pi_test_1", 5000)
    signature = {
        "missing": None,
        "wrong-secret": sign(payload, secret="whsec_other"),
        "stale": sign(payload, timestamp=int(time.time()) - 301),
        "future": sign(payload, timestamp=int(time.time()) + 301),
        "changed-body": sign(payload),
        "garbage": "nonsense",
    }[case]
    if case == "changed-body":
        payload = payload.replace(b"5000", b"5001")
    before = snapshot(db)
    response = post(client, payload, signature)
    assert response.status_code == 400
    assert response.is_json and response.get_json()["title"]
    assert snapshot(db) == before


def test_payment_failed_cancels_order_and_releases_stock(client, db, card_order, monkeypatch):
    monkeypatch.setattr(StripeProvider, "refund", lambda self, k, p, r, retry=False: "re_auto_1")
    product_id = card_order.lines[0].product_id
    fresh(db)
    assert db.get(Product, product_id).stock == 3
    payload = intent_event("payment_intent.payment_failed", "pi_test_1", 5000,
                           last_payment_error={"message": "Your card was declined."})
    assert post(client, payload, sign(payload)).status_code == 200
    fresh(db)
    order = db.get(Order, card_order.id)
    assert order.status == "cancelled" and order.cancel_reason == "payment_failed"
    assert db.get(Product, product_id).stock == 5
    payment = db.scalar(select(Payment).where(Payment.order_id == order.id))
    assert payment.status == "failed" and "declined" in payment.last_error
    # a late success for the cancelled order never moves it backwards
    late = intent_event("payment_intent.succeeded", "pi_test_1", 5000)
    assert post(client, late, sign(late)).status_code == 200
    fresh(db)
    assert db.get(Order, card_order.id).status == "cancelled"
    flagged = db.scalar(select(Payment).where(Payment.order_id == card_order.id))
    assert flagged.status == "succeeded" and "refund" in flagged.last_error
    refund = db.scalar(select(Refund).where(Refund.order_id == card_order.id))
    assert (refund.status, refund.amount, refund.provider_reference) == ("succeeded", 5000, "re_auto_1")


def test_amount_mismatch_is_refused_and_not_recorded(client, db, card_order):
    payload = intent_event("payment_intent.succeeded", "pi_test_1", 1)
    response = post(client, payload, sign(payload))
    assert response.status_code == 409
    fresh(db)
    assert db.get(Order, card_order.id).status == "placed"
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_plugin_failure_answers_503_and_a_retry_succeeds(client, db, card_order, register_plugin):
    state = {"fail": True}

    class Flaky:
        @hookimpl
        def on_order_paid(self, order):
            if state["fail"]:
                raise RuntimeError("ledger unavailable")

    register_plugin(Flaky(), name="flaky")
    payload = intent_event("payment_intent.succeeded", "pi_test_1", 5000, event_id="evt_retry")
    assert post(client, payload, sign(payload)).status_code == 503
    fresh(db)
    assert db.get(Order, card_order.id).status == "placed"
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    state["fail"] = False
    assert post(client, payload, sign(payload)).status_code == 200
    fresh(db)
    assert db.get(Order, card_order.id).status == "paid"


def test_unknown_events_and_foreign_intents_are_acknowledged(client, db, card_order):
    other = intent_event("payment_intent.succeeded", "pi_someone_else", 100)
    assert post(client, other, sign(other)).get_json()["result"] == "processed"
    ignored = intent_event("customer.created", "cus_1", 0)
    assert post(client, ignored, sign(ignored)).get_json()["result"] == "ignored"
    fresh(db)
    assert db.get(Order, card_order.id).status == "placed"
