"""Schedules of background jobs: when a slot comes due, and claiming it once across workers.

A job registered with ``every_minutes=N`` has a slot at every minute of the hour divisible
by N (UTC); one with ``daily_at="03:30"`` has one slot per shop-local day, at that time in
the shop's ``timezone`` setting (on a day the clocks jump over it, at the jump; on a day the
time occurs twice, at the first). The worker checks every minute whether the current slot is
new and, if so, claims it in the shop's database (``job_slots``, unique per job and slot)
before running: of several workers, one runs it and the others skip. A slot missed while no
worker ran is run once when one starts, if it is still the latest.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from siyu.core import settings
from siyu.core.db import utcnow, write_transaction
from siyu.core.models import JobSlot

log = logging.getLogger("siyu.jobs")
UTC = timezone.utc
DEFAULT_ZONE = "Asia/Shanghai"
#: Slots older than this are forgotten (an every-minute job keeps about 10,000 rows).
KEEP = timedelta(days=7)
_HH_MM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


@dataclass(frozen=True)
class Schedule:
    every_minutes: int | None = None
    daily_at: time | None = None

    @classmethod
    def parse(cls, job: str, every_minutes: Any = None, daily_at: Any = None) -> "Schedule | None":
        """The schedule ``register`` was given, or None; a clear ValueError for bad values."""
        if every_minutes is None and daily_at is None:
            return None
        if every_minutes is not None and daily_at is not None:
            raise ValueError(f"job {job!r}: give every_minutes or daily_at, not both")
        if every_minutes is not None:
            if isinstance(every_minutes, bool) or not isinstance(every_minutes, int) or not 1 <= every_minutes <= 59:
                raise ValueError(f"job {job!r}: every_minutes must be 1 to 59, not {every_minutes!r}")
            return cls(every_minutes=every_minutes)
        found = _HH_MM.fullmatch(daily_at) if isinstance(daily_at, str) else None
        if found is None:
            raise ValueError(f"job {job!r}: daily_at must be a shop-local time HH:MM such as '03:30', "
                             f"not {daily_at!r}")
        return cls(daily_at=time(int(found[1]), int(found[2])))

    def slot(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The latest slot at or before ``now`` (aware), in UTC."""
        now = now.astimezone(UTC)
        if self.every_minutes:
            minute = now.replace(second=0, microsecond=0)
            return minute - timedelta(minutes=minute.minute % self.every_minutes)
        today = now.astimezone(zone).date()
        return next(at for at in (self._on(today - timedelta(days=d), zone) for d in range(3)) if at <= now)

    def next_slot(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The first slot after ``now``, in UTC."""
        now = now.astimezone(UTC)
        if self.every_minutes:
            current = self.slot(now, zone)
            if current.minute + self.every_minutes < 60:
                return current + timedelta(minutes=self.every_minutes)
            return current.replace(minute=0) + timedelta(hours=1)
        today = now.astimezone(zone).date()
        return next(at for at in (self._on(today + timedelta(days=d), zone) for d in range(3)) if at > now)

    def _on(self, day: date, zone: ZoneInfo) -> datetime:
        """The day's slot: the first instant whose local time on ``day`` is ``daily_at`` or later."""
        assert self.daily_at is not None
        wall = datetime.combine(day, self.daily_at)
        first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
        other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
        if first <= other:  # the time exists (fold 0 is the earlier of two occurrences)
            return first
        moment = other  # the clocks jumped over it: the slot is the jump
        while moment.astimezone(zone).replace(tzinfo=None) < wall:
            moment += timedelta(minutes=1)
        return moment


@dataclass
class ScheduledJob:
    name: str
    func: Callable[..., Any]
    schedule: Schedule
    label: Any = None
    #: The slot this process last put on its queue: the minute check enqueues a slot once.
    enqueued: datetime | None = field(default=None, compare=False)


def zone_of(value: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(value or DEFAULT_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def shop_zone(session: Session) -> ZoneInfo:
    """The shop's time zone (back office → Settings); Asia/Shanghai when unset or unknown."""
    return zone_of(settings.get_all(session, "core").get("timezone"))


def _insert(session: Session):
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(JobSlot)


def claim(session: Session, job: str, slot_at: datetime, token: str, now: datetime | None = None) -> bool:
    """Claim ``job``'s slot for the run ``token``; False when another run has it."""
    now = now or utcnow()
    with write_transaction(session):
        won = session.execute(
            _insert(session).values(job=job, slot_at=slot_at, status="running", token=token, attempts=1,
                                    claimed_at=now, error="")
            .on_conflict_do_nothing(index_elements=["job", "slot_at"]).returning(JobSlot.id)).first()
        if won is not None:
            session.execute(delete(JobSlot).where(JobSlot.job == job, JobSlot.slot_at < slot_at - KEEP))
    return won is not None


def resume(session: Session, job: str, slot_at: datetime, token: str) -> bool:
    """A retry of the run that claimed the slot continues it (never one that finished)."""
    with write_transaction(session):
        moved = session.execute(
            update(JobSlot).where(JobSlot.job == job, JobSlot.slot_at == slot_at, JobSlot.token == token,
                                  JobSlot.status != "done")
            .values(status="running", attempts=JobSlot.attempts + 1)).rowcount
    return moved == 1


def finish(session: Session, job: str, slot_at: datetime, error: BaseException | None = None) -> None:
    values: dict[str, Any] = {"status": "failed" if error else "done", "finished_at": utcnow()}
    if error is not None:
        values["error"] = f"{type(error).__name__}: {error}"[:500]
    with write_transaction(session):
        session.execute(update(JobSlot).where(JobSlot.job == job, JobSlot.slot_at == slot_at).values(**values))


def run_slot(kernel, job: ScheduledJob, task: Any = None, siyu_slot: str | None = None,
             now: datetime | None = None) -> Any:
    """Claim the current slot of ``job`` and run it; None when another run has the slot.

    ``task`` is the queue's task: its id marks the claim and the slot goes into its
    arguments, so a retry continues the same slot. ``now`` is for tests (an injected clock).
    """
    now = (now or utcnow()).astimezone(UTC)
    token = str(getattr(task, "id", None) or uuid.uuid4().hex)
    session = kernel.db.Session()
    try:
        if siyu_slot:
            slot_at = datetime.fromisoformat(siyu_slot)
            mine = resume(session, job.name, slot_at, token)
        else:
            slot_at = job.schedule.slot(now, shop_zone(session))
            mine = claim(session, job.name, slot_at, token, now)
    finally:
        session.close()
    if not mine:
        log.info("job %s: slot %s already claimed by another run; skipped", job.name, slot_at.isoformat())
        return None
    if task is not None:
        task.kwargs["siyu_slot"] = slot_at.isoformat()
    try:
        result = job.func(kernel)
    except Exception as exc:
        _record(kernel, job.name, slot_at, exc)
        raise
    _record(kernel, job.name, slot_at, None)
    return result


def _record(kernel, name: str, slot_at: datetime, error: BaseException | None) -> None:
    session = kernel.db.Session()
    try:
        finish(session, name, slot_at, error)
    except Exception:  # noqa: BLE001 - the job's own outcome (or error) matters more
        log.exception("job %s: could not record the end of slot %s", name, slot_at.isoformat())
    finally:
        session.close()


class Due:
    """``validate_datetime`` of a scheduled job's periodic task: true once per new slot in
    this process (the claim decides between processes). Reads the shop's time zone at most
    once a minute, and only for daily jobs."""

    def __init__(self, kernel, job: ScheduledJob):
        self.kernel, self.job = kernel, job
        self._zone, self._read_at = zone_of(None), None

    def zone(self, now: datetime) -> ZoneInfo:
        if self.job.schedule.daily_at and (self._read_at is None or now - self._read_at >= timedelta(minutes=1)):
            self._read_at = now
            session = self.kernel.db.Session()
            try:
                self._zone = shop_zone(session)
            except Exception:  # noqa: BLE001 - keep the last zone; the run itself reads it again
                log.exception("job %s: could not read the shop's time zone", self.job.name)
            finally:
                session.close()
        return self._zone

    def __call__(self, timestamp: datetime) -> bool:
        now = timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp  # huey: naive UTC
        slot = self.job.schedule.slot(now, self.zone(now))
        if slot == self.job.enqueued:
            return False
        self.job.enqueued = slot
        return True


@dataclass
class JobStatus:
    job: ScheduledJob
    last: JobSlot | None
    last_error: JobSlot | None
    next_at: datetime


def status(session: Session, scheduled: list[ScheduledJob], now: datetime | None = None) -> list[JobStatus]:
    """Each scheduled job's last run, last error (within ``KEEP``) and next slot."""
    now = now or utcnow()
    zone = shop_zone(session)
    rows = []
    for job in sorted(scheduled, key=lambda j: j.name):
        latest = select(JobSlot).where(JobSlot.job == job.name).order_by(JobSlot.slot_at.desc()).limit(1)
        rows.append(JobStatus(job, session.scalar(latest),
                              session.scalar(latest.where(JobSlot.error != "")),
                              job.schedule.next_slot(now, zone)))
    return rows


def worker_idle(rows: list[JobStatus], now: datetime | None = None) -> bool:
    """No worker seems to run the schedule: no frequent job has claimed a slot lately."""
    now = now or utcnow()
    frequent = [r for r in rows if r.job.schedule.every_minutes]
    return bool(frequent) and not any(
        r.last is not None and r.last.claimed_at >= now - timedelta(minutes=2 * (r.job.schedule.every_minutes or 0) + 5)
        for r in frequent)
