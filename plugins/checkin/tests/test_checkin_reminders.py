"""Streak reminders go out only while the contact window is open, shortly before it closes,
once per window; the back office counts who check-in keeps reachable."""
from datetime import timedelta

import pytest
from checkin_helpers import WeChat, at, set_checkin
from sqlalchemy import select

from siyu.plugin import (
    can_send, Conversation, conversation_for, Message, record_interaction, sign_up, write_transaction,
)
from siyu.plugin.testing import fresh
from siyu_checkin import reminders, service
from siyu_checkin.models import CheckinReminder

T0 = at("2026-05-01T10:00:00+08:00")
H48 = timedelta(hours=48)


@pytest.fixture
def siyu_plugins():
    return [WeChat()]


def interact(kernel, db, member, kind="message", when=T0, channel="wx"):
    with write_transaction(db):
        record_interaction(kernel, db, member, kind, channel, when)


def outbound(db):
    return fresh(db).scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).all()


@pytest.mark.parametrize("elapsed, sent", [
    (timedelta(hours=46, minutes=59), False),   # not due yet: more than an hour left
    (timedelta(hours=47), True),                # exactly an hour left
    (timedelta(hours=47, minutes=59, seconds=59), True),
    (H48, False),                               # the window has closed
    (timedelta(hours=60), False),
])
def test_reminder_only_inside_the_window_and_shortly_before_it_closes(kernel, db, member, elapsed, sent):
    interact(kernel, db, member)
    report = reminders.send_reminders(kernel, db, T0 + elapsed)
    assert report.sent == int(sent)
    messages = outbound(db)
    assert len(messages) == int(sent)
    for m in messages:
        assert m.delivery == "delivered" and m.created_at < T0 + H48
        assert fresh(db).get(Conversation, m.conversation_id).channel == "wx"


def test_reminder_names_the_streak_and_is_sent_once_per_window(kernel, db, member):
    for n in (2, 1, 0):  # checked in on the storefront on 29 and 30 April and on 1 May
        service.check_in(kernel, db, member, now=T0 - timedelta(days=n))
    interact(kernel, db, member, when=T0 - timedelta(hours=23))  # WeChat window closes 2 May 11:00
    moment = T0 + timedelta(hours=24, minutes=30)  # 2 May 10:30, not checked in yet
    assert reminders.send_reminders(kernel, db, moment).sent == 1
    report = reminders.send_reminders(kernel, db, moment + timedelta(minutes=10))
    assert report.repeated == 1 and report.sent == 0
    [message] = outbound(db)
    assert "3 days" in message.body and message.author == "system"
    assert fresh(db).scalar(select(CheckinReminder)).message_id == message.id


def test_no_reminder_for_members_who_checked_in_today_or_when_quota_is_used(kernel, db, member):
    other = sign_up(kernel, db, email="quota@example.com", password="correct-horse")
    interact(kernel, db, member)
    interact(kernel, db, other)
    moment = T0 + timedelta(hours=47, minutes=30)
    service.check_in(kernel, db, member, channel="web", now=moment)  # today, on the storefront
    conversation = conversation_for(db, other.id, "wx")
    with write_transaction(db):
        db.execute(Conversation.__table__.update().where(Conversation.id == conversation.id).values(window_sends=5))
    report = reminders.send_reminders(kernel, db, moment)
    assert (report.sent, report.checked_in, report.closed) == (0, 1, 1)
    assert outbound(db) == [] and fresh(db).scalar(select(CheckinReminder)) is None


def test_reminders_can_be_turned_off(kernel, db, member):
    interact(kernel, db, member)
    set_checkin(db, reminders=False)
    assert reminders.send_reminders(kernel, db, T0 + timedelta(hours=47, minutes=30)).due == 0


def test_checkin_on_a_channel_reopens_its_window(kernel, db, member):
    interact(kernel, db, member)
    later = T0 + timedelta(hours=47)
    service.check_in(kernel, db, member, channel="wx", now=later)
    check = can_send(kernel, fresh(db), member, "wx", T0 + timedelta(hours=60))
    assert check.allowed and check.until == later + H48
    assert reminders.send_reminders(kernel, db, later + timedelta(minutes=1)).due == 0


def test_reachability_counts_members_kept_open_by_checkin(kernel, db, member):
    chatty = sign_up(kernel, db, email="chatty@example.com", password="correct-horse")
    gone = sign_up(kernel, db, email="gone@example.com", password="correct-horse")
    interact(kernel, db, member, "message", T0 - timedelta(days=5))
    service.check_in(kernel, db, member, channel="wx", now=T0)          # open only thanks to check-in
    interact(kernel, db, chatty, "message", T0 - timedelta(hours=2))
    service.check_in(kernel, db, chatty, channel="wx", now=T0)          # open anyway
    interact(kernel, db, gone, "message", T0 - timedelta(days=3))       # closed
    [reach] = reminders.reachability(kernel, fresh(db), T0 + timedelta(hours=1))
    assert (reach.channel, reach.open, reach.kept_by_checkin) == ("wx", 2, 1)
    [later] = reminders.reachability(kernel, fresh(db), T0 + H48)
    assert (later.open, later.kept_by_checkin) == (0, 0)


def test_remind_command(runner, kernel, db, member):
    interact(kernel, db, member)
    result = runner.invoke(args=["siyu", "checkin", "remind", "--now", "2026-05-03T09:30:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    bad = runner.invoke(args=["siyu", "checkin", "remind", "--now", "tomorrow"])
    assert bad.exit_code != 0 and "ISO" in bad.output
