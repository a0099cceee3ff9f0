"""Exactly-once commission and safe payouts, proven on PostgreSQL with concurrent threads."""
from datetime import timedelta

import pytest
from dist_helpers import bind_to, complete, make_distributor, member, refund_order_now
from sqlalchemy import func, select, text

from siyu.plugin import Payment, place_order, SiyuError, utcnow, write_transaction
from siyu.plugin.testing import make_product, process_event, run_together
from siyu_distribution import accrual, config, distributors, ledger, payouts
from siyu_distribution.models import LedgerEntry

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


def card_order(pg, session, buyer, price, intent):
    product = make_product(session, price=price)
    order = place_order(pg, session, member=buyer, items={product.id: 1}, payment_method="manual",
                        checkout_token=f"tok-{intent}")
    with write_transaction(session):
        session.add(Payment(order_id=order.id, provider="stripe", reference=intent, amount=order.total,
                            currency="CNY"))
    return order


def succeeded(event_id, intent, amount):
    return {"id": event_id, "type": "payment_intent.succeeded", "data": {"object": {"id": intent, "amount": amount}}}


def accruals(session):
    session.rollback()
    return session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "accrual"))


def test_replayed_and_concurrent_webhooks_accrue_once(pg):
    session = pg.db.Session()
    top = make_distributor(pg, session)
    seller = make_distributor(pg, session, recruiter=top)
    buyer = member(pg, session)
    bind_to(session, buyer, seller)
    order = card_order(pg, session, buyer, 50000, "pi_replay")
    for _ in range(3):  # the same event replayed three times
        process_event(pg, session, succeeded("evt_replay", "pi_replay", 50000))
    assert accruals(session) == 2  # seller and recruiter, once each

    other = card_order(pg, session, buyer, 30000, "pi_conc")

    def deliver(i):
        s = pg.db.Session()
        try:  # ten deliveries: some the same event id, some distinct ids for the same intent
            return process_event(pg, s, succeeded(f"evt_conc_{i % 3}", "pi_conc", 30000))
        finally:
            s.close()

    results, errors = run_together(10, deliver)
    assert errors == []
    assert results.count("processed") == 3 and results.count("duplicate") == 7
    assert accruals(session) == 4
    assert session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.order_id == other.id)) == 3900
    session.close()


def test_refund_reverses_and_after_payout_leaves_a_negative_entry(pg):
    session = pg.db.Session()
    seller = make_distributor(pg, session)
    buyer = member(pg, session)
    bind_to(session, buyer, seller)
    order = card_order(pg, session, buyer, 100000, "pi_refund")
    process_event(pg, session, succeeded("evt_refund", "pi_refund", 100000))
    refund_order_now(pg, session, order, 40000, "half-ish")
    assert ledger.balances(session, seller.id).pending == 6000
    complete(pg, session, order)
    accrual.release_due(session, config.load(session), utcnow() + timedelta(days=8))
    payout = payouts.request_payout(session, seller.id, 6000, "CNY")
    payouts.approve(session, payout.id)
    payouts.mark_paid(pg, session, payout.id, "TRANSFER-9")
    refund_order_now(pg, session, order, 60000, "rest")
    balances = ledger.balances(session, seller.id)
    assert (balances.payable, balances.paid, balances.pending) == (-6000, 6000, 0)
    assert balances.earned == 0
    session.close()


def test_concurrent_payout_requests_never_exceed_payable(pg):
    session = pg.db.Session()
    seller = make_distributor(pg, session)
    buyer = member(pg, session)
    bind_to(session, buyer, seller)
    order = card_order(pg, session, buyer, 200000, "pi_payout")
    process_event(pg, session, succeeded("evt_payout", "pi_payout", 200000))
    complete(pg, session, order)
    accrual.release_due(session, config.load(session), utcnow() + timedelta(days=8))
    assert ledger.payable(session, seller.id) == 20000
    session.close()

    def request(i):
        s = pg.db.Session()
        try:
            return payouts.request_payout(s, seller.id, 6000, "CNY").id
        finally:
            s.close()

    results, errors = run_together(8, request)
    assert len(results) == 3 and len(errors) == 5
    assert all(isinstance(e, SiyuError) and e.status == 422 for e in errors)
    session = pg.db.Session()
    assert ledger.payable(session, seller.id) == 2000
    assert ledger.balances(session, seller.id).held == 18000
    assert order.id
    session.close()


def test_the_database_refuses_to_change_ledger_rows(pg):
    session = pg.db.Session()
    seller = make_distributor(pg, session)
    buyer = member(pg, session)
    bind_to(session, buyer, seller)
    card_order(pg, session, buyer, 1000, "pi_trigger")
    process_event(pg, session, succeeded("evt_trigger", "pi_trigger", 1000))
    for sql in ("UPDATE distribution_ledger SET amount = 0", "DELETE FROM distribution_ledger",
                "TRUNCATE distribution_ledger CASCADE"):
        with pytest.raises(Exception, match="append-only"):
            with write_transaction(session):
                session.execute(text(sql))
    assert accruals(session) == 1
    session.close()


def test_concurrent_moves_in_the_tree_never_make_a_cycle(pg):
    """The owner moves A under B while another owner moves B under A: one move is refused."""
    session = pg.db.Session()
    pairs = [(make_distributor(pg, session), make_distributor(pg, session)) for _ in range(5)]
    session.close()

    for a, b in pairs:
        def move(i, a=a, b=b):
            s = pg.db.Session()
            try:
                mover, recruiter = (a, b) if i == 0 else (b, a)
                return distributors.set_recruiter(s, mover.id, recruiter.id)
            finally:
                s.close()

        results, errors = run_together(2, move)
        assert len(results) == 1 and len(errors) == 1
        assert isinstance(errors[0], SiyuError) and errors[0].status == 422
        session = pg.db.Session()
        assert distributors.upline_ids(session, a.id, 10) in ([b.id], [])
        assert distributors.upline_ids(session, b.id, 10) in ([a.id], [])
        assert len(distributors.upline_ids(session, a.id, 10) + distributors.upline_ids(session, b.id, 10)) == 1
        session.close()
