"""The full recompute: stats, points totals, levels and rule tags for every member.

Runs as a job in batches of member ids, one short transaction per batch; the job row keeps
the cursor (last member id done) and the progress, so an interrupted run resumes where it
stopped and the back office shows how far it is. Events keep members current in between;
the recompute catches what time changes (dormancy) and what happened before the plugin.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from siyu.plugin import PAID_STATES, Member, Order, OrderStatus, Touch, utcnow, write_transaction

from siyu_crm_tags import config, rules
from siyu_crm_tags import stats as stats_mod
from siyu_crm_tags.models import MemberStats, PointEntry, RecomputeJob, Tag

BATCH = 500


def queue(session: Session) -> RecomputeJob:
    """A queued job, or the one already queued or running (never two at once)."""
    with write_transaction(session):
        job = pending(session)
        if job is None:
            job = RecomputeJob(status="queued", total=session.scalar(select(func.count(Member.id))) or 0)
            session.add(job)
    return job


def pending(session: Session) -> RecomputeJob | None:
    return session.scalar(select(RecomputeJob).where(RecomputeJob.status.in_(("queued", "running")))
                          .order_by(RecomputeJob.id).limit(1))


def latest(session: Session) -> RecomputeJob | None:
    return session.scalar(select(RecomputeJob).order_by(RecomputeJob.id.desc()).limit(1))


def run(kernel, session: Session, batch: int = BATCH, now: datetime | None = None,
        progress: Callable[[RecomputeJob], None] | None = None, max_batches: int | None = None) -> RecomputeJob:
    """Run (or resume) the pending job, queueing one if none is pending."""
    job = pending(session) or queue(session)
    with write_transaction(session):
        job = session.get(RecomputeJob, job.id)
        job.status, job.started_at = "running", job.started_at or utcnow()
        job.total = max(job.total, session.scalar(select(func.count(Member.id))) or 0)
    done_batches = 0
    try:
        while max_batches is None or done_batches < max_batches:
            with write_transaction(session):
                job = session.get(RecomputeJob, job.id)
                ids = list(session.scalars(select(Member.id).where(Member.id > job.cursor)
                                           .order_by(Member.id).limit(batch)))
                if not ids:
                    job.status, job.finished_at = "done", utcnow()
                    job.processed = max(job.processed, job.total)
                    break
                recompute_members(kernel, session, ids, now or utcnow())
                job.cursor, job.processed = ids[-1], job.processed + len(ids)
            done_batches += 1
            if progress:
                progress(job)
    except Exception as exc:
        with write_transaction(session):
            failed = session.get(RecomputeJob, job.id)
            failed.status, failed.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
        raise
    if progress and job.status == "done":
        progress(job)
    return job


def recompute_members(kernel, session: Session, member_ids: list[int], now: datetime) -> None:
    """Recompute everything for ``member_ids`` inside the caller's transaction."""
    cfg = config.load(session)
    stats_mod.ensure(session, member_ids)
    rows = {s.member_id: s for s in session.scalars(
        select(MemberStats).where(MemberStats.member_id.in_(member_ids)).order_by(MemberStats.member_id)
        .with_for_update().execution_options(populate_existing=True))}
    counted = Order.status != OrderStatus.REFUNDED.value  # a fully refunded order is no purchase
    kept = Order.total - Order.refunded_amount
    orders = session.execute(
        select(Order.member_id, func.sum(case((counted, 1), else_=0)), func.coalesce(func.sum(kept), 0),
               func.min(Order.paid_at), func.max(Order.paid_at),
               func.coalesce(func.sum(case((Order.completed_at.is_not(None), kept), else_=0)), 0))
        .where(Order.member_id.in_(member_ids), Order.status.in_(PAID_STATES)).group_by(Order.member_id))
    by_member = {row[0]: row[1:] for row in orders}
    ledger = dict(session.execute(select(PointEntry.member_id, func.sum(PointEntry.delta))
                                  .where(PointEntry.member_id.in_(member_ids)).group_by(PointEntry.member_id)).all())
    earned = dict(session.execute(
        select(PointEntry.member_id, func.sum(PointEntry.delta))
        .where(PointEntry.member_id.in_(member_ids),
               PointEntry.kind.in_(("earn", "award", "earn_reversal"))).group_by(PointEntry.member_id)).all())
    channels: dict[int, str] = {}
    for member_id, value in session.execute(
            select(Touch.member_id, Touch.value).where(Touch.member_id.in_(member_ids), Touch.source == "channel")
            .order_by(Touch.created_at.desc(), Touch.id.desc())):
        channels[member_id] = value  # the earliest wins: rows come newest first
    facts: dict[int, dict] = {}
    for answer in kernel.pm.hook.crm_tags_member_facts(session=session, member_ids=member_ids):
        for member_id, values in (answer or {}).items():
            facts.setdefault(int(member_id), {}).update(values)
    ordered_levels = stats_mod.levels(session)
    for member_id, stats in rows.items():
        count, spend, first, last, completed = by_member.get(member_id, (0, 0, None, None, 0))
        stats.orders_count, stats.spend = int(count or 0), int(spend or 0)
        stats.completed_spend = int(completed or 0)
        stats.first_order_at, stats.last_order_at = first, last
        stats.points = int(ledger.get(member_id) or 0)
        stats.points_earned = int(earned.get(member_id) or 0)
        stats.channel = channels.get(member_id, stats.channel)
        stats_mod.apply_facts(stats, facts.get(member_id, {}))
        stats_mod.refresh_derived(stats, cfg, ordered_levels)
    session.flush()
    rule_tags = [t for t in session.scalars(select(Tag).where(Tag.rule.is_not(None))) if t.rule]
    rules.apply(session, member_ids, now, rule_tags)


def job(kernel) -> None:
    """The task-queue entry point: run the pending recompute in a session of its own."""
    session = kernel.db.Session()
    try:
        run(kernel, session)
    finally:
        session.close()
