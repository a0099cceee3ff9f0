"""A cancel stops the card payment at the provider before the order, and a provider outage
answers 502/503 (never 402) with the order left as it was."""
import logging
import re

import pytest
import stripe
from backoffice_helpers import bearer, make_staff
from conftest import add_to_cart, checkout, csrf, fresh
from sqlalchemy import select
from test_payment_alarms import EN, card_order

from siyu.core.db import write_transaction
from siyu.core.models import Order, Product, Refund
from siyu.core.orders import expire_unpaid
from siyu.core.payments import stripe_provider
from siyu.core.payments.stripe_provider import StripeProvider


def test_cancel_stops_the_intent_before_the_order_and_is_refused_when_it_went_through(
        member_client, kernel, db, member, monkeypatch):
    order = card_order(kernel, db, member, "stop")
    seen = []

    def cancel(self, kernel_, payment):
        seen.append(fresh(db).get(Order, order.id).status)
        return "succeeded" if len(seen) == 1 else "canceled"

    monkeypatch.setattr(StripeProvider, "cancel", cancel)
    token = csrf(member_client, "/account/orders")
    refused = member_client.post(f"/orders/{order.number}/cancel", data={"csrf_token": token}, headers=EN)
    assert refused.status_code == 409 and "being paid" in refused.get_data(as_text=True)
    assert fresh(db).get(Order, order.id).status == "placed"
    assert member_client.post(f"/orders/{order.number}/cancel", data={"csrf_token": token}).status_code == 302
    assert seen == ["placed", "placed"], "the intent is stopped while the order is still placed"
    assert fresh(db).get(Order, order.id).status == "cancelled"


# -- a provider outage is 502/503, never 402 -----------------------------------------------


class Down:
    """Every Stripe call fails as with the network down."""

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        raise stripe.APIConnectionError("Network error: connection refused")


@pytest.fixture
def stripe_down(app, kernel, monkeypatch):
    """Stripe is configured, and down."""
    for config in (app.config, kernel.config):
        monkeypatch.setitem(config, "STRIPE_SECRET_KEY", "sk_test_down")
        monkeypatch.setitem(config, "STRIPE_PUBLISHABLE_KEY", "pk_test_down")
    monkeypatch.setattr(stripe_provider, "client", lambda config: Down())


def test_a_provider_outage_answers_502_or_503_never_402(app, member_client, kernel, db, member, products,
                                                        stripe_down, caplog):
    add_to_cart(member_client, products[0].id, 2)
    started = checkout(member_client, payment_method="stripe")
    assert started.status_code == 502, "the order is placed; the payment could not be started"
    number = fresh(db).scalar(select(Order.number))
    assert member_client.get(f"/orders/{number}/pay", headers=EN).status_code == 502

    order = card_order(kernel, db, member, "down")
    page = member_client.get(f"/orders/{order.number}/pay").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    confirm = member_client.post(f"/orders/{order.number}/pay", json={"payment_method": "pm_card_visa"},
                                 headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert confirm.status_code == 503 and confirm.mimetype == "application/problem+json"
    cancel = member_client.post(f"/orders/{order.number}/cancel", data={"csrf_token": token}, headers=EN)
    assert cancel.status_code == 503 and "did not answer" in cancel.get_data(as_text=True)
    fresh(db)
    assert db.get(Order, order.id).status == "placed", "not cancelled while the intent may still be paid"
    assert db.get(Product, order.lines[0].product_id).stock == 3

    owner = make_staff(db, "owner")
    api = app.test_client().post(f"/api/v1/orders/{order.id}/cancel", headers=bearer(db, owner))
    assert api.status_code == 503 and api.mimetype == "application/problem+json"

    with write_transaction(db):
        db.get(Order, order.id).expires_at = db.get(Order, order.id).placed_at
    caplog.set_level(logging.WARNING, logger="siyu.payments")
    assert expire_unpaid(kernel, db) == 0
    assert fresh(db).get(Order, order.id).status == "placed", "expired at the next run, once Stripe answers"
    assert any(r.order_number == order.number for r in caplog.records if r.name == "siyu.payments")


def test_a_provider_outage_on_an_api_refund_answers_502(app, kernel, db, member, stripe_down):
    order = card_order(kernel, db, member, "refund")
    event = {"id": "evt_paid", "type": "payment_intent.succeeded",
             "data": {"object": {"id": "pi_refund", "amount": order.total}}}
    from siyu.core.payments.stripe_provider import process_event

    assert process_event(kernel, db, event) == "processed"
    auth = bearer(db, make_staff(db, "owner"))
    body = {"amount": 1000, "idempotency_key": "erp-refund-down"}
    for _ in range(2):  # the first try and its retry with the same key
        response = app.test_client().post(f"/api/v1/orders/{order.id}/refunds", json=body, headers=auth)
        assert response.status_code == 502 and response.mimetype == "application/problem+json"
    assert fresh(db).scalar(select(Refund.status)) == "pending"
