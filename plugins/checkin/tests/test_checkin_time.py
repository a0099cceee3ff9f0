"""Local days at midnight far from UTC, across daylight saving, and when the shop changes
its time zone between two check-ins: never two check-ins for one day, never a missed day."""
from datetime import date, timedelta

import pytest
from checkin_helpers import at, set_zone
from sqlalchemy import select, update

from siyu.plugin import Member, ValidationError, write_transaction
from siyu.plugin.testing import fresh
from siyu_checkin import service
from siyu_checkin.clock import month_end, parse_month
from siyu_checkin.models import Checkin

SECOND = timedelta(seconds=1)


def rows(db, member):
    return [(str(c.local_date), c.streak, c.bridged, c.timezone)
            for c in fresh(db).scalars(select(Checkin).where(Checkin.member_id == member.id)
                                       .order_by(Checkin.local_date))]


@pytest.mark.parametrize("zone, midnight", [
    ("Pacific/Kiritimati", "2026-05-02T00:00:00+14:00"),   # 10:00 UTC the day before
    ("America/Adak", "2026-05-02T00:00:00-09:00"),          # daylight time, 09:00 UTC
    ("America/Adak", "2026-01-02T00:00:00-10:00"),          # standard time
    ("Asia/Shanghai", "2026-05-02T00:00:00+08:00"),
])
def test_local_midnight_is_the_day_boundary(kernel, db, member, zone, midnight):
    set_zone(db, zone)
    boundary = at(midnight)
    before = service.check_in(kernel, db, member, now=boundary - SECOND)
    after = service.check_in(kernel, db, member, now=boundary)
    again = service.check_in(kernel, db, member, now=boundary + timedelta(hours=23, minutes=59, seconds=59))
    assert (before.status, after.status, again.status) == ("checked_in", "checked_in", "already")
    assert after.local_date - before.local_date == timedelta(days=1)
    assert [r[1] for r in rows(db, member)] == [1, 2]


def test_utc_midnight_means_nothing_to_a_shop_in_kiritimati(kernel, db, member):
    set_zone(db, "Pacific/Kiritimati")
    # 23:30 and 00:30 UTC are 13:30 and 14:30 on the same local day.
    first = service.check_in(kernel, db, member, now=at("2026-05-01T23:30:00+00:00"))
    second = service.check_in(kernel, db, member, now=at("2026-05-02T00:30:00+00:00"))
    assert (first.status, second.status) == ("checked_in", "already")
    assert str(first.local_date) == "2026-05-02"


def test_days_of_23_and_25_hours_count_once(kernel, db, member):
    set_zone(db, "America/Adak")  # daylight time starts on 8 March 2026, ends on 1 November
    for day in ("2026-03-07T00:30:00-10:00", "2026-03-08T00:30:00-10:00", "2026-03-09T00:30:00-09:00",
                "2026-11-01T00:30:00-09:00", "2026-11-01T23:30:00-10:00", "2026-11-02T00:30:00-10:00"):
        service.check_in(kernel, db, member, now=at(day))
    assert [(r[0], r[1]) for r in rows(db, member)] == [
        ("2026-03-07", 1), ("2026-03-08", 2), ("2026-03-09", 3), ("2026-11-01", 1), ("2026-11-02", 2)]


def test_moving_east_keeps_the_streak_and_gives_no_second_checkin(kernel, db, member):
    set_zone(db, "America/Adak")
    service.check_in(kernel, db, member, now=at("2026-05-01T23:00:00-09:00"))  # = 2 May 22:00 in Kiritimati
    set_zone(db, "Pacific/Kiritimati")
    same_day = service.check_in(kernel, db, member, now=at("2026-05-02T23:30:00+14:00"))
    assert same_day.status == "already"
    next_day = service.check_in(kernel, db, member, now=at("2026-05-03T09:00:00+14:00"))
    assert (next_day.status, next_day.streak) == ("checked_in", 2)
    assert rows(db, member) == [("2026-05-01", 1, False, "America/Adak"),
                                ("2026-05-03", 2, True, "Pacific/Kiritimati")]
    # The skipped calendar date was not a miss: it cannot be bought as a make-up day.
    with write_transaction(db):
        db.execute(update(Member).where(Member.id == member.id).values(created_at=at("2026-01-01T00:00:00+00:00")))
    db.refresh(member)
    with pytest.raises(ValidationError, match="time zone"):
        service.make_up(kernel, db, member, date(2026, 5, 2), now=at("2026-05-03T10:00:00+14:00"))
    # And the streak is alive the next day.
    assert service.check_in(kernel, db, member, now=at("2026-05-04T09:00:00+14:00")).streak == 3


def test_moving_west_never_gives_the_same_date_twice(kernel, db, member):
    set_zone(db, "Pacific/Kiritimati")
    service.check_in(kernel, db, member, now=at("2026-05-02T00:30:00+14:00"))  # = 1 May 01:30 in Adak
    set_zone(db, "America/Adak")
    assert service.check_in(kernel, db, member, now=at("2026-05-01T23:00:00-09:00")).status == "already"
    assert service.check_in(kernel, db, member, now=at("2026-05-02T12:00:00-09:00")).status == "already"
    third = service.check_in(kernel, db, member, now=at("2026-05-03T08:00:00-09:00"))
    assert (third.status, third.streak) == ("checked_in", 2)
    assert [(r[0], r[1]) for r in rows(db, member)] == [("2026-05-02", 1), ("2026-05-03", 2)]


def test_an_ordinary_time_zone_change_between_two_checkins(kernel, db, member):
    service.check_in(kernel, db, member, now=at("2026-05-01T20:00:00+08:00"))
    set_zone(db, "Europe/London")
    # 1 May 16:00 in London is the same instant as 2 May 00:00 in Shanghai: still 1 May here.
    assert service.check_in(kernel, db, member, now=at("2026-05-01T16:00:00+01:00")).status == "already"
    nxt = service.check_in(kernel, db, member, now=at("2026-05-02T09:00:00+01:00"))
    assert (nxt.status, nxt.streak) == ("checked_in", 2)


def test_calendar_helpers():
    assert month_end(date(2026, 2, 10)) == date(2026, 2, 28)
    assert month_end(date(2028, 2, 1)) == date(2028, 2, 29)
    assert month_end(date(2026, 12, 31)) == date(2026, 12, 31)
    assert parse_month("2026-03", date(2026, 5, 5)) == date(2026, 3, 1)
    assert parse_month("nonsense", date(2026, 5, 5)) == date(2026, 5, 1)
    with pytest.raises(ValueError):
        service.check_in(None, None, None, now=__import__("datetime").datetime(2026, 5, 1))
