"""After commit, a transactional outbox: work recorded in a state change's transaction runs once
after the commit, never for a change that rolled back, in order per order, retried with backoff;
a crash between the commit and the run loses nothing (SQLite; PostgreSQL with
SIYU_TEST_DATABASE=postgresql, and the races in test_outbox_pg.py)."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from conftest import make_product
from outbox_helpers import Notes, crash, record
from sqlalchemy import func, select

from siyu.core import hookimpl, jobs, outbox_runner
from siyu.core.db import utcnow, write_transaction
from siyu.core.kernel import Kernel
from siyu.core.models import OutboxEntry, Product
from siyu.core.outbox import after_commit, backoff


@pytest.fixture
def notes(register_plugin):
    return register_plugin(Notes(), name="notes")


def entry(db, key):
    db.rollback()
    return db.scalar(select(OutboxEntry).where(OutboxEntry.key == key).execution_options(populate_existing=True))


def test_work_runs_once_right_after_the_commit_never_inside_it(kernel, db, notes):
    with write_transaction(db):
        db.add(Product(sku="OUT-1", title_zh="茶", title_en="Tea", price=100, currency="CNY", stock=1))
        after_commit(kernel, db, "notes.note", key="k1", payload={"key": "k1", "sku": "OUT-1"})
        db.flush()
        assert notes.ran == []  # not before the commit
    assert notes.keys() == ["k1"] and notes.seen_committed == [True]
    found = entry(db, "k1")
    assert (found.state, found.attempts, found.plugin, found.done_at is not None) == ("done", 1, "notes", True)
    assert outbox_runner.drain(kernel) == {}  # done: never again


def test_a_change_that_rolls_back_records_nothing(kernel, db, notes):
    with pytest.raises(RuntimeError, match="payment refused"):
        with write_transaction(db):
            after_commit(kernel, db, "notes.note", key="gone", payload={"key": "gone"})
            raise RuntimeError("payment refused")
    with write_transaction(db):  # a savepoint that rolls back takes its entry with it, not the others'
        after_commit(kernel, db, "notes.note", key="kept", payload={"key": "kept"})
        with pytest.raises(ValueError):
            with write_transaction(db):
                after_commit(kernel, db, "notes.note", key="undone", payload={"key": "undone"})
                raise ValueError("a service refused")
    assert notes.keys() == ["kept"]
    assert db.scalars(select(OutboxEntry.key)).all() == ["kept"]


def test_the_same_event_is_recorded_and_run_once(kernel, db, notes):
    with write_transaction(db):
        first = after_commit(kernel, db, "notes.note", key="order:1:paid", payload={"key": "order:1:paid"})
        again = after_commit(kernel, db, "notes.note", key="order:1:paid", payload={"key": "order:1:paid"})
    assert first is not None and again is None
    assert record(kernel, db, "order:1:paid") is None  # a replayed event, later: nothing new
    assert notes.keys() == ["order:1:paid"]
    assert db.scalar(select(func.count(OutboxEntry.id))) == 1


def test_a_failing_task_is_retried_with_backoff_then_failed(kernel, db, notes):
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 7, 8, 20)] == [30, 60, 120, 1920, 3600, 3600]
    notes.failing["f"] = -1
    record(kernel, db, "f", task="notes.flaky")  # attempt 1 runs at once and fails
    first = entry(db, "f")
    assert (first.state, first.attempts, first.last_error) == ("pending", 1, "RuntimeError: f is not ready")
    t1 = first.next_attempt_at - timedelta(seconds=30)
    assert outbox_runner.drain(kernel, now=t1 + timedelta(seconds=29)) == {}  # not due yet
    assert outbox_runner.drain(kernel, now=t1 + timedelta(seconds=31)) == {"retry": 1}
    t2 = t1 + timedelta(seconds=31)
    assert entry(db, "f").next_attempt_at == t2 + timedelta(seconds=60)
    assert outbox_runner.drain(kernel, now=t2 + timedelta(seconds=59)) == {}
    assert outbox_runner.drain(kernel, now=t2 + timedelta(seconds=61)) == {"failed": 1}  # max_attempts=3
    failed = entry(db, "f")
    assert (failed.state, failed.attempts, failed.last_error) == ("failed", 3, "RuntimeError: f is not ready")
    assert outbox_runner.drain(kernel, now=t2 + timedelta(days=2)) == {}  # waits for someone to retry it
    assert notes.ran == []


def test_a_task_that_recovers_runs_once_and_keeps_its_last_error(kernel, db, notes):
    notes.failing["r"] = 1
    record(kernel, db, "r")
    assert notes.ran == []
    assert outbox_runner.drain(kernel, now=utcnow() + timedelta(minutes=1)) == {"done": 1}
    done = entry(db, "r")
    assert (done.state, done.attempts, done.last_error) == ("done", 2, "RuntimeError: r is not ready")
    assert notes.keys() == ["r"]


class Other(Notes):
    @hookimpl
    def register_outbox_tasks(self, register):  # a plugin of its own (the registry tells them by code)
        register("other.note", self.note)


def test_the_work_of_one_order_runs_in_order_per_plugin(kernel, db, notes, register_plugin):
    other = register_plugin(Other("other"), name="other")
    notes.failing["o1-paid"] = 1
    record(kernel, db, "o1-paid", order_id=1)  # fails: retried in 30 s
    record(kernel, db, "o1-refunded", order_id=1)  # waits for it
    record(kernel, db, "o2-paid", order_id=2)  # another order: runs
    record(kernel, db, "no-order")  # no order: runs
    record(kernel, db, "o1-other", task="other.note", order_id=1)  # another plugin's: runs
    assert notes.keys() == ["o2-paid", "no-order"] and other.keys() == ["o1-other"]
    assert outbox_runner.drain(kernel) == {}  # o1-refunded is not due before o1-paid
    assert outbox_runner.drain(kernel, now=utcnow() + timedelta(minutes=1)) == {"done": 2}
    assert notes.keys() == ["o2-paid", "no-order", "o1-paid", "o1-refunded"]


def test_a_failed_entry_holds_back_the_later_ones_of_its_order_until_retried(kernel, db, notes):
    from siyu.core.outbox import retry

    notes.failing["a"] = -1
    record(kernel, db, "a", task="notes.flaky", order_id=7)
    record(kernel, db, "b", order_id=7)
    later = utcnow()
    for minutes in (1, 3):
        later += timedelta(minutes=minutes)
        outbox_runner.drain(kernel, now=later)
    assert entry(db, "a").state == "failed" and entry(db, "b").state == "pending" and notes.ran == []
    notes.failing["a"] = 0
    with write_transaction(db):
        assert retry(db, entry(db, "a").id)
    assert notes.keys() == ["a", "b"]  # run right after the retry's commit, in order
    with write_transaction(db):
        assert not retry(db, entry(db, "a").id)  # done: nothing to retry


def test_a_crash_between_the_commit_and_the_run_loses_nothing(app, kernel, db, notes, monkeypatch):
    # The process dies right after the commit, before it could run the work...
    monkeypatch.setattr(outbox_runner, "_committed", crash)
    record(kernel, db, "after-crash", order_id=3)
    assert notes.ran == [] and entry(db, "after-crash").state == "pending"
    monkeypatch.undo()
    # ...and the next worker to start, in a new process, runs it (its first round, at once).
    restarted_notes = Notes()
    restarted = Kernel(kernel.config, extra_plugins=[restarted_notes])
    try:
        jobs.Worker(restarted).step()
    finally:
        restarted.db.dispose()
    assert restarted_notes.keys() == ["after-crash"] and notes.ran == []
    assert entry(db, "after-crash").state == "done"


def test_without_a_worker_a_later_commit_runs_what_a_crash_left_once_a_minute(kernel, db, notes, monkeypatch):
    monkeypatch.setattr(outbox_runner, "_committed", crash)  # the crash
    record(kernel, db, "left")
    monkeypatch.undo()
    kernel.siyu_outbox_swept = time.monotonic()  # this process looked a moment ago
    record(kernel, db, "next")
    assert notes.keys() == ["next"]
    kernel.siyu_outbox_swept -= outbox_runner.SWEEP_SECONDS + 1  # a minute later
    record(kernel, db, "later")
    assert notes.keys() == ["next", "later", "left"]


def test_a_crash_inside_the_task_rolls_its_claim_back(kernel, db, notes, monkeypatch):
    monkeypatch.setitem(kernel.config, "OUTBOX_INLINE", False)
    record(kernel, db, "d", task="notes.dies")
    with pytest.raises(SystemExit):
        outbox_runner.drain(kernel)
    crashed = entry(db, "d")
    assert (crashed.state, crashed.attempts) == ("pending", 0)  # as if never claimed
    assert outbox_runner.drain(kernel) == {"done": 1} and notes.keys() == ["d"]


def test_with_a_worker_the_commit_wakes_it_and_the_worker_runs_the_work(kernel, db, notes, monkeypatch):
    monkeypatch.setitem(kernel.config, "OUTBOX_INLINE", False)
    record(kernel, db, "w")
    assert notes.ran == [] and entry(db, "w").state == "pending"
    assert jobs.run_pending(kernel) >= 1  # the commit queued siyu.outbox.run
    assert notes.keys() == ["w"]


def test_after_commit_refuses_what_it_could_not_run(kernel, db, notes):
    with pytest.raises(LookupError, match="no outbox task 'notes.typo'"):
        with write_transaction(db):
            after_commit(kernel, db, "notes.typo", key="x")
    with pytest.raises(RuntimeError, match="inside write_transaction"):
        after_commit(kernel, db, "notes.note", key="x")
    db.rollback()
    with pytest.raises(ValueError, match="must be JSON"):
        with write_transaction(db):
            after_commit(kernel, db, "notes.note", key="x", payload={"at": object()})
    with pytest.raises(ValueError, match="1 to 200 characters"):
        with write_transaction(db):
            after_commit(kernel, db, "notes.note", key="x" * 201)
    assert db.scalar(select(func.count(OutboxEntry.id))) == 0


def test_entries_of_a_plugin_not_enabled_wait_and_old_done_ones_are_forgotten(kernel, db, notes):
    now = utcnow()
    with write_transaction(db):
        db.add(OutboxEntry(plugin="gone", task="gone.task", key="k", payload={}, state="pending",
                           attempts=0, next_attempt_at=now, last_error="", created_at=now))
    record(kernel, db, "old")
    assert outbox_runner.drain(kernel) == {} and entry(db, "k").state == "pending"
    assert outbox_runner.forget_done(db, now + timedelta(days=6)) == 0
    assert outbox_runner.forget_done(db, now + timedelta(days=8)) == 1
    assert db.scalars(select(OutboxEntry.key)).all() == ["k"]


def test_a_payment_records_its_contact_window_update_and_runs_it_after_commit(kernel, db, monkeypatch):
    from backoffice_helpers import paid_order

    from siyu.core.members import sign_up
    from siyu.core.models import MemberInteraction

    member = sign_up(kernel, db, email="window@example.com", password="password-w1")
    monkeypatch.setitem(kernel.config, "OUTBOX_INLINE", False)
    order = paid_order(kernel, db, member, make_product(db, "WIN", price=800, stock=5), "t-window")
    assert db.scalar(select(func.count(MemberInteraction.id))) == 0  # not in the payment's transaction
    assert outbox_runner.drain(kernel) == {"done": 1}
    db.rollback()
    (interaction,) = db.scalars(select(MemberInteraction)).all()
    assert (interaction.member_id, interaction.kind, interaction.at) == (member.id, "payment", order.paid_at)
