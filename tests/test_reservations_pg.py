"""Caps on unpaid orders hold under concurrent checkouts, proven on PostgreSQL.

Each thread has its own session and connection; a ``threading.Barrier`` releases them
together. Without the member's row lock (or the visitor's advisory lock) every checkout
counts the others' orders before they commit and all of them pass the cap.
"""
import uuid

import pytest
from sqlalchemy import func, select

from siyu.core import settings
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.models import Order, OrderLine, Product
from siyu.core.orders import place_order
from siyu.core.reservations import UnpaidLimitReached
from siyu.storefront.testing_checks import run_together

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


def setup(pg, orders_cap, units_cap, stock=1000):
    session = pg.db.Session()
    with write_transaction(session):
        settings.put(session, "core", "unpaid_orders_cap", orders_cap)
        settings.put(session, "core", "unpaid_units_cap", units_cap)
        product = Product(sku=f"P-{uuid.uuid4().hex[:6]}", title_zh="茶", title_en="Tea", price=1000,
                          currency="CNY", stock=stock)
        session.add(product)
    return session, product


def checkouts(pg, members, product, quantity, n, visitor=None):
    def buy(i):
        s = pg.db.Session()
        try:
            return place_order(pg, s, member=members[i % len(members)], items={product.id: quantity},
                               payment_method="manual", checkout_token=f"race-{uuid.uuid4().hex}",
                               visitor_id=visitor).id
        finally:
            s.close()

    return run_together(n, buy)


def held(session, product):
    session.rollback()
    return (session.scalar(select(func.count(Order.id)).where(Order.status == "placed")),
            session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0))),
            session.scalar(select(Product.stock).where(Product.id == product.id)))


def test_concurrent_checkouts_of_one_member_end_at_the_orders_cap(pg):
    session, product = setup(pg, orders_cap=3, units_cap=10_000)
    member = sign_up(pg, session, email="race@example.com", password="password-123")
    results, errors = checkouts(pg, [member], product, 1, 16)
    assert len(results) == 3 and len(errors) == 13
    assert all(isinstance(e, UnpaidLimitReached) and e.status == 409 for e in errors)
    assert held(session, product) == (3, 3, 997)
    session.close()


def test_concurrent_checkouts_of_one_member_end_at_the_units_cap(pg):
    session, product = setup(pg, orders_cap=100, units_cap=50)
    member = sign_up(pg, session, email="units@example.com", password="password-123")
    results, errors = checkouts(pg, [member], product, 10, 12)
    assert len(results) == 5 and all(isinstance(e, UnpaidLimitReached) for e in errors)
    assert held(session, product) == (5, 50, 950)
    session.close()


def test_concurrent_checkouts_of_one_browser_across_accounts_end_at_the_cap(pg):
    session, product = setup(pg, orders_cap=3, units_cap=10_000)
    members = [sign_up(pg, session, email=f"v{i}@example.com", password="password-123") for i in range(4)]
    results, errors = checkouts(pg, members, product, 1, 16, visitor="one-browser-0001")
    assert len(results) == 3 and all(isinstance(e, UnpaidLimitReached) for e in errors)
    assert held(session, product) == (3, 3, 997)
    session.close()
