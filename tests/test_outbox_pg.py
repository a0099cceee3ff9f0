"""The outbox's races on PostgreSQL: several runners (workers, hosts, requests running their own
work after the commit) draining at once run each entry once, and one order's entries in order."""
from __future__ import annotations

from collections import Counter

import pytest
from outbox_helpers import Notes, crash, record
from sqlalchemy import func, select

from siyu.core import outbox_runner
from siyu.core.models import OutboxEntry
from siyu.plugin.testing import run_together

pytestmark = pytest.mark.postgres
ORDERS, PER_ORDER = 8, 5


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["siyu"]


@pytest.fixture
def notes(pg):
    found = Notes(sleep=0.01)  # long enough for the other runners to reach the same rows meanwhile
    pg.pm.register(found, name="notes")
    yield found
    pg.pm.unregister(name="notes")


def in_order(notes) -> bool:
    steps: dict[str, list[int]] = {}
    for key in notes.keys():
        order, step = key.split(":")
        steps.setdefault(order, []).append(int(step))
    return all(found == sorted(found) for found in steps.values())


def test_runners_draining_at_once_run_each_entry_once_and_in_order(pg, notes, monkeypatch):
    monkeypatch.setattr(outbox_runner, "_committed", crash)  # workers run it all
    session = pg.db.Session()
    try:
        for step in range(PER_ORDER):
            for order in range(ORDERS):
                record(pg, session, f"{order}:{step}", order_id=1000 + order)
        for n in range(10):
            record(pg, session, f"free{n}:0")  # no order: any runner, any time
    finally:
        session.close()
    monkeypatch.undo()

    results, errors = run_together(6, lambda i: outbox_runner.drain(pg, batch=2))  # small batches: contention
    assert errors == []
    assert sum(r.get("done", 0) for r in results) == ORDERS * PER_ORDER + 10
    assert sum(1 for r in results if r.get("done")) >= 2  # the runners shared the work
    counts = Counter(notes.keys())
    assert len(counts) == ORDERS * PER_ORDER + 10 and set(counts.values()) == {1}
    assert in_order(notes)
    session = pg.db.Session()
    try:
        assert session.scalar(select(func.count(OutboxEntry.id)).where(OutboxEntry.state != "done")) == 0
        assert set(session.scalars(select(OutboxEntry.attempts))) == {1}
    finally:
        session.close()


def test_commits_running_their_own_work_race_the_workers_and_run_each_entry_once(pg, notes):
    """Requests commit one change after another of their order (the core serialises the changes
    of one order) and run the work right after each, while two workers drain: every entry runs
    once, each order's in the order recorded."""
    def act(i):
        if i < 2:
            return outbox_runner.drain(pg)
        session = pg.db.Session()
        try:
            for step in range(PER_ORDER):
                record(pg, session, f"{i}:{step}", order_id=2000 + i)
        finally:
            session.close()
        return None

    results, errors = run_together(8, act)
    assert errors == []
    outbox_runner.drain(pg)  # anything a runner found waiting behind a neighbour's entry
    counts = Counter(notes.keys())
    assert len(counts) == 6 * PER_ORDER and set(counts.values()) == {1}
    assert in_order(notes)
