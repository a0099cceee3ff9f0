"""Caps on unpaid orders hold under concurrent checkouts, proven on PostgreSQL.

Each thread has its own session and connection; a ``threading.Barrier`` releases them
together. Without the advisory locks on the member and the visitor id every checkout counts
the others' orders before they commit and all of them pass the cap.
"""
import time
import uuid

import pytest
from sqlalchemy import func, select

from siyu.core import hookimpl, settings
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.models import Member, Order, OrderLine, Product, Setting
from siyu.core.orders import cancel_order, confirm_manual_payment, place_order
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


class StatsAndNumbering:
    """Locks as plugins take them (crm_tags' stats row, qr_channels' order numbering): a row
    of the member's when an order is placed and when one is paid, then, when paid, the member's
    own row ``FOR NO KEY UPDATE``. The sleeps make the two transactions overlap every time."""

    @staticmethod
    def _stats(session, member_id):
        session.execute(select(Setting).where(Setting.plugin == "test-stats", Setting.key == str(member_id))
                        .with_for_update())

    @hookimpl
    def on_order_placed(self, session, order):
        time.sleep(0.2)  # the checkout holds its own locks by now
        self._stats(session, order.member_id)

    @hookimpl
    def on_order_paid(self, session, order):
        self._stats(session, order.member_id)
        time.sleep(0.2)
        session.execute(select(Member.id).where(Member.id == order.member_id).with_for_update(key_share=True))


def test_a_checkout_and_a_payment_of_the_same_member_never_deadlock(pg):
    """The checkout serialises a member's checkouts without touching the member's row, which
    paying locks after other rows: a row lock there made the two wait for each other."""
    session, product = setup(pg, orders_cap=3, units_cap=10_000)
    member = sign_up(pg, session, email="both@example.com", password="password-123")
    with write_transaction(session):
        session.add(Setting(plugin="test-stats", key=str(member.id), value=0))
    pg.pm.register(StatsAndNumbering(), name="stats-and-numbering")
    try:
        for round_ in range(3):
            first = place_order(pg, session, member=member, items={product.id: 1}, payment_method="manual",
                                checkout_token=f"pay-{round_}")
            with write_transaction(session):
                pg.provider("manual").start(pg, session, first)

            def work(i, first=first, round_=round_):
                s = pg.db.Session()
                try:
                    if i == 0:
                        return confirm_manual_payment(pg, s, s.get(Order, first.id)).id
                    return place_order(pg, s, member=s.get(Member, member.id), items={product.id: 1},
                                       payment_method="manual", checkout_token=f"next-{round_}").id
                finally:
                    s.close()

            results, errors = run_together(2, work)
            assert errors == [], errors
            session.rollback()
            second = session.scalar(select(Order).where(Order.checkout_token == f"next-{round_}"))
            cancel_order(pg, session, second, "customer")
    finally:
        pg.pm.unregister(name="stats-and-numbering")
