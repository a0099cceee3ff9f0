"""Running the outbox (``siyu.core.outbox``): claim due entries, run their tasks, mark them done.

The claim (a conditional UPDATE ``pending → running``; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so runners pass each other by), the task's writes (in a savepoint) and the
``done`` mark are one transaction (a batch of up to 20 entries, each task in a savepoint of its
own): a crash anywhere before the commit rolls all of it back and the entries are still pending
for the next runner; once committed, no runner sees them due again.
So across workers and hosts each entry's writes happen once. What a task does outside the
database (a remote API) happens at least once: make it idempotent with the entry's payload.

An entry waits while an earlier entry of the same plugin and order is not done (pending,
waiting for a retry, or failed), so a plugin sees one order's events in their order. A task
that raises rolls back to its savepoint; the entry is tried again after a backoff (30 s,
doubling, at most an hour) and after its last attempt it is ``failed``, shown in the back
office with a retry button. Entries of a plugin that is not enabled wait for it.

When they run: right after the commit, in the committing process, when ``OUTBOX_INLINE`` is on
(the default: the demo and small shops); such a process also runs, at most once a minute, the
other entries due (retries, what a crash left), so a shop without a worker catches up too.
Otherwise the commit puts ``siyu.outbox.run`` on the worker's queue. The worker also runs
``siyu.outbox`` every minute (retries due, and whatever a crash left), including when it starts.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, event, exists, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from siyu.core.db import utcnow, write_transaction
from siyu.core.models.outbox import DONE, FAILED, PENDING, RUNNING, OutboxEntry
from siyu.core.outbox import RECORDED, backoff, max_attempts, tasks

log = logging.getLogger("siyu.outbox")
#: Done entries are forgotten after this long.
KEEP = timedelta(days=7)
#: The scheduled run stops taking new entries after this long (the next minute's run goes on).
SCHEDULED_SECONDS = 50
#: The job the worker runs every minute, and the one a commit queues when the shop has a worker.
SCHEDULED_JOB, RUN_JOB = "siyu.outbox", "siyu.outbox.run"
_UNFINISHED = (PENDING, RUNNING, FAILED)
#: After a commit, at most this many entries of the same orders beside the commit's own.
INLINE_EXTRA = 20
#: Entries run in one transaction (each task in a savepoint of its own).
BATCH = 20
#: Without a worker, a committing process also runs other due entries at most this often.
SWEEP_SECONDS = 60
_SWEEP_LOCK = threading.Lock()


#: Which entries a run takes: (id, plugin, order id) as ``after_commit`` recorded them; those
#: entries and the later ones of the same plugin and order (None: every due entry).
Scope = list[tuple[int, str, int | None]] | None


def _due_statements():
    """The runner's query, built once (a query built per call costs more than running it):
    pending entries due by ``now`` of the registered ``names``, no earlier one of their plugin
    and order unfinished; the scoped form also limited to ``ids`` and the later entries of the
    ``orders`` (plugin, order id) pairs."""
    entry, earlier = OutboxEntry, aliased(OutboxEntry)
    query = select(entry).where(
        entry.state == PENDING, entry.next_attempt_at <= bindparam("now"),
        entry.task.in_(bindparam("names", expanding=True)),
        ~exists().where(earlier.plugin == entry.plugin, earlier.order_id == entry.order_id,
                        earlier.id < entry.id, earlier.state.in_(_UNFINISHED)))
    # An entry that waited for one of ours (two changes of one order committed at once: the later
    # one's runner found the earlier entry still running) is run after it, by our runner.
    scoped = query.where(or_(entry.id.in_(bindparam("ids", expanding=True)),
                             tuple_(entry.plugin, entry.order_id).in_(bindparam("orders", expanding=True))))
    return tuple(q.order_by(entry.id).limit(bindparam("limit")).with_for_update(skip_locked=True, of=entry)
                 .execution_options(populate_existing=True) for q in (query, scoped))


_DUE, _DUE_SCOPED = _due_statements()
_CLAIM = (update(OutboxEntry).where(OutboxEntry.id.in_(bindparam("ids", expanding=True)), OutboxEntry.state == PENDING)
          .values(state=RUNNING, attempts=OutboxEntry.attempts + 1).execution_options(synchronize_session=False))
_DONE = (update(OutboxEntry).where(OutboxEntry.id.in_(bindparam("ids", expanding=True)))
         .values(state=DONE, done_at=bindparam("now")).execution_options(synchronize_session=False))


def _due(session: Session, now: datetime, names: list[str], scope: Scope, limit: int) -> list[OutboxEntry]:
    params: dict[str, Any] = {"now": now, "names": names, "limit": limit}
    if scope is None:
        return list(session.scalars(_DUE, params))
    orders = sorted({(plugin, order_id) for _id, plugin, order_id in scope if order_id is not None})
    params.update(ids=[item[0] for item in scope], orders=orders or [("", -1)])  # (never matches)
    return list(session.scalars(_DUE_SCOPED, params))


def run_batch(kernel, session: Session, now: datetime | None = None, scope: Scope = None,
              limit: int = BATCH) -> dict[str, int]:
    """Claim the due entries (in ``scope``, when given; at most ``limit``) and run them, in one
    transaction, each task in a savepoint of its own; then those their runs made due (the next
    of an order). Returns how many ended how: ``done``, ``retry`` (failed; tried again later),
    ``failed`` (its last attempt failed); empty when none was due."""
    now = now or utcnow()
    registry = tasks(kernel)
    outcomes: dict[str, int] = {}
    failures = []
    with write_transaction(session):
        while sum(outcomes.values()) < limit:
            entries = _due(session, now, list(registry), scope, limit - sum(outcomes.values()))
            if not entries:
                break
            claimed = session.execute(_CLAIM, {"ids": [e.id for e in entries]}).rowcount
            if claimed != len(entries):  # another runner had some (a database that does not lock rows)
                raise RuntimeError("outbox entries claimed by another runner meanwhile")
            done = []
            for entry in entries:
                error = _run(kernel, session, registry[entry.task], entry)
                if error is None:
                    done.append(entry.id)
                    outcomes["done"] = outcomes.get("done", 0) + 1
                    continue
                attempts = entry.attempts + 1
                last = attempts >= max_attempts(kernel, registry[entry.task])
                values = {"state": FAILED if last else PENDING, "last_error": f"{type(error).__name__}: {error}"[:500],
                          "next_attempt_at": now if last else now + backoff(attempts)}
                session.execute(update(OutboxEntry).where(OutboxEntry.id == entry.id).values(**values)
                                .execution_options(synchronize_session=False))
                outcome = "failed" if last else "retry"
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                failures.append((registry[entry.task], entry, attempts, outcome, values, error))
            if done:
                session.execute(_DONE, {"ids": done, "now": now})
    for task, entry, attempts, outcome, values, error in failures:  # once the failures are recorded
        log.error("outbox task %s (plugin %s, entry %s, key %s) failed, attempt %d: %s%s", task.name, task.plugin,
                  entry.id, entry.key, attempts, values["last_error"],
                  "; no attempts left: retry it in the back office" if outcome == "failed" else
                  f"; tried again at {values['next_attempt_at'].isoformat()}", exc_info=error)
    return outcomes


def _run(kernel, session: Session, task, entry: OutboxEntry) -> Exception | None:
    """Run one claimed entry's task in a savepoint; the error it raised, rolled back to the savepoint."""
    try:
        with session.begin_nested():
            task.func(kernel, session, dict(entry.payload or {}))
    except Exception as exc:  # noqa: BLE001 - any failure is retried, then shown to the owner
        return exc
    return None


def drain(kernel, *, scope: Scope = None, limit: int = 1000, seconds: float | None = None,
          now: datetime | None = None, batch: int = BATCH) -> dict[str, int]:
    """Run due entries, a batch per transaction (each batch in a session of its own), until none
    is due, ``limit`` ran or ``seconds`` passed; returns how many ended how."""
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    while (left := limit - sum(outcomes.values())) > 0 and (seconds is None or time.monotonic() - started < seconds):
        session = kernel.db.Session()
        try:
            ran = run_batch(kernel, session, now, scope, min(batch, left))
        finally:
            session.close()
        if not ran:
            break
        for outcome, n in ran.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + n
        if sum(ran.values()) < min(batch, left):
            break  # a batch stops short only when nothing more is due
    return outcomes


def forget_done(session: Session, now: datetime | None = None) -> int:
    with write_transaction(session):
        return session.execute(delete(OutboxEntry).where(
            OutboxEntry.state == DONE, OutboxEntry.done_at < (now or utcnow()) - KEEP)).rowcount


def scheduled_run(kernel) -> dict[str, int]:
    """The worker's run every minute (and at its start): what is due, then old done entries."""
    outcomes = drain(kernel, seconds=SCHEDULED_SECONDS)
    session = kernel.db.Session()
    try:
        forget_done(session)
    finally:
        session.close()
    return outcomes


def queued_run(kernel) -> dict[str, int]:
    """What a commit queued for the worker: every entry due."""
    return drain(kernel, seconds=SCHEDULED_SECONDS)


def install(kernel) -> None:
    """Run a session's recorded entries after its transaction commits (sessions of this kernel)."""
    maker = kernel.db.Session
    event.listen(maker, "after_commit", lambda session: _committed(kernel, session))
    event.listen(maker, "after_rollback", _rolled_back)


def _rolled_back(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's rollback leaves ids of rows that never were
        session.info.pop(RECORDED, None)


def _committed(kernel, session: Session) -> None:
    if session.in_nested_transaction():
        return
    recorded = session.info.pop(RECORDED, None)
    if not recorded:
        return
    if not kernel.config.get("OUTBOX_INLINE", True):
        kick(kernel)
        return
    try:  # the change is committed whatever happens here: a failure waits for its retry
        drain(kernel, scope=recorded, limit=len(recorded) + INLINE_EXTRA)
        if _sweep_due(kernel):  # a shop without a worker: retries that came due, what a crash left
            drain(kernel, limit=INLINE_EXTRA)
    except Exception:  # noqa: BLE001 - e.g. the database went away: the worker runs them later
        log.exception("outbox: entries %s could not run after the commit; the worker runs them",
                      [item[0] for item in recorded])


def _sweep_due(kernel) -> bool:
    """True at most once a minute per kernel: time for a committing process to run other due work."""
    now = time.monotonic()
    with _SWEEP_LOCK:
        last = getattr(kernel, "siyu_outbox_swept", None)
        if last is not None and now - last < SWEEP_SECONDS:
            return False
        kernel.siyu_outbox_swept = now
        return True


def kick(kernel: Any) -> None:
    """Ask the worker to run the outbox now (else it does within a minute)."""
    from siyu.core import jobs

    try:
        jobs.enqueue(kernel, RUN_JOB)
    except Exception:  # noqa: BLE001 - the minute's scheduled run picks the entries up
        log.warning("outbox: could not queue %s; the worker's scheduled run picks the work up", RUN_JOB,
                    exc_info=True)
