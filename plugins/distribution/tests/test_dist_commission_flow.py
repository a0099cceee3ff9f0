"""Attribution → accrual → release → refunds → payouts, end to end on the services."""
from datetime import timedelta

import pytest
from dist_helpers import bind_to, complete, make_distributor, member, paid_order, refund_order_now
from sqlalchemy import select, update

from siyu.plugin import InvalidTransition, utcnow, ValidationError, write_transaction
from siyu.plugin.testing import fresh, make_product
from siyu_distribution import accrual, config, ledger, payouts
from siyu_distribution.ledger import AppendOnlyError
from siyu_distribution.models import Binding, LedgerEntry, OrderAttribution


def refund(kernel, db, order, amount, key):
    return refund_order_now(kernel, db, order, amount, key)


@pytest.fixture
def team(kernel, db):
    top = make_distributor(kernel, db, name="top")
    mid = make_distributor(kernel, db, recruiter=top, name="mid")
    seller = make_distributor(kernel, db, recruiter=mid, name="seller")
    return top, mid, seller


def test_two_tiers_by_default_on_the_paid_amount(kernel, db, team):
    top, mid, seller = team
    buyer = member(kernel, db)
    bind_to(db, buyer, seller)
    product = make_product(db, price=12345)
    order = paid_order(kernel, db, buyer, {product.id: 2})
    fresh(db)
    attribution = db.get(OrderAttribution, order.id)
    assert attribution.distributor_id == seller.id and attribution.tier2_id == mid.id
    rows = db.scalars(select(LedgerEntry).order_by(LedgerEntry.tier)).all()
    assert [(r.distributor_id, r.tier, r.amount, r.bucket) for r in rows] == [
        (seller.id, 1, 2469, "pending"), (mid.id, 2, 741, "pending")]  # 10 % and 3 % of 246.90
    assert ledger.balances(db, top.id).earned == 0
    assert db.get(Binding, buyer.id).distributor_id == seller.id


def test_release_refund_and_payout(kernel, db, team):
    _, mid, seller = team
    buyer = member(kernel, db)
    bind_to(db, buyer, seller)
    product = make_product(db, price=100000)
    order = paid_order(kernel, db, buyer, {product.id: 1})
    settings = config.load(db)
    assert accrual.release_due(db, settings, utcnow() + timedelta(days=30)) == 0  # not received yet
    complete(kernel, db, order)
    assert accrual.release_due(db, settings, utcnow() + timedelta(days=6)) == 0
    assert accrual.release_due(db, settings, utcnow() + timedelta(days=8)) == 2
    assert accrual.release_due(db, settings, utcnow() + timedelta(days=9)) == 0  # once
    assert ledger.balances(db, seller.id).payable == 10000
    with pytest.raises(ValidationError):
        payouts.request_payout(db, seller.id, 10001, "CNY")  # above payable
    with pytest.raises(ValidationError):
        payouts.request_payout(db, seller.id, 100, "CNY")  # below the minimum
    payout = payouts.request_payout(db, seller.id, 10000, "CNY")
    payouts.approve(db, payout.id)
    payouts.mark_paid(kernel, db, payout.id, "BANK-1")
    with pytest.raises(InvalidTransition):
        payouts.mark_paid(kernel, db, payout.id, "BANK-2")
    assert ledger.balances(db, seller.id).paid == 10000
    # a refund after the payout: a negative payable entry, netted against the next payout
    refund(kernel, db, order, 25000, "r1")
    b = ledger.balances(db, seller.id)
    assert (b.payable, b.paid) == (-2500, 10000)
    refund(kernel, db, order, 75000, "r2")
    assert ledger.balances(db, seller.id).payable == -10000
    assert ledger.balances(db, mid.id).earned == 0  # 3000 accrued, 3000 reversed


def test_partial_refund_before_release_reduces_pending(kernel, db, team):
    _, _, seller = team
    buyer = member(kernel, db)
    bind_to(db, buyer, seller)
    order = paid_order(kernel, db, buyer, {make_product(db, price=999).id: 1})
    refund(kernel, db, order, 333, "p1")
    assert ledger.balances(db, seller.id).pending == 100 - 33
    complete(kernel, db, order)
    accrual.release_due(db, config.load(db), utcnow() + timedelta(days=8))
    assert ledger.balances(db, seller.id).payable == 67 and ledger.balances(db, seller.id).pending == 0


def test_self_purchase_earns_nothing_unless_enabled(kernel, db, team):
    _, _, seller = team
    buyer = db.get(type(member(kernel, db)), seller.member_id)
    bind_to(db, buyer, seller)
    paid_order(kernel, db, buyer, {make_product(db, price=10000).id: 1})
    assert db.scalar(select(LedgerEntry.id)) is None


def test_ledger_rows_cannot_be_changed(kernel, db, team):
    _, _, seller = team
    buyer = member(kernel, db)
    bind_to(db, buyer, seller)
    paid_order(kernel, db, buyer, {make_product(db, price=10000).id: 1})
    row = db.scalar(select(LedgerEntry))
    with pytest.raises(AppendOnlyError):
        with write_transaction(db):
            row.amount = 1
    with pytest.raises(AppendOnlyError):
        with write_transaction(db):
            db.execute(update(LedgerEntry).values(amount=0))
    with pytest.raises(AppendOnlyError):
        with write_transaction(db):
            db.delete(db.get(LedgerEntry, row.id))


def test_plugin_branch_matches_models(kernel):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from siyu.plugin import Base

    with kernel.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}),
                                Base.metadata)
    assert [d for d in diff if "distribution_" in repr(d)] == []
