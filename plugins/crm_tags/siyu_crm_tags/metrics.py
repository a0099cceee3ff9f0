"""CRM figures for the dashboard, computed in SQL on the stats table."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siyu.plugin import Member, utcnow

from siyu_crm_tags.config import Config
from siyu_crm_tags.models import Level, MemberStats


def _active_members():
    return select(MemberStats).join(Member, Member.id == MemberStats.member_id).where(Member.active.is_(True))


def activity_counts(session: Session, cfg: Config, now: datetime | None = None) -> dict[str, int]:
    edge = (now or utcnow()) - timedelta(days=cfg.dormant_days)
    base = _active_members().with_only_columns(func.count())
    return {
        "active": session.scalar(base.where(MemberStats.last_order_at >= edge)) or 0,
        "dormant": session.scalar(base.where(MemberStats.last_order_at < edge)) or 0,
        "prospect": session.scalar(base.where(MemberStats.last_order_at.is_(None))) or 0,
    }


def repurchase(session: Session) -> tuple[int, int]:
    """(members with two or more kept orders, members with at least one)."""
    # One pass over the buyers for both figures: two counts read a million rows twice.
    repeat, buyers = session.execute(_active_members().with_only_columns(
        func.count().filter(MemberStats.orders_count >= 2), func.count())
        .where(MemberStats.orders_count >= 1)).one()
    return repeat or 0, buyers or 0


def level_distribution(session: Session) -> list[tuple[str | None, int]]:
    """Members per level in threshold order, members without a level first (name ``None``)."""
    counts = dict(session.execute(_active_members().with_only_columns(MemberStats.level_id, func.count())
                                  .group_by(MemberStats.level_id)).all())
    levels = session.scalars(select(Level).order_by(Level.threshold))
    return [(None, counts.get(None, 0))] + [(lv.name, counts.get(lv.id, 0)) for lv in levels]
