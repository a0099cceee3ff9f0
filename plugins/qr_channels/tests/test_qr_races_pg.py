"""Races on PostgreSQL: threads released together by a barrier, each with its own session."""

import pytest
from sqlalchemy import func, select

from siyu.plugin import confirm_manual_payment, Order, place_order, Product, sign_up, write_transaction
from siyu.plugin.testing import allow_unpaid_orders, run_together
from siyu_qr_channels.channels import create_channel
from siyu_qr_channels.models import DailyStats, DailyVisitor, OrderAttribution, Scan
from siyu_qr_channels.scans import record_scan

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


@pytest.fixture
def session(pg):
    session = pg.db.Session()
    yield session
    session.close()


def in_session(pg, work):
    def wrapped(i):
        session = pg.db.Session()
        try:
            return work(session, i)
        finally:
            session.close()
    return wrapped


def test_concurrent_scans_count_each_visitor_once_a_day(pg, session):
    channel = create_channel(session, {"name": "Fair"})
    results, errors = run_together(24, in_session(pg, lambda s, i: record_scan(
        s, channel, visitor_id=f"visitor-{i % 3:02d}-abcdefghijkl", device="mobile")))
    assert errors == []
    assert sorted(results).count(True) == 3
    stats = session.scalars(select(DailyStats)).all()
    assert [(r.scans, r.uniques) for r in stats] == [(24, 3)]
    assert len(session.scalars(select(DailyVisitor)).all()) == 3
    assert len(session.scalars(select(Scan)).all()) == 24


def test_concurrent_channel_creation_hands_out_distinct_scene_ids(pg):
    results, errors = run_together(8, in_session(pg, lambda s, i: create_channel(s, {"name": f"C{i}"}).scene))
    assert errors == []
    assert sorted(results, key=int) == [str(i) for i in range(1, 9)]


def test_two_orders_paid_at_once_have_one_first_order(pg, session):
    with write_transaction(session):
        product = Product(sku="TEA", title_zh="茶", title_en="Tea", price=500, currency="CNY", stock=50)
        session.add(product)
    member = sign_up(pg, session, email="twice@example.com", password="password-123")
    allow_unpaid_orders(session)  # four unpaid orders of one member, paid at once below
    orders = [place_order(pg, session, member=member, items={product.id: 1}, payment_method="manual",
                          checkout_token=f"t-{i}") for i in range(4)]
    with write_transaction(session):
        for order in orders:
            pg.provider("manual").start(pg, session, order)

    def pay(s, i):
        confirm_manual_payment(pg, s, s.get(Order, orders[i].id))

    results, errors = run_together(4, in_session(pg, pay))
    assert errors == []
    session.expire_all()
    seqs = sorted(session.scalars(select(OrderAttribution.paid_seq)))
    assert seqs == [1, 2, 3, 4]


def test_a_chat_post_and_a_payment_for_the_same_member_never_deadlock(pg, session):
    """Paying numbers the order under a lock on the member; a chat post holds its conversation
    and inserts a row referencing the member. The lock must not block that reference."""
    from siyu.plugin import receive_message

    with write_transaction(session):
        product = Product(sku="DL", title_zh="d", title_en="d", price=100, currency="CNY", stock=1000)
        session.add(product)
    member = sign_up(pg, session, email="deadlock@example.com", password="password-123")
    receive_message(pg, session, member, "hello")  # the conversation exists from here on
    for round_ in range(8):
        order = place_order(pg, session, member=member, items={product.id: 1}, payment_method="manual",
                            checkout_token=f"dl-{round_}")
        with write_transaction(session):
            pg.payment_providers["manual"].start(pg, session, order)

        def work(s, i, order=order, round_=round_):
            if i == 0:
                return confirm_manual_payment(pg, s, s.get(Order, order.id))
            return receive_message(pg, s, s.get(type(member), member.id), f"message {round_}-{i}")

        results, errors = run_together(4, in_session(pg, work))
        assert errors == [], errors
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Order).where(Order.status == "paid")) == 8
