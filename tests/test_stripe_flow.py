"""The card flow end to end against localstripe: intent → confirm → signed webhook → paid.

localstripe delivers the webhook itself to the app served on 127.0.0.1.
"""
import re
import time

import pytest
from conftest import add_to_cart, checkout, fresh
from sqlalchemy import func, select

from siyu.core.errors import PaymentError
from siyu.core.models import Order, Payment, Product, Refund
from siyu.core.payments.stripe_provider import StripeProvider, client as stripe_client
from siyu.core.refunds import refund_order
from siyu.storefront import devstripe

pytestmark = pytest.mark.stripe


@pytest.fixture
def siyu_config(stripe_config):
    return dict(stripe_config)


@pytest.fixture
def wired(live_server, localstripe):
    devstripe.register_webhook(localstripe, f"{live_server.url}/webhooks/stripe")
    return live_server


def wait_for(db, order_id, statuses, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh(db)
        order = db.get(Order, order_id)
        if order.status in statuses:
            return order
        time.sleep(0.2)
    raise AssertionError(f"order stayed {order.status}")


def card_checkout(member_client, db, product, quantity=1):
    add_to_cart(member_client, product.id, quantity)
    response = checkout(member_client, payment_method="stripe")
    assert response.status_code == 302 and response.headers["Location"].endswith("/pay")
    number = response.headers["Location"].split("/")[2]
    pay = member_client.get(response.headers["Location"])
    html = pay.get_data(as_text=True)
    assert pay.status_code == 200 and 'data-secret="pi_' in html and "/js.stripe.com/v3/" in html
    order = db.scalar(select(Order).where(Order.number == number))
    payment = db.scalar(select(Payment).where(Payment.order_id == order.id))
    return order, payment


def pay_with(member_client, order, payment_method, expect=200):
    """What pay.js does: post the card's payment method id with the CSRF header."""
    html = member_client.get(f"/orders/{order.number}/pay").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', html).group(1)
    response = member_client.post(f"/orders/{order.number}/pay", json={"payment_method": payment_method},
                                  headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code == expect, response.get_data(as_text=True)
    return response.get_json()


def test_pay_endpoint_refuses_bad_input(app, member_client, products, db):
    order, _payment = card_checkout(member_client, db, products[0])
    html = member_client.get(f"/orders/{order.number}/pay").get_data(as_text=True)
    token = re.search(r'data-csrf="([^"]+)"', html).group(1)
    bad = member_client.post(f"/orders/{order.number}/pay", json={"payment_method": "x; drop"},
                             headers={"X-CSRFToken": token})
    assert bad.status_code == 422 and bad.get_json()["errors"]["payment_method"]
    no_csrf = member_client.post(f"/orders/{order.number}/pay", json={"payment_method": "pm_card_visa"})
    assert no_csrf.status_code == 400


def test_card_purchase_completes_end_to_end(app, wired, member_client, products, db, kernel):
    order, payment = card_checkout(member_client, db, products[1], 2)
    intent = stripe_client(kernel.config).v1.payment_intents.retrieve(payment.reference)
    assert intent.amount == 4000 and intent.currency == "cny"
    assert pay_with(member_client, order, "pm_card_visa")["status"] == "succeeded"
    paid = wait_for(db, order.id, {"paid"})
    assert paid.paid_at is not None
    status = member_client.get(f"/orders/{order.number}/status.json").get_json()
    assert status == {"number": order.number, "status": "paid", "paid": True, "payment_error": None}
    with member_client.session_transaction() as session:
        assert session["cart"] == {}


def test_declined_card_cancels_and_releases_stock(app, wired, member_client, products, db, kernel):
    order, payment = card_checkout(member_client, db, products[0], 3)
    fresh(db)
    assert db.get(Product, products[0].id).stock == 7
    declined = pay_with(member_client, order, "pm_card_chargeCustomerFail", expect=402)
    assert declined["status"] == "failed" and declined["error"]
    cancelled = wait_for(db, order.id, {"cancelled"})
    assert cancelled.cancel_reason == "payment_failed"
    deadline = time.monotonic() + 10
    while stripe_client(kernel.config).v1.payment_intents.retrieve(payment.reference).status != "canceled":
        assert time.monotonic() < deadline, "the failed intent was not cancelled at Stripe"
        time.sleep(0.2)
    assert db.get(Product, products[0].id).stock == 10
    with member_client.session_transaction() as session:
        assert session["cart"] == {str(products[0].id): 3}, "the cart is kept for another try"


def test_partial_then_full_refund_and_a_retry_after_timeout_refunds_once(
        app, wired, member_client, products, db, kernel, monkeypatch):
    order, payment = card_checkout(member_client, db, products[2])  # 30.00
    pay_with(member_client, order, "pm_card_visa")
    order = wait_for(db, order.id, {"paid"})

    first = refund_order(kernel, db, order, 1000, "refund-a")
    fresh(db)
    assert first.status == "succeeded" and db.get(Order, order.id).status == "partially_refunded"

    # The provider refunds but the answer is lost: the refund stays pending.
    real = StripeProvider.refund

    def lost_answer(self, kernel_, payment_, refund_, retry=False):
        real(self, kernel_, payment_, refund_, retry)
        raise TimeoutError("read timed out")

    monkeypatch.setattr(StripeProvider, "refund", lost_answer)
    with pytest.raises(PaymentError):
        refund_order(kernel, db, db.get(Order, order.id), 2000, "refund-b")
    monkeypatch.setattr(StripeProvider, "refund", real)
    retried = refund_order(kernel, db, db.get(Order, order.id), 2000, "refund-b")
    assert retried.status == "succeeded"

    fresh(db)
    final = db.get(Order, order.id)
    assert final.status == "refunded" and final.refunded_amount == 3000
    assert db.scalar(select(func.count()).select_from(Refund)) == 2
    remote = stripe_client(kernel.config).v1.refunds.list(params={"limit": 100}).data
    mine = [r for r in remote if r.payment_intent == payment.reference]
    assert sorted(r.amount for r in mine) == [1000, 2000]
    with pytest.raises(Exception):
        refund_order(kernel, db, final, 1, "refund-c")


def test_money_taken_for_a_cancelled_order_is_refunded_at_stripe_once(
        app, wired, member_client, products, db, kernel, monkeypatch):
    """The cancel could not stop the intent (say it was lost on the way) and the card is then
    charged at Stripe: the success webhook refunds it automatically, once, at Stripe."""
    from siyu.core.models import PaymentAlarm
    from siyu.core.orders import cancel_order

    order, payment = card_checkout(member_client, db, products[1])
    with monkeypatch.context() as patch:
        patch.setattr(StripeProvider, "cancel", lambda self, kernel_, payment_: None)
        cancel_order(kernel, db, order, "customer")
    stripe = stripe_client(kernel.config)
    stripe.v1.payment_intents.update(payment.reference, params={"payment_method": "pm_card_visa"})
    assert stripe.v1.payment_intents.confirm(payment.reference).status == "succeeded"

    deadline = time.monotonic() + 20
    while True:
        fresh(db)
        refund = db.scalar(select(Refund).where(Refund.order_id == order.id))
        if refund is not None and refund.status == "succeeded" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert refund is not None and (refund.status, refund.amount) == ("succeeded", 2000)
    remote = [r for r in stripe.v1.refunds.list(params={"limit": 100}).data if r.payment_intent == payment.reference]
    assert [(r.amount, r.metadata["siyu_refund_key"]) for r in remote] == [(2000, f"auto-refund-{payment.id}")]
    assert remote[0].id == refund.provider_reference
    assert db.get(Order, order.id).status == "cancelled"
    alarm = db.scalar(select(PaymentAlarm).where(PaymentAlarm.order_id == order.id))
    assert alarm.kind == "paid_after_cancel" and alarm.refund_id == refund.id
