"""Points races on PostgreSQL: concurrent redemptions never overdraw; awards land once."""

import pytest
from crm_helpers import buy, ship
from sqlalchemy import delete, func, select

from siyu.plugin import Order, SiyuError, write_transaction
from siyu.plugin.testing import allow_unpaid_orders, make_member, make_product, run_together

from siyu_crm_tags.models import MemberStats, PointEntry, PointLot

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


def test_concurrent_redemptions_never_overdraw(pg):
    session = pg.db.Session()
    member = make_member(pg, session)
    product = make_product(session, "TEA-1", price=10000, stock=1000)
    allow_unpaid_orders(session)  # the points, not the cap on unpaid orders, must stop the fourth
    with write_transaction(session):
        pg.pm.hook.crm_tags_award_points(session=session, member_id=member.id, points=1000, reason="gift", ref="g")

    def redeem(i):  # each checkout asks for 300 points (3.00 CNY) on a 100.00 order
        s = pg.db.Session()
        try:
            return buy(pg, s, member, product, inputs={"crm_points": "300"}, pay=False).id
        finally:
            s.close()

    results, errors = run_together(12, redeem)
    assert len(results) == 3, errors  # 3 × 300 ≤ 1000 < 4 × 300
    assert all(isinstance(e, SiyuError) for e in errors)
    session.rollback()
    stats = session.get(MemberStats, member.id)
    assert stats.points == 100
    assert session.scalar(select(func.sum(PointEntry.delta)).where(PointEntry.member_id == member.id)) == 100
    assert session.scalar(select(func.sum(PointLot.remaining)).where(PointLot.member_id == member.id)) == 100
    assert session.scalar(select(func.count(Order.id))) == 3  # refused checkouts left no order behind
    session.close()


def test_concurrent_awards_with_one_ref_land_once(pg):
    session = pg.db.Session()
    member = make_member(pg, session)

    def award(i):
        s = pg.db.Session()
        try:
            with write_transaction(s):
                return pg.pm.hook.crm_tags_award_points(session=s, member_id=member.id, points=5, reason="check-in",
                                                   ref="checkin:2026-05-01")
        finally:
            s.close()

    results, errors = run_together(10, award)
    assert not errors and len(set(results)) == 1
    session.rollback()
    assert session.get(MemberStats, member.id).points == 5
    session.close()


def completer(pg, orders):
    """``complete(i)`` for run_together: the buyer confirms receipt of ``orders[i]``."""
    from siyu.plugin import confirm_receipt
    from siyu.plugin import Member

    def complete(i):
        s = pg.db.Session()
        try:
            order = s.get(Order, orders[i].id)
            return confirm_receipt(pg, s, order, s.get(Member, order.member_id)).id
        finally:
            s.close()
    return complete


def payer(pg, orders):
    """``pay(i)`` for run_together: pay ``orders[i]`` in a session of its own."""
    from crm_helpers import pay_order

    def pay(i):
        s = pg.db.Session()
        try:
            return pay_order(pg, s, s.get(Order, orders[i].id)).id
        finally:
            s.close()
    return pay


def test_concurrent_paid_orders_keep_stats_exact(pg):
    session = pg.db.Session()
    member = make_member(pg, session)
    product = make_product(session, "TEA-1", price=10000, stock=1000)
    allow_unpaid_orders(session)
    orders = [buy(pg, session, member, product, pay=False) for _ in range(8)]

    results, errors = run_together(8, payer(pg, orders))
    assert not errors, errors
    session.rollback()
    stats = session.get(MemberStats, member.id)
    assert (stats.orders_count, stats.spend, stats.points) == (8, 80000, 0)  # points wait for completion
    for order in orders:
        ship(pg, session, order)
    results, errors = run_together(8, completer(pg, orders))
    assert not errors, errors
    session.rollback()
    session.expire_all()
    stats = session.get(MemberStats, member.id)
    assert (stats.orders_count, stats.spend, stats.completed_spend, stats.points) == (8, 80000, 80000, 800)
    session.close()


def test_concurrent_first_orders_create_the_stats_row_once(pg):
    """A member without a stats row yet (e.g. from before the plugin): the row is found
    missing by every payment at once, inserted by one, locked by all in turn."""
    session = pg.db.Session()
    member = make_member(pg, session)
    product = make_product(session, "TEA-1", price=10000, stock=1000)
    allow_unpaid_orders(session)
    orders = [buy(pg, session, member, product, pay=False) for _ in range(6)]
    with write_transaction(session):
        session.execute(delete(MemberStats).where(MemberStats.member_id == member.id))

    results, errors = run_together(6, payer(pg, orders))
    assert not errors, errors
    session.rollback()
    stats = session.get(MemberStats, member.id)
    assert (stats.orders_count, stats.spend, stats.points) == (6, 60000, 0)
    for order in orders:
        ship(pg, session, order)
    with write_transaction(session):  # gone again before the orders complete
        session.execute(delete(MemberStats).where(MemberStats.member_id == member.id))
    results, errors = run_together(6, completer(pg, orders))
    assert not errors, errors
    session.rollback()
    session.expire_all()
    stats = session.get(MemberStats, member.id)
    assert (stats.completed_spend, stats.points) == (60000, 600)
    session.close()
