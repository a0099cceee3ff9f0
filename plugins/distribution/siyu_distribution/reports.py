"""Read-only figures for the distributor center and the back office (no writes here)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siyu.plugin import Order

from siyu_distribution.ledger import earned_column
from siyu_distribution.models import Click, Distributor, Kind, LedgerEntry, Link, OrderAttribution, Status


def clicks_since(session: Session, distributor_id: int, since: date) -> int:
    return session.scalar(select(func.count(Click.id)).where(
        Click.distributor_id == distributor_id, Click.day >= since)) or 0


def clicks_per_link(session: Session, distributor_id: int, since: date) -> dict[int, int]:
    rows = session.execute(select(Click.link_id, func.count(Click.id)).where(
        Click.distributor_id == distributor_id, Click.day >= since).group_by(Click.link_id))
    return {link_id: n for link_id, n in rows}


def links(session: Session, distributor_id: int) -> list[Link]:
    return list(session.scalars(select(Link).where(Link.distributor_id == distributor_id).order_by(Link.id)))


def attributed_orders(session: Session, distributor_id: int, limit: int, offset: int):
    """(order, my commission on it) for orders I sold, newest first."""
    mine = (select(LedgerEntry.order_id, func.sum(LedgerEntry.amount).label("commission"))
            .where(LedgerEntry.distributor_id == distributor_id,
                   LedgerEntry.kind.in_((Kind.ACCRUAL.value, Kind.REVERSAL.value)))
            .group_by(LedgerEntry.order_id).subquery())
    query = (select(Order, func.coalesce(mine.c.commission, 0))
             .join(OrderAttribution, OrderAttribution.order_id == Order.id)
             .outerjoin(mine, mine.c.order_id == Order.id)
             .where(OrderAttribution.distributor_id == distributor_id)
             .order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit).offset(offset))
    return list(session.execute(query))


def attributed_count(session: Session, distributor_id: int) -> int:
    return session.scalar(select(func.count(OrderAttribution.order_id)).where(
        OrderAttribution.distributor_id == distributor_id)) or 0


def entries(session: Session, distributor_id: int | None, limit: int, offset: int) -> list[LedgerEntry]:
    query = select(LedgerEntry).order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
    if distributor_id is not None:
        query = query.where(LedgerEntry.distributor_id == distributor_id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def entry_count(session: Session, distributor_id: int | None) -> int:
    query = select(func.count(LedgerEntry.id))
    if distributor_id is not None:
        query = query.where(LedgerEntry.distributor_id == distributor_id)
    return session.scalar(query) or 0


def daily_earnings(session: Session, distributor_id: int, days: int, now: datetime) -> list[tuple[date, int]]:
    """Commission accrued less reversed per day, oldest first (days without any are 0)."""
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = session.execute(select(LedgerEntry.created_at, LedgerEntry.amount).where(
        LedgerEntry.distributor_id == distributor_id, LedgerEntry.created_at >= start,
        LedgerEntry.kind.in_((Kind.ACCRUAL.value, Kind.REVERSAL.value))))
    per_day: dict[date, int] = {}
    for at, amount in rows:
        per_day[at.date()] = per_day.get(at.date(), 0) + amount
    return [((start + timedelta(days=i)).date(), per_day.get((start + timedelta(days=i)).date(), 0))
            for i in range(days)]


def leaderboard(session: Session, since: datetime | None, limit: int = 20):
    """(distributor, commission earned, orders) ranked by commission."""
    earned = (select(LedgerEntry.distributor_id, earned_column().label("earned"),
                     func.count(func.distinct(LedgerEntry.order_id)).label("orders"))
              .group_by(LedgerEntry.distributor_id))
    if since is not None:
        earned = earned.where(LedgerEntry.created_at >= since)
    sub = earned.subquery()
    return list(session.execute(select(Distributor, sub.c.earned, sub.c.orders)
                                .join(sub, sub.c.distributor_id == Distributor.id)
                                .order_by(sub.c.earned.desc(), Distributor.id).limit(limit)))


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Distributor.status, func.count(Distributor.id)).group_by(Distributor.status))
    found = dict(rows.all())
    return {s.value: found.get(s.value, 0) for s in Status}
