"""The transactional outbox: follow-up work recorded in a state change's transaction, run after
its commit (``siyu.core.outbox``).

The unique (plugin, task, key) is what makes a piece of work exist once per event and plugin,
however often the event's hook is called; the claim, the task's writes and the ``done`` mark
commit together, so a row runs once across workers and hosts.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from siyu.core.db import Base, UTCDateTime, utcnow

#: Waiting for its turn (or for a retry at ``next_attempt_at``).
PENDING = "pending"
#: Claimed by a runner: only ever seen inside the runner's own transaction.
RUNNING = "running"
DONE = "done"
#: Its attempts are exhausted: it waits for someone to press retry in the back office.
FAILED = "failed"


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("plugin", "task", "key"),
        # The runner's query: due pending rows, oldest first.
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        # "In order per order": a row waits for the earlier rows of its plugin and order.
        Index("ix_outbox_plugin_order_id_id", "plugin", "order_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The plugin that registered the task (``crm_tags``; the core's default plugins by module).
    plugin: Mapped[str] = mapped_column(String(100))
    task: Mapped[str] = mapped_column(String(100))
    #: The event, as the recording hook names it (``order:42:paid``).
    key: Mapped[str] = mapped_column(String(200))
    #: Rows of one plugin and order run in the order they were recorded; None: no order.
    order_id: Mapped[int | None] = mapped_column(Integer)
    #: What the task needs, as the state change saw it (JSON: ints, strings, lists, dicts).
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
