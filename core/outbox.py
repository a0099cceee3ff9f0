"""After commit: follow-up work recorded in a state change's transaction, run once it committed.

A hook that reacts to a state change (``on_order_paid``...) and has work that is not money
(statistics, tags, roll-ups, notices, contact windows) records it with ``after_commit``
instead of doing it in the payment's transaction::

    after_commit(kernel, session, "crm_tags.order_paid", key=f"order:{order.id}:paid",
                 payload={"spend": order.total}, order_id=order.id)

The row is written in the caller's transaction, so it exists exactly when the change does:
none for a change that rolled back, none lost by a crash after the commit. The task, registered
with ``register_outbox_tasks``, then runs after the commit (``siyu.core.outbox_runner``): in
this process right after the commit when the shop has no separate worker (``OUTBOX_INLINE``,
the default), else in the worker; retried with backoff; once per (plugin, task, key); in the
order recorded among the rows of one plugin and order. Work whose attempts run out waits in the
back office (Settings → Follow-up work) for someone to retry it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from siyu.core.db import _OPEN_UNITS, utcnow
from siyu.core.models.outbox import FAILED, PENDING, OutboxEntry
from siyu.core.registries import Registry, contributions

#: ``session.info`` key: (id, plugin, order id) of the entries this session's transaction recorded
#: (run after the commit, with the entries of the same plugin and order that become due then).
RECORDED = "siyu_outbox_recorded"
DEFAULT_MAX_ATTEMPTS = 8
#: The first retry waits this long, each further one twice as long, up to ``MAX_DELAY``.
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)
MAX_KEY = 200


@dataclass(frozen=True)
class OutboxTask:
    name: str
    #: ``func(kernel, session, payload)``: runs in the runner's write transaction.
    func: Callable[..., Any]
    plugin: str
    max_attempts: int | None = None
    label: Any = None


def _collect(kernel) -> Registry:
    found = Registry()
    for made in contributions(kernel.pm, "register_outbox_tasks"):
        name, func = made.arg(0, "name"), made.arg(1, "func")
        attempts = made.arg(2, "max_attempts", None)
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise ValueError(f"plugin {made.plugin}: an outbox task's name is 1 to 100 characters, not {name!r}")
        if not callable(func):
            raise TypeError(f"plugin {made.plugin}: outbox task {name!r} needs a function")
        if attempts is not None and (isinstance(attempts, bool) or not isinstance(attempts, int)
                                     or not 1 <= attempts <= 100):
            raise ValueError(f"plugin {made.plugin}: outbox task {name!r}: max_attempts is 1 to 100")
        found.add(name, OutboxTask(name, func, made.plugin, attempts, made.arg(3, "label", None)), made.plugin)
    return found


def tasks(kernel) -> Registry:
    """The registered outbox tasks by name (``plugin_of(name)`` says whose)."""
    return kernel.registry("outbox_tasks", _collect)


def max_attempts(kernel, task: OutboxTask | None) -> int:
    if task is not None and task.max_attempts:
        return task.max_attempts
    return int(kernel.config.get("OUTBOX_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed attempt an entry is tried again."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY)


_COLUMNS = ("plugin", "task", "key", "order_id", "payload", "state", "attempts", "next_attempt_at", "last_error",
            "created_at")
_INSERTS: dict[str, Any] = {}


def _insert(session: Session):
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id``, built once per dialect: it runs in the
    state change's transaction (the payment's), where building it each time would cost more."""
    dialect = session.get_bind().dialect.name
    found = _INSERTS.get(dialect)
    if found is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        found = _INSERTS[dialect] = (
            insert(OutboxEntry).values({name: bindparam(name) for name in _COLUMNS})
            .on_conflict_do_nothing(index_elements=["plugin", "task", "key"]).returning(OutboxEntry.id))
    return found


def after_commit(kernel, session: Session, task: str, *, key: str, payload: Mapping[str, Any] | None = None,
                 order_id: int | None = None) -> int | None:
    """Record ``task`` to run after the caller's transaction commits; returns the entry's id, or
    None when the same (task, key) was recorded before (the work exists once per event).

    ``payload`` (JSON) is what the task gets: put in it what the state change saw and the task
    must not read again later (an amount, a flag), since the order may have moved on by then.
    ``order_id``: rows of one plugin and order run in the order they were recorded. Call it
    inside the state change's unit of work (a transactional hook, or ``write_transaction``).
    """
    found = tasks(kernel).get(task)
    if found is None:
        raise LookupError(f"no outbox task {task!r} is registered (register_outbox_tasks)")
    if not session.info.get(_OPEN_UNITS):
        raise RuntimeError("after_commit records work in the caller's transaction: call it inside "
                           "write_transaction, or in a hook that runs in one")
    key = str(key)
    if not 0 < len(key) <= MAX_KEY:
        raise ValueError(f"outbox key must be 1 to {MAX_KEY} characters, not {len(key)}")
    try:  # stored as the task will read it (tuples become lists), and refused at once if not JSON
        values = json.loads(json.dumps(dict(payload or {})))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"outbox task {task!r}: the payload must be JSON ({exc})") from None
    now = utcnow()
    new_id = session.execute(_insert(session), {
        "plugin": found.plugin, "task": task, "key": key, "order_id": order_id, "payload": values, "state": PENDING,
        "attempts": 0, "next_attempt_at": now, "last_error": "", "created_at": now}).scalar()
    if new_id is not None:
        session.info.setdefault(RECORDED, []).append((new_id, found.plugin, order_id))
    return new_id


def retry(session: Session, entry_id: int, now: datetime | None = None) -> bool:
    """Give a failed entry a fresh set of attempts, due now; False when it is not failed.

    Inside the caller's transaction; after the commit it runs as newly recorded work does.
    """
    moved = session.execute(
        update(OutboxEntry).where(OutboxEntry.id == entry_id, OutboxEntry.state == FAILED)
        .values(state=PENDING, attempts=0, next_attempt_at=now or utcnow())
        .returning(OutboxEntry.plugin, OutboxEntry.order_id)).first()
    if moved is not None:
        session.info.setdefault(RECORDED, []).append((entry_id, moved.plugin, moved.order_id))
    return moved is not None


def counts(session: Session) -> dict[str, int]:
    """Entries by state (``done`` ones are kept a week, see ``outbox_runner.KEEP``)."""
    return dict(session.execute(select(OutboxEntry.state, func.count(OutboxEntry.id))
                                .group_by(OutboxEntry.state)).all())
