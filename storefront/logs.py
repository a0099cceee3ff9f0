"""The shop's log: every line with its time, level and logger name; repeated errors summarised.

``create_app`` installs this when the host has configured no logging of its own (no handler
on the root logger, as under gunicorn or ``flask run``; ``LOG_SETUP = "siyu"`` in siyu.cfg or
``SIYU_LOG_SETUP=siyu`` installs it anyway, ``"host"`` never; ``LOG_REPEAT_WINDOW`` is the
window in seconds, 60): one ``SummarisingHandler`` on the root logger, writing to standard
error (the server's error log), so every logger of the shop and its plugins (``siyu.*``,
``siyu.payments``'s alarms among them) goes through it. A host with its own configuration
can name the same handler class in it (``siyu.storefront.logs.SummarisingHandler``).

Summarising: a record like one written in full less than ``window`` seconds earlier is
counted instead of written, and the count is written as one line once the window is over
(with the next record through the handler, or at exit). While the burst goes on, each
window adds one count line; a record is written in full again after a quiet window. "Like"
means the same logger, level, message as formatted (so two orders' alarms never merge, and
the first alarm of each is always written) and exception (type, first line, where raised); a
record may give its own key as ``extra={"repeat_key": ...}``: the 500 and 503 lines do, so
the same failure on every path of the shop counts as one.
"""
from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Hashable

FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s %(message)s"
WINDOW = 60.0
MAX_KEYS = 1000


def exception_signature(exc: BaseException | None) -> tuple | None:
    """What makes two exceptions "the same": type, first line of the message, where raised."""
    if exc is None:
        return None
    inner = getattr(exc, "orig", None) or exc  # a database error: the driver's own
    first_line = (str(inner).strip().splitlines() or [""])[0][:200]
    where = None
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ is not None else []
    if frames:
        where = (frames[-1].filename, frames[-1].lineno)
    return type(exc).__qualname__, type(inner).__qualname__, first_line, where


def repeat_key(record: logging.LogRecord) -> Hashable:
    explicit = getattr(record, "repeat_key", None)
    if explicit is not None:
        return record.name, record.levelno, explicit
    try:
        message = record.getMessage()
    except Exception:  # a bad format string is reported by the handler itself
        message = str(record.msg)
    exc = record.exc_info[1] if record.exc_info else None
    return (record.name, record.levelno, message, getattr(record, "order_number", None),
            exception_signature(exc))


@dataclass
class _Burst:
    first: logging.LogRecord  # the record written in full
    started: float  # start of the current window
    last: float  # last time a like record came
    counted: int = 0  # like records not written in this window


class SummarisingHandler(logging.StreamHandler):
    """A stream handler that writes the first of like records in full and then a count."""

    def __init__(self, stream: Any = None, window: float = WINDOW, max_keys: int = MAX_KEYS) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self.window, self.max_keys = window, max_keys
        self._bursts: OrderedDict[Hashable, _Burst] = OrderedDict()
        self._next_sweep = 0.0
        self._clock = time.monotonic

    def emit(self, record: logging.LogRecord) -> None:
        now = self._clock()
        self._sweep(now)
        key = repeat_key(record)
        burst = self._bursts.get(key)
        if burst is not None and now - burst.started < self.window:
            burst.counted += 1
            burst.last = now
            return
        if burst is not None:
            if burst.counted:
                self._write_count(burst, now)
            if now - burst.last < self.window:  # the burst goes on: count into a new window
                burst.started, burst.last, burst.counted = now, now, 1
                return
        self._bursts[key] = _Burst(record, now, now)
        self._bursts.move_to_end(key)
        while len(self._bursts) > self.max_keys:
            _key, old = self._bursts.popitem(last=False)
            if old.counted:
                self._write_count(old, now)
        super().emit(record)

    def _sweep(self, now: float) -> None:
        """Write the counts of windows that are over (at most once a second)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + 1.0
        for burst in list(self._bursts.values()):
            if burst.counted and now - burst.started >= self.window:
                self._write_count(burst, now)  # the window stays over: see ``emit``

    def _write_count(self, burst: _Burst, now: float) -> None:
        first = burst.first
        try:
            message = (first.getMessage().strip().splitlines() or [""])[0]
        except Exception:
            message = str(first.msg)
        summary = logging.makeLogRecord({
            **first.__dict__, "msg": "%s [%d more like this in the last %d s; the first is logged in full above]",
            "args": (message, burst.counted, max(1, round(now - burst.started))),
            "exc_info": None, "exc_text": None, "stack_info": None, "created": time.time(),
        })
        summary.msecs = (summary.created - int(summary.created)) * 1000
        burst.counted = 0
        super().emit(summary)

    def flush_counts(self) -> None:
        """Write every pending count now."""
        self.acquire()
        try:
            now = self._clock()
            for burst in self._bursts.values():
                if burst.counted:
                    self._write_count(burst, now)
        finally:
            self.release()

    def close(self) -> None:
        try:
            self.flush_counts()
        finally:
            super().close()


def configure_logging(config, stream: Any = None) -> logging.Handler | None:
    """Install the shop's logging (see the module's text) writing to ``stream`` (standard
    error); the handler, or ``None`` when the host's configuration is kept. Once per
    process: later apps find it in place."""
    setting = str(config.get("LOG_SETUP") or os.environ.get("SIYU_LOG_SETUP") or "auto").lower()
    root = logging.getLogger()
    ours = next((h for h in root.handlers if getattr(h, "siyu_installed", False)), None)
    if ours is not None or setting in ("host", "off", "none", "false", "0"):
        return ours
    if setting == "auto" and root.handlers:
        return None
    handler = SummarisingHandler(stream or sys.stderr, window=float(config.get("LOG_REPEAT_WINDOW") or WINDOW))
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.siyu_installed = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    shop = logging.getLogger("siyu")
    if shop.level == logging.NOTSET:
        shop.setLevel(logging.INFO)  # the shop's own notices; other libraries stay at WARNING
    return handler


def log_unexpected(logger: logging.Logger, exc_info, where: str) -> None:
    """Flask's "Exception on …" line, keyed by the exception only, so the same failure on
    every path is summarised as one."""
    exc = exc_info[1] if exc_info else None
    logger.error("Exception on %s", where, exc_info=exc_info,
                 extra={"repeat_key": ("unexpected", exception_signature(exc))})
