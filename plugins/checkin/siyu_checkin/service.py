"""Check in, make up a missed day, and the streak rules.

One check-in per member per local day of the shop. Three things make that hold:
the per-member row is locked first (``SELECT … FOR UPDATE``; SQLite writers are
serialised by ``BEGIN IMMEDIATE``), the unique key (member, local date) backs it up, and a
check-in is refused when the member already has one on this day or a later one — so after
the shop moves its clock back (a time zone to the west) nobody gets the same day twice.
When the clock jumps forward (a time zone to the east), the previous check-in's instant,
read in the new zone, decides: if that was "yesterday" the streak continues across the gap
(``bridged``), if it was "today" the member has checked in today already.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import (
    aware_now, call_in_transaction, call_service, lazy_gettext as _l, Member, NOT_AVAILABLE, record_interaction,
    ValidationError, WEB,
    write_transaction,
)
from siyu_checkin import clock, config, rewards
from siyu_checkin.models import DAILY, MAKEUP, Checkin, CheckinMember, CheckinReward

CHECKED_IN = "checked_in"
ALREADY = "already"


@dataclass
class Outcome:
    status: str
    local_date: date
    streak: int
    best: int
    checkin: Checkin | None = None
    rewards: list[CheckinReward] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(r.points for r in self.rewards if r.kind == "points" and r.status == "delivered")


def lock_member(session: Session, member_id: int) -> CheckinMember:
    """The member's totals row, created on first use, locked for this transaction."""
    query = select(CheckinMember).where(CheckinMember.member_id == member_id) \
        .with_for_update().execution_options(populate_existing=True)
    row = session.scalar(query)
    if row is None:
        try:
            with session.begin_nested():
                session.add(CheckinMember(member_id=member_id))
        except IntegrityError:  # another worker created it first; its lock is what we wait for
            pass
        row = session.scalar(query)
    return row


def streak_alive(stats: CheckinMember | None, today: date, zone: ZoneInfo) -> int:
    """The current streak as the member sees it today: 0 once a day has been missed."""
    if stats is None or stats.last_date is None:
        return 0
    yesterday = today - timedelta(days=1)
    if stats.last_date >= yesterday:
        return stats.current_streak
    if stats.last_at is not None and clock.local_day(stats.last_at, zone) >= yesterday:
        return stats.current_streak  # the shop's clock jumped forward since: not a miss
    return 0


def _already(stats: CheckinMember, today: date) -> Outcome:
    return Outcome(ALREADY, today, stats.current_streak, stats.best_streak)


def check_in(kernel, session: Session, member: Member, channel: str = WEB,
             now: datetime | None = None) -> Outcome:
    """Check ``member`` in for the shop's current local day: a unit of its own, or part of the
    caller's open unit (the chat hook, a channel adapter)."""
    now = aware_now(now)  # a naive time is refused before anything starts
    if not member.active:
        raise ValidationError(_l("This account is closed."))
    with write_transaction(session):
        return _check_in(kernel, session, member, channel, now)


def _check_in(kernel, session: Session, member: Member, channel: str, now: datetime) -> Outcome:
    zone = clock.shop_zone(session)
    today = clock.local_day(now, zone)
    stats = lock_member(session, member.id)
    last = session.scalar(select(Checkin).where(Checkin.member_id == member.id)
                          .order_by(Checkin.local_date.desc()).limit(1))
    continues = bridged = False
    if last is not None:
        if last.local_date >= today:
            return _already(stats, today)
        seen_as = clock.local_day(last.at, zone) if last.kind == DAILY else last.local_date
        if seen_as >= today:  # the same day, read in the shop's new time zone
            return _already(stats, today)
        continues = last.local_date == today - timedelta(days=1) or seen_as == today - timedelta(days=1)
        bridged = continues and last.local_date != today - timedelta(days=1)
    row = Checkin(member_id=member.id, local_date=today, at=now, timezone=zone.key, channel=channel[:32],
                  kind=DAILY, streak=last.streak + 1 if continues else 1, bridged=bridged)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # backstop for the lock: the day is taken
        return _already(stats, today)
    stats.current_streak = row.streak
    stats.best_streak = max(stats.best_streak or 0, row.streak)
    stats.total = (stats.total or 0) + 1
    stats.last_date, stats.last_at = today, now
    granted = rewards.grant(kernel, session, config.load(session), row)
    _after(kernel, session, member, row, channel, now)
    return Outcome(CHECKED_IN, today, row.streak, stats.best_streak, row, granted)


def _after(kernel, session: Session, member: Member, row: Checkin, channel: str, now: datetime) -> None:
    # A check-in is an interaction: it reopens the channel's contact window.
    record_interaction(kernel, session, member, "checkin", channel, now)
    alive = session.get(CheckinMember, member.id)
    call_service(kernel, "crm_tags_record_facts", session=session, member_id=member.id,
                 facts={"checkin_streak": alive.current_streak})
    call_in_transaction(kernel.pm, "checkin_on_checked_in", kernel=kernel, session=session, member_id=member.id,
                        checkin=row)


# ---------------------------------------------------------------------------- make-up


def makeups_used(session: Session, member_id: int, month: date) -> int:
    return session.scalar(select(func.count()).select_from(Checkin).where(
        Checkin.member_id == member_id, Checkin.kind == MAKEUP,
        Checkin.local_date >= clock.month_start(month), Checkin.local_date <= clock.month_end(month))) or 0


def make_up(kernel, session: Session, member: Member, day: date, now: datetime | None = None) -> Outcome:
    """Make up a missed day of the current month (补签), paying its cost in points.

    Earns no reward of its own; it restores the streak across the missed day.
    """
    now = aware_now(now)
    cfg = config.load(session)
    zone = clock.shop_zone(session)
    today = clock.local_day(now, zone)
    if cfg.makeup_per_month <= 0:
        raise ValidationError(_l("Make-up check-ins are turned off."))
    if not member.active:
        raise ValidationError(_l("This account is closed."))
    joined = clock.local_day(member.created_at, zone) if member.created_at else today
    if not (clock.month_start(today) <= day < today) or day < joined:
        raise ValidationError(_l("Choose a missed day earlier this month."), fields={"day": _l("Not allowed.")})
    with write_transaction(session):
        stats = lock_member(session, member.id)
        if session.scalar(select(Checkin.id).where(Checkin.member_id == member.id, Checkin.local_date == day)):
            raise ValidationError(_l("You already checked in on that day."), fields={"day": _l("Taken.")})
        if makeups_used(session, member.id, today) >= cfg.makeup_per_month:
            raise ValidationError(_l("You have used all %(n)d make-ups this month.", n=cfg.makeup_per_month))
        following = session.scalar(select(Checkin).where(Checkin.member_id == member.id, Checkin.local_date > day)
                                   .order_by(Checkin.local_date).limit(1))
        if following is not None and following.bridged:
            raise ValidationError(_l("That day was skipped when the shop changed its time zone; "
                                     "your streak was kept."))
        if cfg.makeup_cost_points:
            _spend(kernel, session, member.id, cfg.makeup_cost_points, day)
        row = Checkin(member_id=member.id, local_date=day, at=now, timezone=zone.key, channel=WEB,
                      kind=MAKEUP, streak=1, points_cost=cfg.makeup_cost_points)
        session.add(row)
        session.flush()
        recompute(session, member.id, stats)
        stats.total = (stats.total or 0) + 1
        stats.last_date = max(stats.last_date or day, day)
        call_in_transaction(kernel.pm, "checkin_on_checked_in", kernel=kernel, session=session, member_id=member.id,
                            checkin=row)
    return Outcome(CHECKED_IN, day, stats.current_streak, stats.best_streak, row)


def _spend(kernel, session: Session, member_id: int, points: int, day: date) -> None:
    spent = call_service(kernel, "crm_tags_spend_points", session=session, member_id=member_id, points=points,
                         reason="check-in make-up", ref=f"checkin-makeup:{member_id}:{day.isoformat()}")
    if spent is NOT_AVAILABLE:
        raise ValidationError(_l("Make-up check-ins cost points, and points are not available in this shop."))
    if spent is None:
        raise ValidationError(_l("Your points could not be spent; please try again."))


def recompute(session: Session, member_id: int, stats: CheckinMember) -> None:
    """Re-walk the member's days in order after a make-up filled a gap (dates, not instants:
    a ``bridged`` day keeps continuing its predecessor)."""
    previous: Checkin | None = None
    best = 0
    for row in session.scalars(select(Checkin).where(Checkin.member_id == member_id).order_by(Checkin.local_date)):
        joined = previous is not None and (row.local_date - previous.local_date == timedelta(days=1) or row.bridged)
        streak = previous.streak + 1 if joined else 1
        if row.streak != streak:
            row.streak = streak
        best = max(best, streak)
        previous = row
    if previous is not None:
        stats.current_streak = previous.streak
        stats.best_streak = max(stats.best_streak or 0, best)
    session.flush()
