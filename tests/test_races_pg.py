"""Races proven on PostgreSQL (SQLite serialises writers and ignores FOR UPDATE).

Threads are released together by a barrier; each uses its own session and connection.
"""

import pytest
from sqlalchemy import func, select

from siyu.core import hookimpl
from siyu.core.db import write_transaction
from siyu.core.errors import SiyuError
from siyu.core.members import sign_up
from siyu.core.models import Order, Payment, Product, WebhookEvent
from siyu.core.orders import place_order
from siyu.core.payments.stripe_provider import process_event
from siyu.storefront.testing_checks import run_together

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


def test_200_checkouts_for_50_units_sell_exactly_50(pg):
    session = pg.db.Session()
    with write_transaction(session):
        product = Product(sku="HOT", title_zh="爆款", title_en="Hot", price=990, currency="CNY", stock=50)
        session.add(product)
    members = [sign_up(pg, session, email=f"m{i}@example.com", password="password-123") for i in range(20)]

    def buy(i):
        s = pg.db.Session()
        try:
            return place_order(pg, s, member=members[i % 20], items={product.id: 1},
                               payment_method="manual", checkout_token=f"race-{i}").id
        finally:
            s.close()

    results, errors = run_together(200, buy)
    assert len(results) == 50
    assert len(errors) == 150 and all(isinstance(e, SiyuError) and e.status == 409 for e in errors)
    session.expire_all()
    assert session.scalar(select(Product.stock).where(Product.id == product.id)) == 0
    assert session.scalar(select(func.count()).select_from(Order)) == 50
    session.close()


def test_concurrent_webhook_deliveries_fulfil_once(pg, pg_app):
    paid = []

    class Counter:
        @hookimpl
        def on_order_paid(self, order):
            paid.append(order.id)

    pg.pm.register(Counter(), name="counter")
    session = pg.db.Session()
    with write_transaction(session):
        product = Product(sku="W", title_zh="w", title_en="w", price=1000, currency="CNY", stock=5)
        session.add(product)
    member = sign_up(pg, session, email="w@example.com", password="password-123")
    order = place_order(pg, session, member=member, items={product.id: 1}, payment_method="manual",
                        checkout_token="wh-1")
    with write_transaction(session):
        session.add(Payment(order_id=order.id, provider="stripe", reference="pi_race", amount=1000,
                            currency="CNY"))
    event = {"id": "evt_race", "type": "payment_intent.succeeded",
             "data": {"object": {"id": "pi_race", "amount": 1000}}}
    distinct = {"id": "evt_race_2", "type": "payment_intent.succeeded",
                "data": {"object": {"id": "pi_race", "amount": 1000}}}

    def deliver(i):
        s = pg.db.Session()
        try:
            return process_event(pg, s, event if i % 4 else distinct)
        finally:
            s.close()

    results, errors = run_together(10, deliver)
    assert errors == []
    assert results.count("processed") == 2 and results.count("duplicate") == 8
    assert paid == [order.id]
    session.expire_all()
    assert session.get(Order, order.id).status == "paid"
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 2
    session.close()


def test_stock_can_never_go_negative_in_the_database(pg):
    session = pg.db.Session()
    with write_transaction(session):
        session.add(Product(sku="C", title_zh="c", title_en="c", price=1, currency="CNY", stock=1))
    with pytest.raises(Exception, match="stock_not_negative"):
        with write_transaction(session):
            session.execute(Product.__table__.update().values(stock=-1))
    session.close()
