"""Completion and an after-sales refund of the same order at the same moment, on PostgreSQL:
whichever lands first, points and completed spend end exactly as if one came after the other."""
import secrets

import pytest
from crm_helpers import pay_order, ship
from sqlalchemy import select

from siyu.plugin import after_sales, confirm_receipt, Member, Order, place_order
from siyu.plugin.testing import give_address, make_member, make_product, run_outbox, run_together

from siyu_crm_tags.models import MemberStats, PointEntry

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


@pytest.mark.parametrize("round_", range(3))
def test_receipt_and_an_after_sales_refund_at_once_count_exactly(pg, round_):
    session = pg.db.Session()
    member = make_member(pg, session)
    give_address(session, member)
    tea, cup = make_product(session, "TEA-1", price=10000), make_product(session, "CUP-1", price=6000)
    order = place_order(pg, session, member=member, items={tea.id: 1, cup.id: 1}, payment_method="manual",
                        checkout_token=secrets.token_hex(8))
    pay_order(pg, session, order)
    ship(pg, session, order)
    cup_line = next(line for line in session.get(Order, order.id).lines if line.sku == "CUP-1")
    request = after_sales.request_after_sale(pg, session, session.get(Order, order.id), member,
                                             line_id=cup_line.id, kind="refund_only", reason="damaged")
    after_sales.approve(pg, session, request)
    request_id, order_id = request.id, order.id
    session.close()

    def act(i):
        s = pg.db.Session()
        try:
            if i == 0:
                found = s.get(Order, order_id)
                return confirm_receipt(pg, s, found, s.get(Member, found.member_id)).status
            return after_sales.refund(pg, s, after_sales.get_after_sale(s, request_id)).state
        finally:
            s.close()

    results, errors = run_together(2, act)
    assert errors == [] and sorted(results) == ["completed", "refunded"]
    # Each commit ran its own follow-up work; the one that landed second may have found the
    # first's still running (one order's work runs in order) and left its own to the worker.
    run_outbox(pg)
    session = pg.db.Session()
    stats = session.get(MemberStats, member.id)
    assert (stats.spend, stats.completed_spend, stats.points, stats.points_earned) == (10000, 10000, 100, 100)
    kinds = sorted(session.scalars(select(PointEntry.kind).where(PointEntry.member_id == member.id)))
    assert kinds == ["earn", "earn_reversal"]
    session.close()
