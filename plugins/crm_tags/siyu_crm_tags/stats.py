"""Member stats kept current on order events: counts, spend, RFM bands, level, facts.

The order events' figures are counted after the state change commits (outbox tasks in
``siyu_crm_tags.after``), from what the change saw; points stay in its transaction.

The row per member is created lazily (insert-if-missing, safe when two transactions race)
and locked before any change, so it is also the per-member mutex for points.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from siyu.plugin import Touch, utcnow

from siyu_crm_tags.config import Config
from siyu_crm_tags.models import Level, MemberStats


def band_up(value: int, thresholds: Iterable[int]) -> int:
    """How many thresholds ``value`` reaches: 0 below the first, ``len`` at the last."""
    return sum(1 for t in thresholds if value >= t)


def recency_band(last_order_at: datetime | None, now: datetime, days: tuple[int, ...]) -> int:
    """``len(days) + 1`` for an order within ``days[0]`` days ... 1 beyond the last; 0 never."""
    if last_order_at is None:
        return 0
    return len(days) + 1 - sum(1 for d in days if last_order_at < now - timedelta(days=d))


def activity(last_order_at: datetime | None, now: datetime, dormant_days: int) -> str:
    """``active`` (an order within the window), ``dormant`` (bought, not lately), ``prospect``."""
    if last_order_at is None:
        return "prospect"
    return "active" if last_order_at >= now - timedelta(days=dormant_days) else "dormant"


def ensure(session: Session, member_ids: Iterable[int]) -> None:
    """Create missing stats rows; concurrent callers never fail on the primary key."""
    rows = [{"member_id": mid, "updated_at": utcnow()} for mid in member_ids]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(MemberStats).values(rows).on_conflict_do_nothing(index_elements=["member_id"]))


def lock(session: Session, member_id: int) -> MemberStats:
    """The member's stats row, created if needed and locked until the transaction ends."""
    # Nearly every member already has a row: lock it straight away. A missing row is
    # inserted (a racing first insert waits and then does nothing) and locked after.
    stats = _select_locked(session, member_id)
    if stats is None:
        ensure(session, [member_id])
        stats = _select_locked(session, member_id)
    return stats


def _select_locked(session: Session, member_id: int) -> MemberStats | None:
    return session.scalar(select(MemberStats).where(MemberStats.member_id == member_id)
                          .with_for_update().execution_options(populate_existing=True))


def levels(session: Session) -> list[Level]:
    return list(session.scalars(select(Level).order_by(Level.threshold)))


def level_for(value: int, ordered_levels: list[Level]) -> int | None:
    found = None
    for level in ordered_levels:
        if value >= level.threshold:
            found = level.id
    return found


def level_basis(stats: MemberStats, cfg: Config) -> int:
    """What levels count: completed orders only. Points are earned, and completed spend
    counted, by ``on_order_completed``; a paid order counts toward the bands at once."""
    return stats.points_earned if cfg.level_basis == "points" else stats.completed_spend


def refresh_derived(stats: MemberStats, cfg: Config, ordered_levels: list[Level]) -> None:
    """Bands and level from the row's own figures."""
    stats.f_band = band_up(stats.orders_count, cfg.frequency_orders)
    stats.m_band = band_up(max(stats.spend, 0), cfg.monetary_spend)
    stats.level_id = level_for(level_basis(stats, cfg), ordered_levels)
    stats.updated_at = utcnow()


def order_paid(session: Session, cfg: Config, member_id: int, spend: int, paid_at: datetime,
               ordered_levels: list[Level] | None = None) -> MemberStats:
    """Count a paid order (``spend``: what was left of it when it was paid); returns the
    member's row, locked. Runs after the payment committed (``siyu_crm_tags.after``)."""
    stats = lock(session, member_id)
    # Read before changing the row, so that these queries do not flush it half-way.
    channel = first_channel(session, member_id) if stats.channel is None else None
    ordered_levels = levels(session) if ordered_levels is None else ordered_levels
    stats.orders_count += 1
    stats.spend += spend
    stats.first_order_at = min(filter(None, [stats.first_order_at, paid_at]))
    stats.last_order_at = max(filter(None, [stats.last_order_at, paid_at]))
    if stats.channel is None:
        stats.channel = channel
    refresh_derived(stats, cfg, ordered_levels)
    return stats


def order_completed(session: Session, cfg: Config, member_id: int, spend: int,
                    ordered_levels: list[Level] | None = None) -> MemberStats:
    """Count a completed order toward levels (``spend``: what was left of it after refunds so
    far, when it completed); returns the member's row, locked. The core completes an order once."""
    stats = lock(session, member_id)
    ordered_levels = levels(session) if ordered_levels is None else ordered_levels
    stats.completed_spend += max(spend, 0)
    refresh_derived(stats, cfg, ordered_levels)
    return stats


def order_refunded(session: Session, cfg: Config, member_id: int, amount: int, *, total: int, refunded: int,
                   completed: bool, ordered_levels: list[Level] | None = None) -> MemberStats:
    """Take a refund of ``amount`` off the member's figures, as the refund saw the order (its
    ``total``, ``refunded`` in all with this one, whether it was ``completed``); returns the row, locked."""
    stats = lock(session, member_id)
    ordered_levels = levels(session) if ordered_levels is None else ordered_levels
    stats.spend -= amount
    if completed:  # counted toward levels already: take it off there too
        stats.completed_spend = max(stats.completed_spend - amount, 0)
    if refunded - amount < total <= refunded:
        stats.orders_count = max(0, stats.orders_count - 1)  # fully refunded: not a purchase
    refresh_derived(stats, cfg, ordered_levels)
    return stats


def first_channel(session: Session, member_id: int) -> str | None:
    return session.scalar(select(Touch.value).where(Touch.member_id == member_id, Touch.source == "channel")
                          .order_by(Touch.created_at, Touch.id).limit(1))


def apply_facts(stats: MemberStats, facts: dict) -> bool:
    """Facts other plugins report (``distributor``, ``checkin_streak``, ``channel``)."""
    changed = False
    if "distributor" in facts:
        value = facts["distributor"]
        value = None if value in (None, "") else str(value)[:64]
        changed |= value != stats.distributor
        stats.distributor = value
    if "checkin_streak" in facts:
        value = max(0, int(facts["checkin_streak"] or 0))
        changed |= value != stats.checkin_streak
        stats.checkin_streak = value
    if facts.get("channel") and stats.channel is None:
        stats.channel = str(facts["channel"])[:128]
        changed = True
    return changed
