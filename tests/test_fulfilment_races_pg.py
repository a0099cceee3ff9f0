"""Fulfilment races on PostgreSQL: threads released together, each with its own session."""
import pytest
from sqlalchemy import func, select

from siyu.core import after_sales, hookimpl
from siyu.core.db import write_transaction
from siyu.core.errors import SiyuError
from siyu.core.fulfilment import confirm_receipt, ship_order
from siyu.core.members import sign_up
from siyu.core.models import AfterSale, Order, Product, Refund, Shipment
from siyu.core.orders import confirm_manual_payment, place_order
from siyu.storefront.testing_checks import run_together

pytestmark = pytest.mark.postgres


class Counter:
    def __init__(self):
        self.calls = []

    @hookimpl
    def on_order_completed(self, order, how):
        self.calls.append(("completed", order.id))

    @hookimpl
    def on_order_shipped(self, order, shipment):
        self.calls.append(("shipped", order.id))

    @hookimpl
    def on_order_refunded(self, order, refund):
        self.calls.append(("refunded", refund.amount))


@pytest.fixture
def pg(pg_app):
    kernel = pg_app.extensions["siyu"]
    kernel.pm.register(counter := Counter(), name="counter")
    kernel.counter = counter
    return kernel


def paid_order(pg, session, member, quantity=2):
    with write_transaction(session):
        product = Product(sku=f"R-{member.id}", title_zh="茶", title_en="Tea", price=2500, currency="CNY", stock=50)
        session.add(product)
    order = place_order(pg, session, member=member, items={product.id: quantity}, payment_method="manual",
                        checkout_token=f"race-{member.id}")
    with write_transaction(session):
        pg.provider("manual").start(pg, session, order)
    confirm_manual_payment(pg, session, order)
    return order


def in_own_session(pg, func_):
    def run(i):
        s = pg.db.Session()
        try:
            return func_(s, i)
        finally:
            s.close()
    return run


def test_concurrent_confirm_receipt_completes_once(pg):
    session = pg.db.Session()
    member = sign_up(pg, session, email="r@example.com", password="password-123")
    order = paid_order(pg, session, member)
    ship_order(pg, session, order, carrier_code="sf", tracking_number="SF1000001")

    def confirm(s, i):
        return confirm_receipt(pg, s, s.get(Order, order.id), s.get(type(member), member.id)).status

    results, errors = run_together(12, in_own_session(pg, confirm))
    assert len(results) == 1 and len(errors) == 11
    assert all(isinstance(e, SiyuError) and e.status == 409 for e in errors)
    assert [c for c in pg.counter.calls if c[0] == "completed"] == [("completed", order.id)]
    session.close()


def test_concurrent_shipments_of_one_order_ship_it_once(pg):
    session = pg.db.Session()
    member = sign_up(pg, session, email="s@example.com", password="password-123")
    order = paid_order(pg, session, member)

    def ship(s, i):
        return ship_order(pg, s, s.get(Order, order.id), carrier_code="sf", tracking_number=f"SF{2000000 + i}")[1]

    results, errors = run_together(10, in_own_session(pg, ship))
    assert results == [True] and len(errors) == 9
    session.expire_all()
    assert session.scalar(select(func.count(Shipment.id))) == 1
    assert session.get(Order, order.id).status == "shipped"
    assert len([c for c in pg.counter.calls if c[0] == "shipped"]) == 1
    session.close()


def test_concurrent_after_sales_requests_on_one_line_make_one(pg):
    session = pg.db.Session()
    member = sign_up(pg, session, email="a@example.com", password="password-123")
    order = paid_order(pg, session, member)
    ship_order(pg, session, order, carrier_code="sf", tracking_number="SF1000001")
    line_id = order.lines[0].id

    def ask(s, i):
        return after_sales.request_after_sale(pg, s, s.get(Order, order.id), s.get(type(member), member.id),
                                              line_id=line_id, kind="return_refund", reason="damaged").id

    results, errors = run_together(12, in_own_session(pg, ask))
    assert len(results) == 1 and len(errors) == 11
    assert all(isinstance(e, SiyuError) and e.status == 409 for e in errors)
    session.expire_all()
    assert session.scalar(select(func.count(AfterSale.id))) == 1
    session.close()


def test_concurrent_refunds_of_one_request_refund_once(pg):
    session = pg.db.Session()
    member = sign_up(pg, session, email="f@example.com", password="password-123")
    order = paid_order(pg, session, member)
    ship_order(pg, session, order, carrier_code="sf", tracking_number="SF1000001")
    request = after_sales.request_after_sale(pg, session, order, member, line_id=order.lines[0].id,
                                             kind="refund_only", reason="not_received")
    after_sales.approve(pg, session, request)

    def refund(s, i):
        return after_sales.refund(pg, s, s.get(AfterSale, request.id)).state

    results, errors = run_together(10, in_own_session(pg, refund))
    assert not [e for e in errors if not isinstance(e, SiyuError)], errors
    session.expire_all()
    assert session.scalar(select(func.count(Refund.id))) == 1
    assert session.get(Order, order.id).refunded_amount == 5000
    assert session.get(AfterSale, request.id).state == "refunded"
    assert [c for c in pg.counter.calls if c[0] == "refunded"] == [("refunded", 5000)]
    session.close()
