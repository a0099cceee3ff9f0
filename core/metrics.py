"""Figures for the owner's dashboard, computed in SQL (no rows pulled into Python)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siyu.core.models import PAID_STATES, Member, Order

PAID = PAID_STATES  # paid, shipped, completed, partially refunded, refunded


def repurchase_rate(session: Session, since: datetime | None = None) -> tuple[int, int]:
    """(members with ≥ 2 paid orders, members with ≥ 1) — the owner's key number."""
    per_member = select(Order.member_id, func.count().label("n")).where(Order.status.in_(PAID))
    if since is not None:
        per_member = per_member.where(Order.paid_at >= since)
    per_member = per_member.group_by(Order.member_id).subquery()
    # One pass over the groups for both figures (``ix_orders_member_status`` covers it).
    buyers, repeat = session.execute(select(func.count(), func.count().filter(per_member.c.n >= 2))
                                     .select_from(per_member)).one()
    return repeat or 0, buyers or 0


def sales_between(session: Session, start: datetime, end: datetime) -> dict:
    row = session.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.total - Order.refunded_amount), 0))
        .where(Order.status.in_(PAID), Order.paid_at >= start, Order.paid_at < end)).one()
    members = session.scalar(select(func.count(Member.id)).where(
        Member.created_at >= start, Member.created_at < end)) or 0
    return {"orders": row[0], "revenue": int(row[1]), "new_members": members}


def daily_revenue(session: Session, days: int, now: datetime | None = None) -> list[tuple[date, int]]:
    """Revenue per UTC day for the last ``days`` days, zero-filled."""
    now = now or datetime.now(timezone.utc)
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    day = func.date(Order.paid_at)
    rows = session.execute(
        select(day, func.sum(Order.total - Order.refunded_amount))
        .where(Order.status.in_(PAID), Order.paid_at >= start).group_by(day)).all()
    found = {str(d)[:10]: int(v or 0) for d, v in rows}
    return [((start + timedelta(days=i)).date(), found.get(str((start + timedelta(days=i)).date()), 0))
            for i in range(days)]
