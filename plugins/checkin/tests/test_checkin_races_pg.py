"""Races proven on PostgreSQL (SQLite serialises writers and ignores FOR UPDATE): threads
released together by a barrier, each with its own session and connection."""
from datetime import timedelta

import pytest
from checkin_helpers import WeChat, at, set_checkin, set_zone
from sqlalchemy import func, select

from siyu.plugin import (
    Member, MemberInteraction, Message, record_interaction, sign_up, ValidationError, write_transaction,
)
from siyu.plugin.testing import run_together
from siyu_checkin import reminders, service
from siyu_checkin.models import Checkin, CheckinMember, CheckinReminder, CheckinReward

pytestmark = pytest.mark.postgres
MAY1 = at("2026-05-01T10:00:00+08:00")


@pytest.fixture
def siyu_plugins():
    return [WeChat()]


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


@pytest.fixture
def shopper(pg):
    session = pg.db.Session()
    member = sign_up(pg, session, email="race@example.com", password="password-123")
    set_zone(session, "Asia/Shanghai")
    session.close()
    return member


def count(pg, model, *where):
    with pg.db.Session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def checkin_at(pg, member_id, now, channel="web"):
    def work(_i):
        s = pg.db.Session()
        try:
            return service.check_in(pg, s, s.get(Member, member_id), channel, now).status
        finally:
            s.close()
    return work


@pytest.mark.parametrize("first_ever", [True, False])
def test_100_concurrent_checkins_by_one_member_make_one_row(pg, shopper, first_ever):
    if not first_ever:  # the member's totals row exists: the lock, not its creation, decides
        with pg.db.Session() as s:
            service.check_in(pg, s, s.get(Member, shopper.id), now=MAY1 - timedelta(days=1))
    results, errors = run_together(100, checkin_at(pg, shopper.id, MAY1))
    assert errors == []
    assert sorted(results).count("checked_in") == 1 and results.count("already") == 99
    day = MAY1.date()
    assert count(pg, Checkin, Checkin.local_date == day) == 1
    assert count(pg, CheckinReward, CheckinReward.member_id == shopper.id) == (1 if first_ever else 2)
    assert count(pg, MemberInteraction, MemberInteraction.kind == "checkin") == (1 if first_ever else 2)
    with pg.db.Session() as s:
        stats = s.get(CheckinMember, shopper.id)
        assert (stats.total, stats.current_streak) == ((1, 1) if first_ever else (2, 2))


def test_concurrent_make_ups_respect_the_monthly_limit(pg, shopper):
    with pg.db.Session() as s:
        s.execute(Member.__table__.update().where(Member.id == shopper.id)
                  .values(created_at=at("2026-01-01T00:00:00+00:00")))
        s.commit()
        set_checkin(s, makeup_per_month=1, makeup_cost_points=0)
    now = at("2026-05-20T10:00:00+08:00")

    def work(i):
        s = pg.db.Session()
        try:
            return service.make_up(pg, s, s.get(Member, shopper.id), now.date() - timedelta(days=1 + i), now).status
        finally:
            s.close()

    results, errors = run_together(15, work)
    assert results == ["checked_in"]
    assert len(errors) == 14 and all(isinstance(e, ValidationError) for e in errors)
    assert count(pg, Checkin, Checkin.kind == "makeup") == 1


def test_concurrent_reminder_runs_send_one_reminder_per_window(pg, shopper):
    last = at("2026-05-01T10:00:00+08:00")
    with pg.db.Session() as s:
        with write_transaction(s):
            record_interaction(pg, s, s.get(Member, shopper.id), "message", "wx", last)
    moment = last + timedelta(hours=47, minutes=30)

    def work(_i):
        s = pg.db.Session()
        try:
            return reminders.send_reminders(pg, s, moment).sent
        finally:
            s.close()

    results, errors = run_together(10, work)
    assert errors == [] and sum(results) == 1
    assert count(pg, CheckinReminder) == 1
    assert count(pg, Message, Message.direction == "out") == 1
