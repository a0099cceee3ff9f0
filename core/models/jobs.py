"""Slots of scheduled jobs: a row per (job, slot) claimed before the job runs.

The unique (job, slot_at) is what makes a schedule run at most once per slot when several
workers (hosts, or consumers sharing one queue) each see the slot come due.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from siyu.core.db import Base, UTCDateTime


class JobSlot(Base):
    __tablename__ = "job_slots"
    __table_args__ = (UniqueConstraint("job", "slot_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    #: The slot's start, in UTC (a daily slot's shop-local time converted).
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: ``running``, ``done`` or ``failed``.
    status: Mapped[str] = mapped_column(String(12))
    #: The claiming run (the queue's task id): only its own retries may run the slot again.
    token: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str] = mapped_column(String(500), default="")
