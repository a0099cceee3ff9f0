"""The payment-code gateway in a shop: offered at checkout, its code on the pay page, staff confirm."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from siyu.plugin import Order, Product, confirm_manual_payment, settings, sign_up, write_transaction
from siyu.plugin.testing import give_address

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["payment_code"], "MANUAL_PAYMENTS": False}


@pytest.fixture
def siyu_plugins():
    from siyu_payment_code import plugin

    return [plugin]  # as the entry point would load it (the example is not installed here)


def csrf(client, path):
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    return match.group(1) or match.group(2)


@pytest.fixture
def shopper(siyu_client, siyu_kernel, siyu_db):
    give_address(siyu_db, sign_up(siyu_kernel, siyu_db, email="buyer@example.com", password="correct-horse"))
    siyu_client.post("/account/login", data={"email": "buyer@example.com", "password": "correct-horse",
                                             "csrf_token": csrf(siyu_client, "/account/login")})
    return siyu_client


def test_checkout_offers_the_code_and_staff_confirm_the_payment(shopper, siyu_db, siyu_kernel):
    with write_transaction(siyu_db):
        settings.put(siyu_db, "payment_code", "code", "wxp://f2f0example")
        tea = Product(sku="TEA-1", title_zh="白茶", title_en="White tea", description_zh="", description_en="",
                      price=3900, currency="CNY", stock=5, active=True, position=1)
        siyu_db.add(tea)
    shopper.post("/cart/add", data={"product_id": tea.id, "quantity": 1, "csrf_token": csrf(shopper, "/cart/")})
    assert 'value="payment_code"' in shopper.get("/checkout").get_data(as_text=True)
    placed = shopper.post("/checkout", data={"payment_method": "payment_code", "checkout_token": "t-1",
                                             "csrf_token": csrf(shopper, "/checkout")})
    order = siyu_db.scalar(select(Order))
    assert placed.headers["Location"].endswith(f"/orders/{order.number}/pay")
    page = shopper.get(f"/orders/{order.number}/pay").get_data(as_text=True)
    assert "<svg" in page and order.number in page  # the code to scan, and the note to write

    confirm_manual_payment(siyu_kernel, siyu_db, order)  # staff saw the money arrive
    siyu_db.rollback()
    assert siyu_db.get(Order, order.id).status == "paid"


def test_notifications_are_refused(shopper):
    assert shopper.post("/webhooks/payment_code", data=b"{}").status_code == 400
