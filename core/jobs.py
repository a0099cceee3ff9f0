"""Background jobs on a real task queue (huey): never inside a request.

The queue is SQLite by default (a file in the instance folder: no extra service for a small
shop), Redis at scale (``QUEUE_URL=redis://...``). Jobs are contributed through
``register_jobs``; ``flask siyu worker`` runs the consumer. A job's own state (progress, a
report) lives in the shop's database, so any worker or web process can show it.

A job registered with ``every_minutes`` is also run on the worker's schedule (a huey periodic
task, at minutes divisible by it): housekeeping such as expiring unpaid orders needs no cron.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey, crontab

log = logging.getLogger("siyu.jobs")


def make_queue(kernel) -> Huey:
    """A huey instance for the kernel's ``QUEUE_URL``, with every registered job as a task."""
    url = str(kernel.config.get("QUEUE_URL") or "memory:")
    immediate = bool(kernel.config.get("QUEUE_IMMEDIATE"))
    if url.startswith(("redis://", "rediss://", "unix://")):
        queue: Huey = RedisHuey("siyu", url=url, immediate=immediate)
    elif url.startswith("sqlite:///"):
        queue = SqliteHuey("siyu", filename=url[len("sqlite:///"):], immediate=immediate)
    elif url == "memory:":
        queue = MemoryHuey("siyu", immediate=immediate)
    else:
        raise ValueError(f"unsupported QUEUE_URL {url!r}: use sqlite:///path, redis://... or memory:")
    tasks: dict[str, Any] = {}

    def register(name: str, func: Callable[..., Any], retries: int = 3, retry_delay: int = 30,
                 every_minutes: int | None = None) -> None:
        def run(*args, **kwargs):
            return func(kernel, *args, **kwargs)

        run.__name__ = f"siyu_job_{name}"
        if name in tasks:
            return
        if every_minutes is None:
            tasks[name] = queue.task(retries=retries, retry_delay=retry_delay, name=name)(run)
            return
        if not 1 <= int(every_minutes) <= 59:
            raise ValueError(f"job {name!r}: every_minutes must be 1 to 59, not {every_minutes!r}")
        tasks[name] = queue.periodic_task(crontab(minute=f"*/{int(every_minutes)}"), retries=retries,
                                          retry_delay=retry_delay, name=name)(run)

    kernel.pm.hook.register_jobs(register=register)
    queue.siyu_tasks = tasks  # type: ignore[attr-defined]
    return queue


def queue(kernel) -> Huey:
    found = kernel.__dict__.get("_queue")
    if found is None:
        found = kernel.__dict__["_queue"] = make_queue(kernel)
    return found


def enqueue(kernel, name: str, *args: Any, **kwargs: Any):
    """Put job ``name`` on the queue; call it after the transaction that prepared it."""
    task = queue(kernel).siyu_tasks.get(name)
    if task is None:
        raise LookupError(f"no job {name!r} is registered")
    return task(*args, **kwargs)


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
