"""Points: earned per amount paid once the order is completed, reversed on refund, redeemed at
checkout, expiring exactly."""
from datetime import datetime, timedelta, timezone

import pytest
from crm_helpers import buy, complete_order
from sqlalchemy import func, select

from siyu.plugin import cancel_order, refund_order, ValidationError, write_transaction
from siyu.plugin.testing import fresh, make_product

from siyu_crm_tags import config, points
from siyu_crm_tags.models import MemberStats, PointEntry, PointLot


def balance(db, member_id):
    fresh(db)
    return db.scalar(select(MemberStats.points).where(MemberStats.member_id == member_id))


def ledger_sum(db, member_id):
    return db.scalar(select(func.sum(PointEntry.delta)).where(PointEntry.member_id == member_id)) or 0


def lots_remaining(db, member_id):
    return db.scalar(select(func.sum(PointLot.remaining)).where(PointLot.member_id == member_id)) or 0


def assert_consistent(db, member_id):
    stats = fresh(db).get(MemberStats, member_id)
    assert stats.points == ledger_sum(db, member_id)
    assert lots_remaining(db, member_id) == max(stats.points, 0)


def test_add_months_is_calendar_exact():
    start = datetime(2026, 1, 31, 10, 30, tzinfo=timezone.utc)
    assert points.add_months(start, 1) == datetime(2026, 2, 28, 10, 30, tzinfo=timezone.utc)
    assert points.add_months(start, 13) == datetime(2027, 2, 28, 10, 30, tzinfo=timezone.utc)
    assert points.add_months(datetime(2028, 1, 31, tzinfo=timezone.utc), 1).day == 29
    assert points.add_months(start, 12) == datetime(2027, 1, 31, 10, 30, tzinfo=timezone.utc)


def test_completed_order_earns_once_per_yuan(kernel, db, member, product):
    order = buy(kernel, db, member, product, quantity=2)  # 200.00 CNY
    assert balance(db, member.id) == 0  # paid: nothing yet
    complete_order(kernel, db, order)
    assert balance(db, member.id) == 200
    entry = db.scalar(select(PointEntry).where(PointEntry.member_id == member.id))
    assert (entry.kind, entry.delta, entry.ref, entry.order_id) == ("earn", 200, f"order:{order.id}", order.id)
    assert fresh(db).get(MemberStats, member.id).points_earned == 200
    assert_consistent(db, member.id)


def test_refund_reverses_earn_proportionally_and_exactly(kernel, db, member, product):
    order = buy(kernel, db, member, product, quantity=3, complete=True)  # 300.00 → 300 points
    refund_order(kernel, db, order, 10001, "r-1")  # a third and a fen
    assert balance(db, member.id) == 300 - 100
    refund_order(kernel, db, fresh(db).get(type(order), order.id), 19999, "r-2")  # the rest
    assert balance(db, member.id) == 0
    kinds = db.scalars(select(PointEntry.kind).where(PointEntry.member_id == member.id)
                       .order_by(PointEntry.id)).all()
    assert kinds == ["earn", "earn_reversal", "earn_reversal"]
    stats = fresh(db).get(MemberStats, member.id)
    assert stats.points_earned == 0 and stats.orders_count == 0 and stats.spend == 0
    assert_consistent(db, member.id)


def test_refund_of_spent_points_leaves_a_debt_paid_by_later_earnings(kernel, db, member, product):
    first = buy(kernel, db, member, product, complete=True)  # +100
    cheap = make_product(db, "TEA-2", price=1000)
    buy(kernel, db, member, cheap, inputs={"crm_points": "max"}, complete=True)  # all 100 points = 1.00 off 10.00
    assert balance(db, member.id) == 0 + 9  # earned 9 on the 9.00 paid
    refund_order(kernel, db, first, 10000, "r-all")
    assert balance(db, member.id) == 9 - 100
    assert_consistent(db, member.id)
    buy(kernel, db, member, product, complete=True)  # +100 pays the debt first
    assert balance(db, member.id) == 9
    assert_consistent(db, member.id)


def test_redemption_is_capped_and_reserved_and_released_on_cancel(kernel, db, member, product):
    buy(kernel, db, member, product, quantity=5, complete=True)  # +500 points
    order = buy(kernel, db, member, product, inputs={"crm_points": "max"}, pay=False)
    adj = next(a for a in order.adjustments if a.code == "points")
    assert adj.amount == -500 and adj.stage == "redemption"  # 500 points = 5.00, under the 50 % cap
    assert order.total == 10000 - 500
    assert balance(db, member.id) == 0
    cancel_order(kernel, db, fresh(db).get(type(order), order.id), "customer")
    assert balance(db, member.id) == 500
    assert_consistent(db, member.id)
    with pytest.raises(ValidationError):
        buy(kernel, db, member, make_product(db, "TEA-3", price=600), inputs={"crm_points": "400"})  # cap 300


def test_award_hook_is_idempotent_per_ref(kernel, db, member):
    with write_transaction(db):
        first = kernel.pm.hook.crm_tags_award_points(session=db, member_id=member.id, points=5, reason="check-in",
                                                ref="checkin:2026-05-01")
    with write_transaction(db):
        again = kernel.pm.hook.crm_tags_award_points(session=db, member_id=member.id, points=5, reason="check-in",
                                                ref="checkin:2026-05-01")
    assert first == again and balance(db, member.id) == 5
    with pytest.raises(ValidationError), write_transaction(db):
        kernel.pm.hook.crm_tags_award_points(session=db, member_id=member.id, points=-3, reason="x", ref="neg")


def test_expiry_is_exact_to_the_second(kernel, db, member):
    cfg = config.load(db)
    earned_at = datetime(2026, 1, 31, 12, 0, tzinfo=timezone.utc)
    with write_transaction(db):
        points.credit(db, cfg, member.id, 70, "award", "gift", "gift-1", now=earned_at)
    expiry = points.add_months(earned_at, cfg.expiry_months)
    just_before = expiry - timedelta(seconds=1)
    assert points.available(db, member.id, just_before) == 70
    assert points.available(db, member.id, expiry) == 0  # counted as gone before any job ran
    assert points.expire_due(kernel, db, just_before) == 0
    assert points.expire_due(kernel, db, expiry) == 70
    assert points.expire_due(kernel, db, expiry) == 0
    assert balance(db, member.id) == 0
    assert_consistent(db, member.id)


def test_spending_draws_first_to_expire_first(kernel, db, member):
    cfg = config.load(db)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with write_transaction(db):
        points.credit(db, cfg, member.id, 50, "award", "old", "a", now=t0)
        points.credit(db, cfg, member.id, 50, "award", "new", "b", now=t0 + timedelta(days=40))
    order = type("O", (), {"member_id": member.id, "id": None, "number": "X"})()
    with write_transaction(db):
        points.redeem(db, cfg, order, 60, now=t0 + timedelta(days=41))
    expiry_old = points.add_months(t0, cfg.expiry_months)
    assert points.expire_due(kernel, db, expiry_old) == 0  # the old lot was spent first
    assert points.available(db, member.id, expiry_old) == 40
