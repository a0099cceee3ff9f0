"""Read-only figures: a member's month, the monthly leaderboard, daily counts, streaks."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from siyu.plugin import Member
from siyu_checkin import clock
from siyu_checkin.models import Checkin, CheckinMember

LEADERBOARD_SIZE = 20
#: Streak buckets of the distribution chart: (label, lowest, highest or None).
BUCKETS = (("1", 1, 1), ("2", 2, 2), ("3–6", 3, 6), ("7–13", 7, 13), ("14–29", 14, 29), ("30+", 30, None))


@dataclass
class Day:
    day: date
    kind: str | None  # daily | makeup | None
    today: bool
    future: bool
    can_make_up: bool


def month_days(session: Session, member_id: int, month: date, today: date,
               makeup_from: date | None) -> list[Day]:
    """The days of ``month`` with what the member did on each (one query)."""
    start, end = clock.month_start(month), clock.month_end(month)
    kinds = dict(session.execute(select(Checkin.local_date, Checkin.kind).where(
        Checkin.member_id == member_id, Checkin.local_date >= start, Checkin.local_date <= end)).all())
    days, day = [], start
    while day <= end:
        kind = kinds.get(day)
        days.append(Day(day, kind, day == today, day > today,
                        kind is None and makeup_from is not None and makeup_from <= day < today))
        day += timedelta(days=1)
    return days


def weeks(days: list[Day]) -> list[list[Day | None]]:
    """Calendar rows Monday to Sunday, padded with ``None``."""
    cells: list[Day | None] = [None] * days[0].day.weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def display_name(member: Member) -> str:
    """A leaderboard shows no one's full name or address: the first character and stars."""
    base = (member.name or "").strip() or member.email.split("@")[0]
    return base[:1] + "**"


@dataclass
class Rank:
    rank: int
    member_id: int
    name: str
    days: int
    best: int


def leaderboard(session: Session, month: date, limit: int = LEADERBOARD_SIZE) -> list[Rank]:
    """Most check-in days in ``month``; ties go to the longer best streak, then the earlier member."""
    start, end = clock.month_start(month), clock.month_end(month)
    days = func.count(Checkin.id).label("days")
    rows = session.execute(
        select(Member, days, func.coalesce(CheckinMember.best_streak, 0))
        .join(Checkin, Checkin.member_id == Member.id)
        .outerjoin(CheckinMember, CheckinMember.member_id == Member.id)
        .where(Checkin.local_date >= start, Checkin.local_date <= end, Member.active.is_(True))
        .group_by(Member.id, CheckinMember.best_streak)
        .order_by(days.desc(), func.coalesce(CheckinMember.best_streak, 0).desc(), Member.id)
        .limit(limit)).all()
    return [Rank(i + 1, m.id, display_name(m), n, best) for i, (m, n, best) in enumerate(rows)]


def month_count(session: Session, member_id: int, month: date) -> int:
    return session.scalar(select(func.count()).select_from(Checkin).where(
        Checkin.member_id == member_id, Checkin.local_date >= clock.month_start(month),
        Checkin.local_date <= clock.month_end(month))) or 0


def daily_counts(session: Session, today: date, days: int = 14) -> list[tuple[date, int]]:
    start = today - timedelta(days=days - 1)
    counts = dict(session.execute(select(Checkin.local_date, func.count()).where(
        Checkin.local_date >= start, Checkin.local_date <= today, Checkin.kind == "daily")
        .group_by(Checkin.local_date)).all())
    return [(start + timedelta(days=i), counts.get(start + timedelta(days=i), 0)) for i in range(days)]


def streak_distribution(session: Session, today: date) -> list[tuple[str, int]]:
    """Members per bucket of their live streak (checked in today or yesterday), counted in SQL."""
    streak = CheckinMember.current_streak
    bucket = case(*[((streak >= low) if high is None else streak.between(low, high), label)
                    for label, low, high in BUCKETS], else_="")
    counts = dict(session.execute(select(bucket, func.count()).where(
        CheckinMember.last_date >= today - timedelta(days=1), streak > 0).group_by(bucket)).all())
    return [(label, counts.get(label, 0)) for label, _low, _high in BUCKETS]
