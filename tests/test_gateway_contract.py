"""A third-party payment gateway works end to end with no core change.

The test kit's ``FakeGateway`` is registered as a plugin, as a WeChat Pay or Alipay plugin would
be: checkout offers it, the pay page shows its QR code, its signed notifications pay the order
once (duplicates and forgeries change nothing), refunds go through it once per key, a cancel
stops the payment at the provider first, and money arriving after a cancel is refunded.
"""
from __future__ import annotations

import json
import time

import pytest
from conftest import csrf, login, make_product
from sqlalchemy import func, select

from siyu.core.members import sign_up
from siyu.core.errors import InvalidTransition, ValidationError
from siyu.core.models import Order, Payment, PaymentAlarm, Refund, WebhookEvent
from siyu.core.orders import cancel_order
from siyu.core.payments.gateway import ClientEnvironment, GatewaySupport
from siyu.core.refunds import refund_order
from siyu.storefront.testing import give_address
from siyu.storefront.testing_gateway import FakeGateway

GATEWAY = FakeGateway()


@pytest.fixture
def siyu_plugins():
    return [GATEWAY]


@pytest.fixture
def siyu_config():
    return {"MANUAL_PAYMENTS": False}  # the fake gateway is the only way to pay


@pytest.fixture
def db(siyu_db):
    return siyu_db


@pytest.fixture
def kernel(siyu_kernel):
    return siyu_kernel


@pytest.fixture
def member_client(siyu_client, kernel, db):
    give_address(db, sign_up(kernel, db, email="buyer@example.com", password="correct-horse", name="Buyer"))
    login(siyu_client)
    return siyu_client


def place(client, db, sku="FP-1", price=2500):
    product = make_product(db, sku, price=price)
    client.post("/cart/add", data={"product_id": product.id, "quantity": 1, "csrf_token": csrf(client, "/cart/")})
    page = client.get("/checkout").get_data(as_text=True)
    assert 'value="fakepay"' in page  # checkout offers the plugin's gateway
    token = csrf(client, "/checkout")
    response = client.post("/checkout", data={"payment_method": "fakepay", "checkout_token": f"tok-{sku}",
                                              "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    order = db.scalar(select(Order).order_by(Order.id.desc()))
    assert response.headers["Location"].endswith(f"/orders/{order.number}/pay")
    return order


def payment_of(db, order) -> Payment:
    db.rollback()  # a new read: what the requests committed
    return db.scalar(select(Payment).where(Payment.order_id == order.id))


def test_pay_once_by_signed_notification_duplicates_and_forgeries_change_nothing(member_client, db):
    order = place(member_client, db)
    pay_page = member_client.get(f"/orders/{order.number}/pay").get_data(as_text=True)
    assert f"fakepay://pay/fp_{order.number}" in pay_page  # the QR code's content

    body, headers = GATEWAY.server.pay(f"fp_{order.number}")
    forged = {**headers, "X-Fakepay-Signature": headers["X-Fakepay-Signature"][:-4] + "0000"}
    refused = member_client.post("/webhooks/fakepay", data=body, headers=forged)
    assert refused.status_code == 400 and refused.get_json()["code"] == "FAIL"
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 0

    first = member_client.post("/webhooks/fakepay", data=body, headers=headers)
    again = member_client.post("/webhooks/fakepay", data=body, headers=headers)
    assert first.status_code == again.status_code == 200 and first.get_json() == {"code": "SUCCESS"}
    db.rollback()  # a new read: what the requests committed
    assert db.get(Order, order.id).status == "paid"
    assert payment_of(db, order).status == "succeeded"
    assert db.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_a_stale_signature_is_refused(member_client, db):
    order = place(member_client, db)
    body = json.dumps({"id": "evt_old", "type": "paid", "reference": f"fp_{order.number}", "amount": 2500}).encode()
    old = GATEWAY.server.sign(body, int(time.time()) - 3600)
    assert member_client.post("/webhooks/fakepay", data=body, headers=old).status_code == 400
    db.rollback()  # a new read: what the requests committed
    assert db.get(Order, order.id).status == "placed"


def test_refunds_go_through_the_gateway_once_per_key(member_client, db, kernel):
    order = place(member_client, db)
    body, headers = GATEWAY.server.pay(f"fp_{order.number}")
    member_client.post("/webhooks/fakepay", data=body, headers=headers)
    db.rollback()  # a new read: what the requests committed
    order = db.get(Order, order.id)
    assert order.status == "paid"
    refund = refund_order(kernel, db, order, 1000, "partial-1")
    again = refund_order(kernel, db, order, 1000, "partial-1")
    assert refund.id == again.id and refund.status == "succeeded"
    assert GATEWAY.server.payments[f"fp_{order.number}"].refunded == 1000
    db.rollback()  # a new read: what the requests committed
    assert db.get(Order, order.id).status == "partially_refunded"


def test_a_gateway_without_partial_refunds_refunds_only_the_whole_amount(member_client, db, kernel, monkeypatch):
    monkeypatch.setattr(GATEWAY, "supports", GatewaySupport(currencies=frozenset({"CNY"}), partial_refunds=False))
    order = place(member_client, db)
    body, headers = GATEWAY.server.pay(f"fp_{order.number}")
    member_client.post("/webhooks/fakepay", data=body, headers=headers)
    db.rollback()
    order = db.get(Order, order.id)
    with pytest.raises(ValidationError, match="whole amount"):
        refund_order(kernel, db, order, 1000, "part")
    assert refund_order(kernel, db, order, order.total, "whole").status == "succeeded"
    assert GATEWAY.server.payments[f"fp_{order.number}"].refunded == order.total


def test_cancel_stops_the_payment_at_the_provider_first(member_client, db, kernel):
    order = place(member_client, db)
    cancel_order(kernel, db, db.get(Order, order.id), "customer")
    assert GATEWAY.server.payments[f"fp_{order.number}"].status == "canceled"
    with pytest.raises(ValueError):
        GATEWAY.server.pay(f"fp_{order.number}")  # the shopper can no longer pay it
    db.rollback()  # a new read: what the requests committed
    assert db.get(Order, order.id).status == "cancelled"


def test_a_cancel_is_refused_once_the_money_is_taken(member_client, db, kernel):
    order = place(member_client, db)
    body, headers = GATEWAY.server.pay(f"fp_{order.number}")  # paid; the notification is on its way
    with pytest.raises(InvalidTransition):
        cancel_order(kernel, db, db.get(Order, order.id), "customer")
    assert member_client.post("/webhooks/fakepay", data=body, headers=headers).status_code == 200
    db.rollback()
    assert db.get(Order, order.id).status == "paid"


def test_money_arriving_after_a_cancel_is_refunded_once(member_client, db, kernel):
    order = place(member_client, db)
    cancel_order(kernel, db, db.get(Order, order.id), "customer")
    # The provider takes the money anyway (a race on its side) and says so, twice.
    GATEWAY.server.payments[f"fp_{order.number}"].status = "succeeded"
    body, headers = GATEWAY.server.notification("paid", f"fp_{order.number}", amount=2500)
    for _ in range(2):
        assert member_client.post("/webhooks/fakepay", data=body, headers=headers).status_code == 200
    db.rollback()
    assert db.get(Order, order.id).status == "cancelled"
    assert db.scalar(select(func.count()).select_from(PaymentAlarm)) == 1
    refunds = db.scalars(select(Refund).where(Refund.order_id == order.id)).all()
    assert [r.status for r in refunds] == ["succeeded"] and refunds[0].amount == 2500
    assert GATEWAY.server.payments[f"fp_{order.number}"].refunded == 2500


def test_checkout_offers_only_the_gateways_that_fit_the_currency_and_the_browser():
    wechat_only = GatewaySupport(currencies=frozenset({"CNY"}), environments=frozenset({"in_app:wechat"}))
    inside = ClientEnvironment.from_user_agent("Mozilla/5.0 (iPhone) MicroMessenger/8.0.47")
    phone = ClientEnvironment.from_user_agent("Mozilla/5.0 (Linux; Android 14) Mobile Safari")
    assert (inside.key, phone.key, ClientEnvironment.from_user_agent("").key) == ("in_app:wechat", "mobile", "desktop")
    assert wechat_only.fits("CNY", inside) and not wechat_only.fits("CNY", phone)
    assert not wechat_only.fits("USD", inside)


def test_a_gateway_missing_part_of_the_contract_is_refused_by_name(kernel):
    class Half:
        name = "half"
        label = "Half"

    with pytest.raises(TypeError, match="'half' lacks supports, available"):
        kernel._register_provider(Half())


def test_a_lost_notification_is_made_good_by_asking_the_gateway(member_client, db, kernel):
    from datetime import timedelta

    from siyu.core.db import utcnow
    from siyu.core.payments.reconcile import reconcile_pending

    order = place(member_client, db)
    GATEWAY.server.pay(f"fp_{order.number}")  # paid; the notification is lost
    assert reconcile_pending(kernel, db) == 0  # too young: its notification may still come
    assert reconcile_pending(kernel, db, now=utcnow() + timedelta(minutes=6)) == 1
    db.rollback()
    assert db.get(Order, order.id).status == "paid"
    body, headers = GATEWAY.server.notification("paid", f"fp_{order.number}", amount=2500)
    assert member_client.post("/webhooks/fakepay", data=body, headers=headers).status_code == 200  # late: no-op
    assert db.scalar(select(func.count()).select_from(PaymentAlarm)) == 0


def test_the_return_page_asks_the_gateway_once(member_client, db):
    order = place(member_client, db)
    GATEWAY.server.pay(f"fp_{order.number}")
    page = member_client.get(f"/orders/{order.number}/return").get_data(as_text=True)
    assert "status status-paid" in page  # the page shows the payment received at once
    db.rollback()
    assert db.get(Order, order.id).status == "paid"
