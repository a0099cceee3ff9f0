"""Fixtures for the curation plugin's tests.

The shop fixtures (``siyu_app``, ``siyu_client``, ``siyu_db``, ``siyu_pg_app``...) come from Siyu's
pytest plugin, under the short names below; this file enables the plugin for them and offers
helpers as fixtures, so that no test module imports another directory's ``conftest``.
"""
from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import update

from siyu.plugin import create_staff, Order, place_order, Product, sign_up, utcnow, write_transaction
from siyu.plugin.testing import short_fixture_names, csrf_token, staff_login as sign_in_staff
OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"


# The kit's fixtures under short names (app, client, db, kernel...), for this suite only: the
# kit's own names are prefixed so they never collide with pytest-flask's.
globals().update(short_fixture_names())


def pytest_configure(config):
    # Standalone runs from the plugin's directory do not read the core's marker list.
    config.addinivalue_line("markers", "postgres: needs a PostgreSQL database")


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["curation"]}


@pytest.fixture
def csrf():
    return csrf_token


@pytest.fixture
def make_product():
    numbers = count(1)

    def make(session, sku=None, price=1000, stock=100, active=True, position=None):
        n = next(numbers)
        with write_transaction(session):
            product = Product(sku=sku or f"P{n:03d}", title_zh=f"商品{n}", title_en=f"Product {n}",
                              description_zh="", description_en="", price=price, currency="CNY",
                              stock=stock, active=active, position=n if position is None else position)
            session.add(product)
        return product
    return make


@pytest.fixture
def products(db, make_product):
    """Forty active products: more than a catalog may hold."""
    return [make_product(db) for _ in range(40)]


@pytest.fixture
def owner(db):
    return create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner", name="Owner")


@pytest.fixture
def agent(db):
    return create_staff(db, email="agent@shop.cn", password=AGENT_PW, role="agent", name="Agent")


@pytest.fixture
def staff_login():
    return sign_in_staff  # (client, email="owner@shop.cn", password=OWNER_PW)


@pytest.fixture
def owner_client(client, owner, staff_login):
    staff_login(client)
    return client


@pytest.fixture
def sell(kernel, db):
    """``sell(product, qty, buyer="a", days_ago=1)``: a paid order of one line."""
    members = {}
    tokens = count(1)

    def sell_(product, quantity=1, buyer="a", days_ago=1):
        if buyer not in members:
            members[buyer] = sign_up(kernel, db, email=f"{buyer}@example.com", password="correct-horse")
        order = place_order(kernel, db, member=members[buyer], items={product.id: quantity},
                            payment_method="manual", checkout_token=f"t-{next(tokens)}")
        with write_transaction(db):
            db.execute(update(Order).where(Order.id == order.id).values(
                status="paid", paid_at=utcnow() - timedelta(days=days_ago), expires_at=None))
        return order
    return sell_


@pytest.fixture
def shop_page(app, client):
    """GET a storefront page in English as another request would, once the shop settings'
    short cache has expired (so a bumped catalog revision is seen)."""
    from siyu.plugin.web import invalidate_settings

    def get(path, status=200):
        with app.test_request_context():
            invalidate_settings()
        response = client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code == status, response.get_data(as_text=True)[:300]
        return response.get_data(as_text=True)
    return get
