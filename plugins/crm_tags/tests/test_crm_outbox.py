"""Statistics, levels and rule tags are counted after the payment commits (the outbox), from what
the payment saw; points stay in the state change's transaction. A crash between a commit and the
outbox's run loses nothing: a worker that starts afterwards counts it, and a refund recorded
meanwhile is counted after its payment."""
from __future__ import annotations

from crm_helpers import buy, complete_order
from sqlalchemy import select

from siyu.plugin import Order, refund_order
from siyu.plugin.testing import create_app, fresh, run_outbox

from siyu_crm_tags import tags as tags_mod
from siyu_crm_tags.models import MemberStats, MemberTag


def stats_of(db, member):
    return fresh(db).get(MemberStats, member.id)


def test_the_payments_transaction_records_the_counting_and_the_worker_does_it(kernel, db, member, product,
                                                                            monkeypatch):
    buyers = tags_mod.create_tag(db, "买过的", rule={"kind": "orders_at_least", "n": 1})
    monkeypatch.setitem(kernel.config, "OUTBOX_INLINE", False)  # a shop whose worker runs the outbox
    buy(kernel, db, member, product)
    stats = stats_of(db, member)
    assert stats is None or stats.orders_count == 0  # nothing counted in the payment's transaction
    assert run_outbox(kernel).get("done", 0) >= 2  # stats and rule tags (crm_tags), the contact window (core)
    stats = stats_of(db, member)
    assert (stats.orders_count, stats.spend) == (1, 10000)
    assert db.scalar(select(MemberTag.member_id).where(MemberTag.tag_id == buyers.id)) == member.id
    assert run_outbox(kernel) == {}  # once


def test_a_crash_after_the_commits_loses_nothing_and_the_refund_counts_after_its_payment(app, kernel, db, member,
                                                                                          product, monkeypatch):
    monkeypatch.setitem(kernel.config, "OUTBOX_INLINE", False)
    buy(kernel, db, member, product, complete=True)  # paid, shipped, completed: earns its points
    refunded = buy(kernel, db, member, product)
    refund_order(kernel, db, fresh(db).get(Order, refunded.id), 10000, "all")  # fully refunded
    stats = stats_of(db, member)
    assert (stats.points, stats.orders_count, stats.completed_spend) == (100, 0, 0)  # points: in the transaction
    # The shop went down before any worker ran: the next process's worker counts everything.
    restarted = create_app(dict(app.config, OUTBOX_INLINE=False), instance_path=app.instance_path)
    try:
        outcomes = run_outbox(restarted.extensions["siyu"])
    finally:
        restarted.extensions["siyu"].db.dispose()
    # crm_tags: 2 paid, 1 completed, 1 refunded; the core: 2 contact windows, 3 notices
    assert set(outcomes) == {"done"} and outcomes["done"] >= 9
    stats = stats_of(db, member)
    assert (stats.orders_count, stats.spend, stats.completed_spend, stats.points) == (1, 10000, 10000, 100)


def test_levels_follow_completed_orders_once_the_outbox_ran(kernel, db, member, product):
    complete_order(kernel, db, buy(kernel, db, member, product))
    stats = stats_of(db, member)  # inline (the default): counted right after each commit
    assert (stats.orders_count, stats.completed_spend, stats.points_earned) == (1, 10000, 100)
