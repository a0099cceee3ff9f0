"""Commission and fulfilment: the return window counts from the order's completion, an open
after-sales request holds the commission, and an after-sales refund reverses it like any refund."""
from datetime import timedelta

import pytest
from dist_helpers import bind_to, complete, make_distributor, member, paid_order
from sqlalchemy import select

from siyu.plugin import after_sales, Order, ship_order, utcnow
from siyu.plugin.testing import fresh, make_product
from siyu_distribution import accrual, config, ledger
from siyu_distribution.models import LedgerEntry


@pytest.fixture
def sale(kernel, db):
    """A ¥1,000.00 order (¥600 + ¥400 lines) bought through a seller's link: 10 % = 10,000."""
    seller = make_distributor(kernel, db, name="seller")
    buyer = member(kernel, db)
    bind_to(db, buyer, seller)
    order = paid_order(kernel, db, buyer, {make_product(db, price=60000).id: 1, make_product(db, price=40000).id: 1})
    return seller, buyer, order


def release(db, days):
    return accrual.release_due(db, config.load(db), utcnow() + timedelta(days=days))


def test_the_return_window_counts_from_completion_not_payment(kernel, db, sale):
    seller, _, order = sale
    assert release(db, 60) == 0  # paid two months ago and never received: still pending
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF10000001")
    assert release(db, 60) == 0  # shipped, not received
    complete(kernel, db, order, at=utcnow() - timedelta(days=6))  # received 6 days ago; window 7
    assert release(db, 0) == 0
    assert ledger.balances(fresh(db), seller.id).pending == 10000
    assert release(db, 1) == 1
    balances = ledger.balances(fresh(db), seller.id)
    assert (balances.pending, balances.payable) == (0, 10000)


def test_an_open_after_sales_request_holds_the_commission_until_it_is_settled(kernel, db, sale):
    seller, buyer, order = sale
    order = complete(kernel, db, order)
    request = after_sales.request_after_sale(kernel, db, order, buyer, line_id=order.lines[0].id,
                                             kind="return_refund", reason="damaged")
    assert release(db, 8) == 0 and ledger.balances(fresh(db), seller.id).pending == 10000
    after_sales.reject(kernel, db, request, "The photos show no damage.")
    assert release(db, 8) == 1 and ledger.balances(fresh(db), seller.id).payable == 10000


def test_an_after_sales_refund_reverses_pending_commission_for_its_line(kernel, db, sale):
    seller, buyer, order = sale
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF10000001")
    line = fresh(db).get(Order, order.id).lines[0]  # the ¥600 line
    request = after_sales.request_after_sale(kernel, db, order, buyer, line_id=line.id, kind="return_refund",
                                             reason="damaged")
    after_sales.approve(kernel, db, request)
    after_sales.mark_received(kernel, db, request)
    after_sales.refund(kernel, db, request)
    after_sales.refund(kernel, db, request)  # a retry reverses nothing more
    reversals = fresh(db).scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == "reversal")).all()
    assert reversals == [-6000]
    assert ledger.balances(db, seller.id).pending == 4000
    complete(kernel, db, order)
    assert release(db, 8) == 1 and ledger.balances(fresh(db), seller.id).payable == 4000


def test_an_after_sales_refund_after_release_leaves_a_negative_payable_entry(kernel, db, sale):
    seller, buyer, order = sale
    order = complete(kernel, db, order, at=utcnow() - timedelta(days=8))
    assert release(db, 0) == 1
    request = after_sales.request_after_sale(kernel, db, order, buyer, line_id=order.lines[1].id,
                                             kind="refund_only", reason="not_as_described")
    after_sales.approve(kernel, db, request)
    after_sales.refund(kernel, db, request)
    balances = ledger.balances(fresh(db), seller.id)
    assert (balances.payable, balances.pending, balances.earned) == (6000, 0, 6000)
