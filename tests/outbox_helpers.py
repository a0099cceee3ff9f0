"""A plugin with outbox tasks for the outbox's tests, and recording work in a unit of work."""
from __future__ import annotations

import threading
import time

from siyu.core import hookimpl
from siyu.core.db import write_transaction
from siyu.core.outbox import RECORDED, after_commit


class Notes:
    """Outbox tasks that note what they ran. ``test.note`` fails while its key is in ``failing``
    (each failure counted); ``test.dies`` ends the process mid-task once (SystemExit)."""

    def __init__(self, name: str = "notes", sleep: float = 0):
        self.__name__, self.sleep = name, sleep
        self.ran: list[tuple[str, dict]] = []
        self.failing: dict[str, int] = {}  # key -> failures still to come (-1: always)
        self.dying = True
        self.seen_committed: list[bool] = []
        self.lock = threading.Lock()

    @hookimpl
    def register_outbox_tasks(self, register):
        prefix = self.__name__
        register(f"{prefix}.note", self.note)
        register(f"{prefix}.flaky", self.note, max_attempts=3, label="A flaky note")
        register(f"{prefix}.dies", self.dies)

    def note(self, kernel, session, payload):
        key = payload.get("key", "")
        with self.lock:
            left = self.failing.get(key, 0)
            if left:
                self.failing[key] = left - 1 if left > 0 else left
        if left:
            raise RuntimeError(f"{key} is not ready")
        if self.sleep:
            time.sleep(self.sleep)
        if "sku" in payload:  # the change that recorded it is committed: a new session sees it
            from sqlalchemy import select

            from siyu.core.models import Product

            other = kernel.db.Session()
            try:
                self.seen_committed.append(other.scalar(select(Product.id).where(Product.sku == payload["sku"]))
                                           is not None)
            finally:
                other.close()
        with self.lock:
            self.ran.append((key, payload))

    def dies(self, kernel, session, payload):
        if self.dying:
            self.dying = False
            raise SystemExit("the worker was killed mid-task")
        self.note(kernel, session, payload)

    def keys(self) -> list[str]:
        return [key for key, _payload in self.ran]


def record(kernel, session, key: str, task: str = "notes.note", order_id: int | None = None, **payload):
    """Record one entry in a unit of work of its own (it runs right after, when inline)."""
    with write_transaction(session):
        return after_commit(kernel, session, task, key=key, payload={"key": key, **payload}, order_id=order_id)


def crash(kernel, session) -> None:
    """In place of ``outbox_runner._committed``: the process dies right after the commit, before it
    runs the work it recorded (and with it the session that knew about it)."""
    session.info.pop(RECORDED, None)
