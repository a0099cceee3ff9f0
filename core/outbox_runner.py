"""Running the outbox (``siyu.core.outbox``): claim a due entry, run its task, mark it done.

The claim (a conditional UPDATE ``pending → running``; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so runners pass each other by), the task's writes (in a savepoint) and the
``done`` mark are one transaction: a crash anywhere before the commit rolls all of it back and
the entry is still pending for the next runner; once committed, no runner sees it due again.
So across workers and hosts each entry's writes happen once. What a task does outside the
database (a remote API) happens at least once: make it idempotent with the entry's payload.

An entry waits while an earlier entry of the same plugin and order is not done (pending,
waiting for a retry, or failed), so a plugin sees one order's events in their order. A task
that raises rolls back to its savepoint; the entry is tried again after a backoff (30 s,
doubling, at most an hour) and after its last attempt it is ``failed``, shown in the back
office with a retry button. Entries of a plugin that is not enabled wait for it.

When they run: right after the commit, in the committing process, when ``OUTBOX_INLINE`` is on
(the default: the demo and small shops); otherwise the commit puts ``siyu.outbox.run`` on the
worker's queue. The worker also runs ``siyu.outbox`` every minute (retries due, and whatever a
crash left), including when it starts.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, event, exists, or_, select, update
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


#: Which entries a run takes: (id, plugin, order id) as ``after_commit`` recorded them; those
#: entries and the later ones of the same plugin and order (None: every due entry).
Scope = list[tuple[int, str, int | None]] | None


def _due(now: datetime, names: list[str], scope: Scope):
    entry, earlier = OutboxEntry, aliased(OutboxEntry)
    query = select(entry).where(
        entry.state == PENDING, entry.next_attempt_at <= now, entry.task.in_(names),
        ~exists().where(earlier.plugin == entry.plugin, earlier.order_id == entry.order_id,
                        earlier.id < entry.id, earlier.state.in_(_UNFINISHED)))
    if scope is not None:
        # An entry that waited for one of ours (two changes of one order committed at once: the
        # later one's runner found the earlier entry still running) is run after it, here.
        orders = {(plugin, order_id) for _id, plugin, order_id in scope if order_id is not None}
        query = query.where(or_(entry.id.in_([item[0] for item in scope]),
                                *(and_(entry.plugin == plugin, entry.order_id == order_id)
                                  for plugin, order_id in sorted(orders))))
    return (query.order_by(entry.id).limit(1).with_for_update(skip_locked=True, of=entry)
            .execution_options(populate_existing=True))


def run_one(kernel, session: Session, now: datetime | None = None, scope: Scope = None) -> str | None:
    """Claim the first due entry (in ``scope``, when given) and run it: ``done``, ``retry``
    (it failed; tried again later), ``failed`` (its last attempt failed); None when none is due."""
    now = now or utcnow()
    registry = tasks(kernel)
    with write_transaction(session):
        entry = session.scalars(_due(now, list(registry), scope)).first()
        if entry is None:
            return None
        claimed = session.execute(
            update(OutboxEntry).where(OutboxEntry.id == entry.id, OutboxEntry.state == PENDING)
            .values(state=RUNNING, attempts=OutboxEntry.attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        if claimed != 1:  # another runner had it (a database that does not lock rows)
            return "skipped"
        task, attempts, error = registry[entry.task], entry.attempts + 1, None
        entry_id, key = entry.id, entry.key
        try:
            with session.begin_nested():
                task.func(kernel, session, dict(entry.payload or {}))
        except Exception as exc:  # noqa: BLE001 - any failure is retried, then shown to the owner
            error = exc
        if error is None:
            outcome, values = "done", {"state": DONE, "done_at": now}
        else:
            last = attempts >= max_attempts(kernel, task)
            outcome = "failed" if last else "retry"
            values = {"state": FAILED if last else PENDING, "last_error": f"{type(error).__name__}: {error}"[:500],
                      "next_attempt_at": now if last else now + backoff(attempts)}
        session.execute(update(OutboxEntry).where(OutboxEntry.id == entry_id).values(**values)
                        .execution_options(synchronize_session=False))
    if error is not None:
        log.error("outbox task %s (plugin %s, entry %s, key %s) failed, attempt %d: %s%s", task.name,
                  task.plugin, entry_id, key, attempts, values["last_error"],
                  "; no attempts left: retry it in the back office" if outcome == "failed" else
                  f"; tried again at {values['next_attempt_at'].isoformat()}", exc_info=error)
    return outcome


def drain(kernel, *, scope: Scope = None, limit: int = 1000, seconds: float | None = None,
          now: datetime | None = None) -> dict[str, int]:
    """Run due entries one after the other, each in a session of its own, until none is due,
    ``limit`` ran or ``seconds`` passed; returns how many ended how."""
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    while sum(outcomes.values()) < limit and (seconds is None or time.monotonic() - started < seconds):
        session = kernel.db.Session()
        try:
            outcome = run_one(kernel, session, now, scope)
        finally:
            session.close()
        if outcome is None:
            break
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
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
    except Exception:  # noqa: BLE001 - e.g. the database went away: the worker runs them later
        log.exception("outbox: entries %s could not run after the commit; the worker runs them",
                      [item[0] for item in recorded])


def kick(kernel: Any) -> None:
    """Ask the worker to run the outbox now (else it does within a minute)."""
    from siyu.core import jobs

    try:
        jobs.enqueue(kernel, RUN_JOB)
    except Exception:  # noqa: BLE001 - the minute's scheduled run picks the entries up
        log.warning("outbox: could not queue %s; the worker's scheduled run picks the work up", RUN_JOB,
                    exc_info=True)
