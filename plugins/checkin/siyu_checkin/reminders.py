"""Streak reminders shortly before a member's contact window closes, and how many members
check-in keeps reachable.

A reminder goes out only while the window is open: the due windows are those closing
within the lead time (``closing_soon``), ``can_send`` is asked again at ``now``, and the
core's quota reservation is the last word — a message it would refuse rolls the whole
reminder back instead of being stored as undelivered. One reminder per window (unique key).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import (
    aware_now, can_send, channels, closing_soon, Conversation, deliver_pending, gettext, Member,
    MemberInteraction, post_outbound, write_transaction,
)
from siyu_checkin import clock, config
from siyu_checkin.models import CheckinMember, CheckinReminder
from siyu_checkin.service import streak_alive

log = logging.getLogger("siyu.checkin")
BATCH = 200


@dataclass
class Report:
    due: int = 0
    sent: int = 0
    checked_in: int = 0
    closed: int = 0
    repeated: int = 0


class _Refused(Exception):
    """The channel refused the message after all: undo the reminder."""


def reminder_text(streak: int) -> str:
    if streak > 0:
        return gettext("Your check-in streak is at %(n)d days. Check in today to keep it going!", n=streak)
    return gettext("Check in today to start a new streak and collect your points.")


def send_reminders(kernel, session: Session, now: datetime | None = None,
                   translate_for=None) -> Report:
    """Remind members whose window closes within the lead time and who have not checked in
    today. ``translate_for(member)`` returns a context manager for the member's language."""
    now = aware_now(now)
    cfg = config.load(session)
    report = Report()
    if not cfg.reminders:
        return report
    zone = clock.shop_zone(session)
    today = clock.local_day(now, zone)
    offset = 0
    while True:
        due = [(c.id, until) for c, until in
               closing_soon(kernel, session, cfg.reminder_minutes / 60, now, limit=BATCH, offset=offset)]
        session.rollback()  # end the read snapshot: each reminder writes on its own
        offset += len(due)
        for conversation_id, until in due:
            report.due += 1
            _remind_one(kernel, session, conversation_id, until, today, zone, now, report, translate_for)
        if len(due) < BATCH:
            return report


def _remind_one(kernel, session, conversation_id, until, today, zone, now, report, translate_for) -> None:
    conversation = session.get(Conversation, conversation_id)
    member = session.get(Member, conversation.member_id)
    stats = session.get(CheckinMember, member.id)
    if stats is not None and stats.last_date is not None and stats.last_date >= today:
        report.checked_in += 1
        return
    if not can_send(kernel, session, member, conversation.channel, now).allowed:
        report.closed += 1
        return
    streak = streak_alive(stats, today, zone)
    try:
        with translate_for(member) if translate_for else _nothing():
            text = reminder_text(streak)
        with write_transaction(session):
            reminder = CheckinReminder(member_id=member.id, channel=conversation.channel,
                                       window_until=until, sent_at=now)
            with session.begin_nested():
                session.add(reminder)
            message = post_outbound(kernel, session, conversation, body=text, now=now)
            if message.delivery == "undelivered":
                raise _Refused(message.reason)
            reminder.message_id = message.id
    except IntegrityError:
        session.rollback()
        report.repeated += 1
        return
    except _Refused:
        report.closed += 1
        return
    report.sent += 1
    deliver_pending(kernel, session, [message])


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@dataclass
class Reach:
    channel: str
    label: str
    open: int
    kept_by_checkin: int


def reachability(kernel, session: Session, now: datetime | None = None) -> list[Reach]:
    """Per windowed channel: members the shop may message now, and how many of them only
    because of a check-in (no other interaction that opens the window is recent enough)."""
    now = aware_now(now)
    found = []
    for channel in channels(kernel).values():
        policy = channel.policy
        if policy is None:
            continue
        start = now - policy.window
        open_windows = and_(Conversation.channel == channel.name, Conversation.last_inbound_at > start,
                            Conversation.last_inbound_at <= now)
        other = [MemberInteraction.member_id == Conversation.member_id,
                 MemberInteraction.channel == channel.name, MemberInteraction.kind != "checkin",
                 MemberInteraction.at > start]
        if policy.kinds is not None:
            other.append(MemberInteraction.kind.in_(sorted(policy.kinds)))
        opened = session.scalar(select(func.count()).select_from(Conversation).where(open_windows)) or 0
        kept = 0
        if opened:
            kept = session.scalar(select(func.count()).select_from(Conversation).where(
                open_windows, ~exists().where(*other))) or 0
        found.append(Reach(channel.name, str(channel.label), opened, kept))
    return found


def next_due(kernel, session: Session, now: datetime | None = None) -> int:
    """How many windows close within the lead time (the back office shows it)."""
    now = aware_now(now)
    minutes = config.load(session).reminder_minutes
    return len(closing_soon(kernel, session, minutes / 60, now, limit=10000))

