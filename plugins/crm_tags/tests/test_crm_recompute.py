"""The full recompute: matches what events maintain, resumes from its cursor, reports progress."""
from datetime import timedelta

from crm_helpers import buy
from sqlalchemy import delete, select, update

from siyu.plugin import hookimpl, Order, utcnow, write_transaction
from siyu.plugin.testing import fresh, make_member

from siyu_crm_tags import recompute
from siyu_crm_tags import tags as tags_mod
from siyu_crm_tags.models import MemberStats, MemberTag, RecomputeJob


def snapshot(db):
    fresh(db)
    return {s.member_id: (s.orders_count, s.spend, s.completed_spend, s.points, s.points_earned, s.f_band, s.m_band,
                          s.level_id)
            for s in db.scalars(select(MemberStats))}


def test_recompute_equals_incremental_and_catches_dormancy(kernel, db, product):
    members = [make_member(kernel, db, f"m{i}@example.com") for i in range(5)]
    for i, m in enumerate(members):
        for _ in range(i):
            buy(kernel, db, m, product)
    dormant = tags_mod.create_tag(db, "沉睡", rule={"kind": "no_order_days", "days": 90})
    before = snapshot(db)
    with write_transaction(db):  # time passes: member 4's orders are old now
        db.execute(update(Order).where(Order.member_id == members[4].id)
                   .values(paid_at=utcnow() - timedelta(days=120)))
        db.execute(delete(MemberStats).where(MemberStats.member_id == members[1].id))  # as if before the plugin
    job = recompute.run(kernel, db, batch=2)
    assert job.status == "done" and job.processed == 5 and job.progress == 100
    after = snapshot(db)
    assert after == before
    tagged = set(db.scalars(select(MemberTag.member_id).where(MemberTag.tag_id == dormant.id)))
    assert members[4].id in tagged and members[3].id not in tagged


def test_recompute_resumes_after_an_interruption(kernel, db):
    for i in range(5):
        make_member(kernel, db, f"r{i}@example.com")
    seen = []
    job = recompute.run(kernel, db, batch=2, max_batches=1, progress=lambda j: seen.append(j.processed))
    assert job.status == "running" and job.processed == 2 and seen == [2]
    job = recompute.run(kernel, db, batch=2, progress=lambda j: seen.append(j.processed))
    assert job.status == "done" and seen[-1] == 5
    assert db.scalar(select(RecomputeJob.cursor)) > 0
    assert len(list(db.scalars(select(RecomputeJob)))) == 1


def test_facts_from_other_plugins_feed_rules(kernel, db, register_plugin, member):
    class Distribution:
        @hookimpl
        def crm_tags_member_facts(self, session, member_ids):
            return {mid: {"distributor": "d7"} for mid in member_ids}

    register_plugin(Distribution(), name="fake-distribution")
    tag = tags_mod.create_tag(db, "分销客户", rule={"kind": "distributor", "value": ""})
    recompute.run(kernel, db)
    assert fresh(db).get(MemberTag, (member.id, tag.id)) is not None
    streak = tags_mod.create_tag(db, "签到达人", rule={"kind": "checkin_streak_at_least", "n": 7})
    with write_transaction(db):
        kernel.pm.hook.crm_tags_record_facts(session=db, member_id=member.id, facts={"checkin_streak": 7})
    assert fresh(db).get(MemberTag, (member.id, streak.id)) is not None


def test_cli_recompute_prints_progress(runner, kernel, db):
    make_member(kernel, db, "c@example.com")
    result = runner.invoke(args=["siyu", "crm", "recompute", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "1/1 members (100%)" in result.output and "done" in result.output
