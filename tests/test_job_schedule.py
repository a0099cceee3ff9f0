"""Scheduled jobs: every N minutes or daily at a shop-local time, each slot claimed once in the
shop's database, their state on the settings page; the demo's in-process worker."""
import threading
import time as clock
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from backoffice_helpers import make_staff, staff_login
from sqlalchemy import func, select

from siyu.core import hookimpl, jobs, schedules, settings
from siyu.core.broadcasts import create_broadcast
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.models import Broadcast, JobSlot
from siyu.core.schedules import Schedule

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


class Chores:
    """A plugin with scheduled jobs that record when they ran."""

    def __init__(self):
        self.runs = []
        self.fail_next = 0

    def daily(self, kernel):
        self.runs.append("daily")
        return "daily done"

    def flaky(self, kernel):
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("the carrier's API timed out")
        self.runs.append("flaky")
        return "flaky done"

    @hookimpl
    def register_jobs(self, register):
        register("test.daily", self.daily, daily_at="03:30", label="Nightly chore")
        register("test.flaky", self.flaky, retries=1, retry_delay=0, every_minutes=15)


@pytest.fixture
def chores():
    return Chores()


@pytest.fixture
def siyu_plugins(chores):
    return [chores]


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_schedules_are_checked_when_registered():
    assert Schedule.parse("j") is None
    assert Schedule.parse("j", every_minutes=5) == Schedule(every_minutes=5)
    assert Schedule.parse("j", daily_at="03:30") == Schedule(daily_at=time(3, 30))
    for bad in ({"every_minutes": 0}, {"every_minutes": 60}, {"every_minutes": True}, {"every_minutes": "5"},
                {"daily_at": "3:30"}, {"daily_at": "24:00"}, {"daily_at": "03:60"}, {"daily_at": 330},
                {"every_minutes": 5, "daily_at": "03:30"}):
        with pytest.raises(ValueError, match="job 'j'"):
            Schedule.parse("j", **bad)


def test_every_minutes_slots_are_the_minutes_of_the_hour_divisible_by_n():
    every = Schedule(every_minutes=15)
    assert every.slot(utc(2026, 5, 1, 10, 44, 59), SHANGHAI) == utc(2026, 5, 1, 10, 30)
    assert every.next_slot(utc(2026, 5, 1, 10, 44, 59), SHANGHAI) == utc(2026, 5, 1, 10, 45)
    assert every.next_slot(utc(2026, 5, 1, 10, 45), SHANGHAI) == utc(2026, 5, 1, 11, 0)
    seven = Schedule(every_minutes=7)  # 0, 7, ..., 56, then the next hour's 0
    assert seven.slot(utc(2026, 5, 1, 10, 59), SHANGHAI) == utc(2026, 5, 1, 10, 56)
    assert seven.next_slot(utc(2026, 5, 1, 10, 57), SHANGHAI) == utc(2026, 5, 1, 11, 0)


def test_daily_slots_follow_the_shops_clock_across_dst():
    daily = Schedule(daily_at=time(3, 30))
    # 03:30 in Shanghai (UTC+8) is 19:30 UTC the day before
    assert daily.slot(utc(2026, 5, 1, 19, 29), SHANGHAI) == utc(2026, 4, 30, 19, 30)
    assert daily.slot(utc(2026, 5, 1, 19, 30), SHANGHAI) == utc(2026, 5, 1, 19, 30)
    assert daily.next_slot(utc(2026, 5, 1, 19, 30), SHANGHAI) == utc(2026, 5, 2, 19, 30)
    # New York: 03:30 EST is 08:30 UTC, 03:30 EDT is 07:30 UTC
    assert daily.slot(utc(2026, 3, 7, 9), NEW_YORK) == utc(2026, 3, 7, 8, 30)
    assert daily.next_slot(utc(2026, 3, 7, 9), NEW_YORK) == utc(2026, 3, 8, 7, 30)
    # 2026-03-08 jumps from 02:00 to 03:00: a 02:30 slot is the jump itself (07:00 UTC), once
    gap = Schedule(daily_at=time(2, 30))
    assert gap.next_slot(utc(2026, 3, 8, 0), NEW_YORK) == utc(2026, 3, 8, 7, 0)
    assert gap.slot(utc(2026, 3, 8, 6, 59), NEW_YORK) == utc(2026, 3, 7, 7, 30)
    # 2026-11-01 repeats 01:00–02:00: a 01:30 slot is the first 01:30 (05:30 UTC), only that one
    twice = Schedule(daily_at=time(1, 30))
    assert twice.next_slot(utc(2026, 11, 1, 0), NEW_YORK) == utc(2026, 11, 1, 5, 30)
    assert twice.next_slot(utc(2026, 11, 1, 5, 30), NEW_YORK) == utc(2026, 11, 2, 6, 30)


def ticks(start, minutes):
    return [start + timedelta(minutes=m) for m in range(minutes)]


def run_like_the_worker(kernel, name, moments):
    """What the consumer does each minute, on an injected clock: ask the periodic task whether
    a new slot is due, and run it then. Returns the moments it ran at."""
    task = jobs.queue(kernel).siyu_tasks[name].task_class()
    job = jobs.queue(kernel).siyu_schedules[name]
    ran = []
    for now in moments:
        if task.validate_datetime(now.replace(tzinfo=None)):  # huey passes naive UTC
            if schedules.run_slot(kernel, job, now=now) is not None:
                ran.append(now)
    return ran


def test_a_daily_job_fires_once_per_shop_local_day_at_the_right_utc_instant(kernel, db, chores):
    with write_transaction(db):
        settings.put(db, "core", "timezone", "Asia/Shanghai")
    # a worker that started at 18:00 UTC on 1 May, after the slot of 1 May 03:30 in Shanghai
    # (30 April 19:30 UTC) was missed: that one runs at once, then 2 and 3 May at 19:30 UTC
    ran = run_like_the_worker(kernel, "test.daily", ticks(utc(2026, 5, 1, 18, 0), 2 * 24 * 60))
    assert ran == [utc(2026, 5, 1, 18, 0), utc(2026, 5, 1, 19, 30), utc(2026, 5, 2, 19, 30)]
    assert chores.runs == ["daily"] * 3
    slots = db.scalars(select(JobSlot).where(JobSlot.job == "test.daily").order_by(JobSlot.slot_at)).all()
    assert [s.slot_at for s in slots] == [utc(2026, 4, 30, 19, 30), utc(2026, 5, 1, 19, 30), utc(2026, 5, 2, 19, 30)]
    assert {(s.status, s.attempts, s.error) for s in slots} == {("done", 1, "")}

    # the owner moves the shop to New York: 03:30 there is 07:30 UTC (EDT); that day's slot in
    # the new zone has passed unclaimed, so it runs as a missed one would, then the next at 07:30
    with write_transaction(db):
        settings.put(db, "core", "timezone", "America/New_York")
    ran = run_like_the_worker(kernel, "test.daily", ticks(utc(2026, 5, 3, 19, 31), 24 * 60))
    assert ran == [utc(2026, 5, 3, 19, 31), utc(2026, 5, 4, 7, 30)]


def test_a_slot_runs_once_however_many_workers_see_it(kernel, db, chores):
    job = jobs.queue(kernel).siyu_schedules["test.daily"]
    now = utc(2026, 5, 1, 20, 0)
    assert schedules.run_slot(kernel, job, now=now) == "daily done"
    assert schedules.run_slot(kernel, job, now=now + timedelta(hours=3)) is None  # same slot: skipped
    assert chores.runs == ["daily"]
    # a second worker process has its own queue and memory: the database decides
    other = jobs.make_queue(kernel)
    assert schedules.run_slot(kernel, other.siyu_schedules["test.daily"], now=now) is None
    assert chores.runs == ["daily"]
    assert db.scalar(select(func.count(JobSlot.id)).where(JobSlot.job == "test.daily",
                                                          JobSlot.slot_at == utc(2026, 5, 1, 19, 30))) == 1


def test_every_minutes_jobs_still_run_on_their_minutes(kernel, db, chores):
    ran = run_like_the_worker(kernel, "test.flaky", ticks(utc(2026, 5, 1, 10, 7), 60))
    assert ran == [utc(2026, 5, 1, 10, 7), utc(2026, 5, 1, 10, 15), utc(2026, 5, 1, 10, 30), utc(2026, 5, 1, 10, 45),
                   utc(2026, 5, 1, 11, 0)]  # the slot begun at 10:00 runs when the worker starts
    task = jobs.queue(kernel).siyu_tasks["expire_unpaid_orders"]
    assert task.task_class().validate_datetime(datetime(2026, 5, 1, 10, 0))
    assert not task.task_class().validate_datetime(datetime(2026, 5, 1, 10, 0, 30))  # same slot
    assert task.task_class().validate_datetime(datetime(2026, 5, 1, 10, 1))


def test_a_retry_continues_its_slot_and_the_error_stays_visible(kernel, db, chores):
    huey = jobs.queue(kernel)
    chores.fail_next = 1
    huey.enqueue(huey.siyu_tasks["test.flaky"].task_class())  # as the consumer's scheduler does
    assert jobs.run_pending(kernel) == 2  # failed, retried at once (retry_delay=0), done
    assert chores.runs == ["flaky"]
    slot = db.scalar(select(JobSlot).where(JobSlot.job == "test.flaky"))
    assert (slot.status, slot.attempts) == ("done", 2)
    assert slot.error == "RuntimeError: the carrier's API timed out"
    # another run of the same slot (a second worker) neither runs nor takes it over
    assert schedules.run_slot(kernel, huey.siyu_schedules["test.flaky"], now=slot.slot_at) is None
    assert chores.runs == ["flaky"]


def test_a_scheduled_job_is_not_queued_by_name(kernel):
    with pytest.raises(LookupError, match="runs on its schedule"):
        jobs.enqueue(kernel, "test.daily")


def test_the_owner_sees_each_scheduled_job_on_the_settings_page(app, client, kernel, db, chores):
    staff_login(client, make_staff(db, "owner"))
    page = client.get("/admin/settings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No worker has run the schedule lately" in page and "Not yet" in page
    queued = jobs.queue(kernel).siyu_schedules
    chores.fail_next = 1
    with pytest.raises(RuntimeError):
        schedules.run_slot(kernel, queued["test.flaky"])
    schedules.run_slot(kernel, queued["test.daily"])
    schedules.run_slot(kernel, queued["expire_unpaid_orders"])
    page = client.get("/admin/settings", headers={"Accept-Language": "en"}).get_data(as_text=True)
    section = page[page.index('id="scheduled-jobs"'):]
    for text in ("Scheduled jobs", "Nightly chore", "Daily at 03:30", "Every 15 minutes", "Every minute",
                 "Cancel unpaid orders past their reservation", "Not yet", "Done", "Failed",
                 "RuntimeError: the carrier&#39;s API timed out"):
        assert text in section, text
    assert "No worker has run the schedule lately" not in page  # the every-minute sweep ran just now
    zh = client.get("/admin/settings", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "定时任务" in zh and "每天 03:30" in zh and "每 15 分钟" in zh and "取消超过保留时间的未付款订单" in zh
    agent = app.test_client()
    staff_login(agent, make_staff(db, "agent"))
    assert agent.get("/admin/settings").status_code == 403


def test_the_demos_worker_thread_runs_queued_jobs_and_the_schedule(kernel, db, chores):
    sign_up(kernel, db, email="tea@example.com", password="password-123", name="Tea")
    worker = jobs.Worker(kernel, interval=0.05)
    worker.start()
    try:
        broadcast = create_broadcast(kernel, db, None, audience="all", text="New tea")
        deadline = clock.monotonic() + 20
        while clock.monotonic() < deadline:
            db.rollback()  # a new snapshot: the worker commits in its own sessions
            db.expire_all()
            if db.get(Broadcast, broadcast.id).status == "done" and "daily" in chores.runs:
                break
            clock.sleep(0.05)
    finally:
        worker.stop()
    assert not worker.is_alive()
    assert (db.get(Broadcast, broadcast.id).status, db.get(Broadcast, broadcast.id).sent) == ("done", 1)
    assert "daily" in chores.runs and "flaky" in chores.runs  # the current slots, at start


def test_make_run_serves_the_demo_with_its_worker(runner, app, kernel, db, chores, monkeypatch):
    import werkzeug.serving

    import siyu.storefront

    seen = {}

    def serve(host, port, application, threaded):
        deadline = clock.monotonic() + 20
        while "daily" not in chores.runs and clock.monotonic() < deadline:
            clock.sleep(0.05)
        seen["runs"] = list(chores.runs)

    monkeypatch.setenv("SIYU_STRIPE_SECRET_KEY", "sk_test_demo")  # no localstripe in this test
    monkeypatch.setattr(siyu.storefront, "create_app", lambda config: app)
    monkeypatch.setattr(werkzeug.serving, "run_simple", serve)
    result = runner.invoke(args=["siyu", "demo", "--port", "5999"])
    assert result.exit_code == 0, result.output
    assert "jobs run in this process" in result.output
    assert "daily" in seen["runs"]
    assert not [t for t in threading.enumerate() if t.name == "siyu-worker"]
