"""Check-in, streaks, rewards through other plugins' hooks, and make-up days."""
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from checkin_helpers import Rewards, at, days, set_checkin
from sqlalchemy import func, select, update

from siyu.plugin import Member, MemberInteraction, ValidationError, write_transaction
from siyu.plugin.testing import fresh
from siyu_checkin import service
from siyu_checkin.models import Checkin, CheckinMember, CheckinReward
from siyu_checkin.rewards import NO_PLUGIN, reward_day

MAY1 = at("2026-05-01T10:00:00+08:00")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rewards(register_plugin):
    return register_plugin(Rewards(balance=100), name="test-rewards")


def joined_long_ago(db, member):
    with write_transaction(db):
        db.execute(update(Member).where(Member.id == member.id).values(created_at=at("2025-01-01T00:00:00+00:00")))
    db.refresh(member)


def count(db, model=Checkin):
    return fresh(db).scalar(select(func.count()).select_from(model))


def test_one_checkin_per_local_day_and_it_is_an_interaction(kernel, db, member):
    first = service.check_in(kernel, db, member, now=MAY1)
    again = service.check_in(kernel, db, member, now=MAY1 + timedelta(hours=13, minutes=59))  # 23:59 local
    assert (first.status, first.streak, str(first.local_date)) == ("checked_in", 1, "2026-05-01")
    assert again.status == "already" and again.streak == 1
    assert count(db) == 1
    kinds = db.scalars(select(MemberInteraction.kind).where(MemberInteraction.member_id == member.id)).all()
    assert kinds == ["checkin"]


def test_streak_continues_breaks_and_keeps_the_best(kernel, db, member):
    for n in range(4):
        outcome = service.check_in(kernel, db, member, now=MAY1 + days(n))
    assert outcome.streak == 4 and outcome.best == 4
    outcome = service.check_in(kernel, db, member, now=MAY1 + days(6))  # missed two days
    assert (outcome.streak, outcome.best) == (1, 4)
    stats = fresh(db).get(CheckinMember, member.id)
    assert (stats.current_streak, stats.best_streak, stats.total) == (1, 4, 5)
    assert service.streak_alive(stats, (MAY1 + days(7)).date(), SHANGHAI) == 1
    assert service.streak_alive(stats, (MAY1 + days(8)).date(), SHANGHAI) == 0


def test_inactive_member_cannot_check_in(kernel, db, member):
    with write_transaction(db):
        db.execute(update(Member).where(Member.id == member.id).values(active=False))
    db.refresh(member)
    with pytest.raises(ValidationError):
        service.check_in(kernel, db, member, now=MAY1)
    assert count(db) == 0


@pytest.mark.siyu_alone  # no rewards plugin (crm_tags, coupons) enabled
def test_without_a_rewards_plugin_the_checkin_is_kept_and_the_reward_says_why(kernel, db, member):
    outcome = service.check_in(kernel, db, member, now=MAY1)
    assert outcome.status == "checked_in" and outcome.points == 0
    reward = fresh(db).scalar(select(CheckinReward))
    assert (reward.kind, reward.points, reward.status, reward.note) == ("points", 5, "not_delivered", NO_PLUGIN)


def test_schedule_gives_daily_points_and_bonuses_on_days_3_and_7(kernel, db, member, rewards):
    set_checkin(db, bonus_coupons="7=WEEK7")
    outcomes = [service.check_in(kernel, db, member, now=MAY1 + days(n)) for n in range(7)]
    assert [o.points for o in outcomes] == [5, 5, 15, 5, 5, 5, 35]
    assert list(rewards.coupons.values()) == ["WEEK7"]
    assert sum(rewards.awarded.values()) == 75
    statuses = set(fresh(db).scalars(select(CheckinReward.status)))
    assert statuses == {"delivered"}


def test_reward_refs_make_redelivery_idempotent(kernel, db, member, rewards):
    rewards.fail = True
    service.check_in(kernel, db, member, now=MAY1)
    reward = fresh(db).scalar(select(CheckinReward))
    assert reward.status == "failed" and "points service down" in reward.note
    assert count(db) == 1  # a failing rewards plugin never undoes the check-in
    rewards.fail = False
    from siyu_checkin.rewards import retry

    with write_transaction(db):
        assert retry(kernel, db) == 1
    with write_transaction(db):
        assert retry(kernel, db) == 0
    assert list(rewards.awarded.values()) == [5]


def test_reward_cycle_restarts_the_schedule():
    assert [reward_day(s, 7) for s in (1, 7, 8, 14, 15)] == [1, 7, 1, 7, 1]
    assert reward_day(40, 0) == 40


def test_make_up_restores_the_streak_and_costs_points(kernel, db, member, rewards):
    joined_long_ago(db, member)
    for n in (0, 1, 3, 4):  # missed May 3
        service.check_in(kernel, db, member, now=MAY1 + days(n))
    assert fresh(db).get(CheckinMember, member.id).current_streak == 2
    outcome = service.make_up(kernel, db, member, (MAY1 + days(2)).date(), now=MAY1 + days(4))
    assert (outcome.streak, outcome.best) == (5, 5)
    assert rewards.balance == 80 and list(rewards.spent) == [f"checkin-makeup:{member.id}:2026-05-03"]
    streaks = fresh(db).scalars(select(Checkin.streak).where(Checkin.member_id == member.id)
                                .order_by(Checkin.local_date)).all()
    assert streaks == [1, 2, 3, 4, 5]
    # Tomorrow continues the restored streak.
    assert service.check_in(kernel, db, member, now=MAY1 + days(5)).streak == 6


def test_make_up_rules(kernel, db, member, rewards):
    joined_long_ago(db, member)
    now = at("2026-05-10T09:00:00+08:00")
    service.check_in(kernel, db, member, now=at("2026-05-05T09:00:00+08:00"))
    for bad in ("2026-04-30", "2026-05-10", "2026-05-11", "2026-05-05"):
        with pytest.raises(ValidationError):
            service.make_up(kernel, db, member, __import__("datetime").date.fromisoformat(bad), now=now)
    set_checkin(db, makeup_per_month=1)
    service.make_up(kernel, db, member, now.date() - days(1), now=now)
    with pytest.raises(ValidationError, match="used all 1"):
        service.make_up(kernel, db, member, now.date() - days(2), now=now)
    rewards.balance = 5
    set_checkin(db, makeup_per_month=5)
    with pytest.raises(ValidationError, match="Not enough points"):
        service.make_up(kernel, db, member, now.date() - days(3), now=now)
    assert count(db) == 2  # nothing half-written
    set_checkin(db, makeup_per_month=0)
    with pytest.raises(ValidationError, match="turned off"):
        service.make_up(kernel, db, member, now.date() - days(3), now=now)


@pytest.mark.siyu_alone  # no rewards plugin (crm_tags, coupons) enabled
def test_make_up_with_a_cost_needs_a_points_plugin(kernel, db, member):
    joined_long_ago(db, member)
    with pytest.raises(ValidationError, match="points are not available"):
        service.make_up(kernel, db, member, MAY1.date(), now=MAY1 + days(1))
    set_checkin(db, makeup_cost_points=0)
    assert service.make_up(kernel, db, member, MAY1.date(), now=MAY1 + days(1)).streak == 1


def test_on_checkin_hook_and_crm_facts(kernel, db, member, register_plugin):
    from siyu.plugin import hookimpl

    seen = []

    class Listener:
        @hookimpl
        def checkin_on_checked_in(self, member_id, checkin):
            seen.append((member_id, checkin.kind, checkin.streak))

        @hookimpl
        def crm_tags_record_facts(self, member_id, facts):
            seen.append(dict(facts))

    register_plugin(Listener(), name="listener")
    service.check_in(kernel, db, member, now=MAY1)
    assert seen == [{"checkin_streak": 1}, (member.id, "daily", 1)]


def test_channel_adapters_check_in_through_the_hook(kernel, db, member):
    with write_transaction(db):
        result = kernel.pm.hook.checkin_perform(kernel=kernel, session=db, member_id=member.id, channel="web", at=MAY1)
    assert result["status"] == "checked_in" and result["streak"] == 1 and "Streak" in result["message"]
    with write_transaction(db):
        again = kernel.pm.hook.checkin_perform(kernel=kernel, session=db, member_id=member.id, channel="web", at=MAY1)
    assert again["status"] == "already"


def test_data_export_lists_the_days(kernel, db, member):
    from siyu.plugin import export_member

    service.check_in(kernel, db, member, now=MAY1)
    exported = export_member(kernel, fresh(db), member.id)
    assert exported["checkin"]["days"][0]["date"] == "2026-05-01"
