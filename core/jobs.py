"""Background jobs on a real task queue (huey): never inside a request.

The queue is SQLite by default (a file in the instance folder: no extra service for a small
shop), Redis at scale (``QUEUE_URL=redis://...``). Jobs are contributed through
``register_jobs``; ``flask siyu worker`` runs the consumer. A job's own state (progress, a
report) lives in the shop's database, so any worker or web process can show it.

A job registered with a schedule (``every_minutes=N`` or ``daily_at="03:30"``, shop-local) is
run by the worker on it, at most once per slot across workers (``siyu.core.schedules``):
housekeeping such as expiring unpaid orders needs no cron. ``Worker`` runs the queue and the
schedule in a thread of this process (the demo).
"""
from __future__ import annotations

import logging
from pathlib import Path
import threading
from datetime import datetime
from typing import Any, Callable

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from siyu.core import schedules

log = logging.getLogger("siyu.jobs")


def make_queue(kernel) -> Huey:
    """A huey instance for the kernel's ``QUEUE_URL``, with every registered job as a task."""
    url = str(kernel.config.get("QUEUE_URL") or "memory:")
    immediate = bool(kernel.config.get("QUEUE_IMMEDIATE"))
    if url.startswith(("redis://", "rediss://", "unix://")):
        queue: Huey = RedisHuey("siyu", url=url, immediate=immediate)
    elif url.startswith("sqlite:///"):
        filename = url[len("sqlite:///"):]
        Path(filename).parent.mkdir(parents=True, exist_ok=True)  # the instance folder, on first use
        queue = SqliteHuey("siyu", filename=filename, immediate=immediate)
    elif url == "memory:":
        queue = MemoryHuey("siyu", immediate=immediate)
    else:
        raise ValueError(f"unsupported QUEUE_URL {url!r}: use sqlite:///path, redis://... or memory:")
    tasks: dict[str, Any] = {}
    scheduled: dict[str, schedules.ScheduledJob] = {}

    def register(name: str, func: Callable[..., Any], retries: int = 3, retry_delay: int = 30,
                 every_minutes: int | None = None, daily_at: str | None = None, label: Any = None) -> None:
        if name in tasks:
            return
        schedule = schedules.Schedule.parse(name, every_minutes, daily_at)
        if schedule is None:
            def run(*args, **kwargs):
                return func(kernel, *args, **kwargs)

            tasks[name] = queue.task(retries=retries, retry_delay=retry_delay, name=name)(run)
            return
        job = scheduled[name] = schedules.ScheduledJob(name, func, schedule, label)

        def run_on_schedule(task=None, siyu_slot=None):
            return schedules.run_slot(kernel, job, task=task, siyu_slot=siyu_slot)

        tasks[name] = queue.periodic_task(schedules.Due(kernel, job), retries=retries, retry_delay=retry_delay,
                                          name=name, context=True)(run_on_schedule)

    kernel.pm.hook.register_jobs(register=register)
    queue.siyu_tasks = tasks  # type: ignore[attr-defined]
    queue.siyu_schedules = scheduled  # type: ignore[attr-defined]
    return queue


def queue(kernel) -> Huey:
    """The kernel's queue, in its registries; lasting: jobs registered later are not added."""
    return kernel.registry("queue", make_queue, lasting=True)


def enqueue(kernel, name: str, *args: Any, **kwargs: Any):
    """Put job ``name`` on the queue; call it after the transaction that prepared it."""
    huey = queue(kernel)
    task = huey.siyu_tasks.get(name)
    if task is None:
        raise LookupError(f"no job {name!r} is registered")
    if name in huey.siyu_schedules:
        raise LookupError(f"job {name!r} runs on its schedule: register it again under another name "
                          "to queue it on demand")
    return task(*args, **kwargs)


def scheduled(kernel) -> list[schedules.ScheduledJob]:
    """The jobs registered with a schedule."""
    return list(queue(kernel).siyu_schedules.values())


def run_pending(kernel, limit: int = 100) -> int:
    """Run queued jobs in this process, as the consumer would (tests, one-off CLI runs)."""
    huey = queue(kernel)
    count = 0
    while count < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        count += 1
    return count


class Worker(threading.Thread):
    """The queue and the schedule run in a thread of this process, as ``flask siyu worker``
    runs them: for the demo (``flask siyu demo``), so broadcasts and recalculations finish
    without a second command. ``stop()`` lets the job in hand finish."""

    def __init__(self, kernel, interval: float = 1.0):
        super().__init__(name="siyu-worker", daemon=True)
        self.kernel, self.interval = kernel, interval
        self.huey = queue(kernel)  # built now, not raced for by the first request
        self._stopping = threading.Event()
        self._minute: datetime | None = None

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.step()
            except Exception:  # noqa: BLE001 - one bad round must not end the demo's jobs
                log.exception("in-process worker: a round failed")
            self._stopping.wait(self.interval)

    def step(self, now: datetime | None = None) -> int:
        """One round: put due periodic tasks (once a minute) and due retries on the queue, run it."""
        now = now or self.huey._get_timestamp()  # naive UTC, as the consumer's scheduler passes it
        minute = now.replace(second=0, microsecond=0)
        if minute != self._minute:
            self._minute = minute
            for task in self.huey.read_periodic(now):
                self.huey.enqueue(task)
        for task in self.huey.read_schedule(now):
            self.huey.enqueue(task)
        return run_pending(self.kernel)

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)
