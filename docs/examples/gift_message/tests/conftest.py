"""Fixtures for the gift_message plugin's tests.

The shop fixtures (``app``, ``client``, ``db``, ``kernel``, ``pg_app``...) come from Siyu's
pytest plugin, installed with the core; this file enables the plugin for them and offers
small helpers as fixtures, so no test imports another folder's conftest.
"""
from __future__ import annotations

import re

import pytest

from siyu.plugin import create_staff, Product, sign_up, write_transaction
from siyu.plugin.testing import give_address

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
STAFF_PASSWORD = "a-long-staff-password"


@pytest.fixture
def siyu_config():
    # Installed is not enabled: every test shop here runs with this plugin on.
    return {"PLUGINS": ["gift_message"]}


@pytest.fixture
def csrf():
    def token(client, path: str) -> str:
        match = TOKEN.search(client.get(path).get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1) or match.group(2)
    return token


@pytest.fixture
def product(db):
    with write_transaction(db):
        item = Product(sku="TEA-1", title_zh="白茶", title_en="White tea", description_zh="",
                       description_en="", price=3900, currency="CNY", stock=10, active=True, position=1)
        db.add(item)
    return item


@pytest.fixture
def member(kernel, db):
    """The shopper, with a delivery address: the checkout needs one for goods that ship."""
    buyer = sign_up(kernel, db, email="buyer@example.com", password="correct-horse", name="Buyer")
    give_address(db, buyer)
    return buyer


@pytest.fixture
def shopper(client, member, csrf):
    """The test client signed in as the member."""
    response = client.post("/account/login", data={"email": "buyer@example.com", "password": "correct-horse",
                                                   "csrf_token": csrf(client, "/account/login")})
    assert response.status_code == 302
    return client


@pytest.fixture
def checkout(shopper, product, csrf):
    """``checkout(gift_message=...)``: put the product in the cart and place the order by
    bank transfer through the checkout form, as a shopper does."""
    def checkout_(**fields):
        shopper.post("/cart/add", data={"product_id": product.id, "quantity": 1,
                                        "csrf_token": csrf(shopper, f"/p/{product.id}")})
        html = shopper.get("/checkout").get_data(as_text=True)
        assert 'name="gift_message"' in html  # the field the checkout_form slot renders
        token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html).group(1)
        return shopper.post("/checkout", headers={"Accept-Language": "en"}, data={
            "payment_method": "manual", "checkout_token": token, "csrf_token": csrf(shopper, "/checkout"), **fields})
    return checkout_


@pytest.fixture
def staff_client(client, db, csrf):
    """The test client signed in to the back office as an agent."""
    create_staff(db, email="agent@example.com", password=STAFF_PASSWORD, role="agent", name="Agent")
    response = client.post("/admin/login", data={"email": "agent@example.com", "password": STAFF_PASSWORD,
                                                 "csrf_token": csrf(client, "/admin/login")})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client
