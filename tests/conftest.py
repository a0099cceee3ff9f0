"""Shared helpers for the core's tests. The fixtures themselves come from the project's
pytest plugin (``siyu.storefront.testing``), which plugin authors use too."""
from __future__ import annotations

import re

import pytest

from siyu.core import settings
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.models import Product
from siyu.storefront.testing import allow_unpaid_orders, give_address  # noqa: F401  (tests import them here)

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf(client, path: str = "/account/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def make_product(session, sku="SKU-1", price=1000, stock=10, active=True, position=0, currency="CNY"):
    with write_transaction(session):
        product = Product(sku=sku, title_zh=f"商品 {sku}", title_en=f"Product {sku}",
                          description_zh="", description_en="", price=price, currency=currency,
                          stock=stock, active=active, position=position)
        session.add(product)
    return product


@pytest.fixture
def products(db):
    return [make_product(db, f"SKU-{i}", price=1000 * (i + 1), stock=10, position=i) for i in range(3)]


@pytest.fixture
def member(kernel, db):
    """A shopper with a default delivery address (the checkout needs one for goods that ship)."""
    buyer = sign_up(kernel, db, email="buyer@example.com", password="correct-horse", name="Buyer")
    give_address(db, buyer)
    return buyer


def login(client, email="buyer@example.com", password="correct-horse"):
    token = csrf(client, "/account/login")
    response = client.post("/account/login", data={"email": email, "password": password,
                                                   "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def member_client(client, member):
    login(client)
    return client


def add_to_cart(client, product_id, quantity=1):
    token = csrf(client, f"/p/{product_id}")
    return client.post("/cart/add", data={"product_id": product_id, "quantity": quantity,
                                          "csrf_token": token})


def checkout(client, payment_method="manual", token=None, extra=None):
    page = client.get("/checkout")
    html = page.get_data(as_text=True)
    csrf_token = TOKEN.search(html)
    checkout_token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html)
    data = {"payment_method": payment_method,
            "checkout_token": token or (checkout_token.group(1) if checkout_token else "x"),
            "csrf_token": csrf_token.group(1) or csrf_token.group(2)}
    data.update(extra or {})
    return client.post("/checkout", data=data)


def fresh(session):
    """End the test session's snapshot and forget cached rows, to read what the app wrote."""
    session.rollback()
    session.expire_all()
    settings.forget(session)
    return session
