"""What time alone changes, on the worker's schedule with no cron: the nightly recompute of
levels and rule tags, and expired points written off."""
from datetime import timedelta

from sqlalchemy import func, select

from siyu.plugin import utcnow, write_transaction
from siyu.plugin.testing import fresh, make_member

from siyu_crm_tags import config, plugin, points, recompute
from siyu_crm_tags.models import MemberStats, RecomputeJob


def scheduled():
    found = {}
    plugin.register_jobs(lambda name, func, **options: found.setdefault(name, (func, options)))
    return found


def test_every_member_is_recomputed_nightly_unless_a_recompute_is_pending(kernel, db):
    nightly, options = scheduled()["crm_tags.nightly_recompute"]
    assert options["daily_at"] == "04:00" and options["label"]
    member = make_member(kernel, db)
    nightly(kernel)
    job = fresh(db).scalars(select(RecomputeJob)).one()
    assert (job.status, job.processed) == ("done", 1)
    assert db.get(MemberStats, member.id) is not None
    queued = recompute.queue(db)  # the owner changed a level: that recompute covers the night
    nightly(kernel)
    assert fresh(db).scalar(select(func.count(RecomputeJob.id))) == 2
    assert db.get(RecomputeJob, queued.id).status == "queued"


def test_points_past_their_date_are_written_off_nightly(kernel, db):
    expire, options = scheduled()["crm_tags.expire_points"]
    assert options["daily_at"] == "00:15" and options["label"]
    member = make_member(kernel, db)
    cfg = config.load(db)
    earned_at = utcnow() - timedelta(days=31 * (cfg.expiry_months + 1))
    with write_transaction(db):
        points.credit(db, cfg, member.id, 70, "award", "gift", "gift-1", now=earned_at)
    assert expire(kernel) == 70
    assert expire(kernel) == 0
    assert fresh(db).scalar(select(MemberStats.points).where(MemberStats.member_id == member.id)) == 0
