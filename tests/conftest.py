"""Shared helpers for the core's tests. The fixtures come from the project's pytest plugin
(``siyu.storefront.testing``), which plugin authors use too; its names are prefixed (``siyu_app``)
so they never collide with pytest-flask's. The core's ~600 tests were written with short names:
``short_fixture_names`` keeps them (deriving from ``app``, so a test module that overrides ``app``
still gets its client, session and kernel from that app)."""
from __future__ import annotations

import re

import pytest

from siyu.core.members import sign_up
from siyu.storefront import testing_kit
from siyu.storefront.testing import give_address
from siyu.storefront.testing_short import short_fixture_names
from siyu.storefront.testing_kit import add_to_cart, allow_unpaid_orders, fresh  # noqa: F401  (tests import them here)


# The kit's fixtures under short names (app, client, db, kernel...), for this suite only: the
# kit's own names are prefixed so they never collide with pytest-flask's.
globals().update(short_fixture_names())


# ------------------------------------------------------------------------------- helpers

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf(client, path: str = "/account/login") -> str:
    return testing_kit.csrf_token(client, path)


def make_product(session, sku="SKU-1", price=1000, stock=10, active=True, position=0, currency="CNY"):
    return testing_kit.make_product(session, sku, price, stock, active=active, position=position, currency=currency)


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
    return testing_kit.login(client, email, password)


@pytest.fixture
def member_client(client, member):
    login(client)
    return client


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
