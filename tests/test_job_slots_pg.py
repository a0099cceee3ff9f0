"""A scheduled slot runs once across workers, proven on PostgreSQL: the claim in job_slots."""
import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from siyu.core import hookimpl, jobs, schedules
from siyu.core.models import JobSlot
from siyu.plugin.testing import run_together

pytestmark = pytest.mark.postgres
SLOT = datetime(2026, 5, 1, 19, 30, tzinfo=timezone.utc)


class Nightly:
    def __init__(self):
        self.runs = 0
        self.lock = threading.Lock()

    def work(self, kernel):
        with self.lock:
            self.runs += 1
        time.sleep(0.2)  # long enough for every other worker to try the slot meanwhile
        return "ran"

    @hookimpl
    def register_jobs(self, register):
        register("test.nightly", self.work, daily_at="03:30")


@pytest.fixture
def nightly():
    return Nightly()


@pytest.fixture
def siyu_plugins(nightly):
    return [nightly]


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


def test_workers_racing_for_one_slot_run_it_once(pg, nightly):
    # each worker process builds its own queue (and its own memory of enqueued slots)
    queues = [jobs.make_queue(pg) for _ in range(8)]
    now = datetime(2026, 5, 2, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai: the 03:30 slot is due
    results, errors = run_together(8, lambda i: schedules.run_slot(pg, queues[i].siyu_schedules["test.nightly"],
                                                                   now=now))
    assert errors == []
    assert results.count("ran") == 1 and results.count(None) == 7
    assert nightly.runs == 1
    session = pg.db.Session()
    try:
        row = session.scalars(select(JobSlot)).one()
        assert (row.job, row.slot_at, row.status, row.attempts) == ("test.nightly", SLOT, "done", 1)
    finally:
        session.close()


def test_twenty_claims_of_one_slot_win_once(pg):
    def claim(i):
        session = pg.db.Session()
        try:
            return schedules.claim(session, "test.race", SLOT, f"run-{i}")
        finally:
            session.close()

    results, errors = run_together(20, claim)
    assert errors == []
    assert results.count(True) == 1 and results.count(False) == 19
    session = pg.db.Session()
    try:
        assert session.scalar(select(func.count(JobSlot.id)).where(JobSlot.job == "test.race")) == 1
    finally:
        session.close()
