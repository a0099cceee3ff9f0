"""The test kit's outbox helper: run the follow-up work recorded with ``after_commit``.

Tests need it rarely: the work runs right after each commit (``OUTBOX_INLINE``, on by default).
It is for what is left: retries waiting for their backoff (pass a later ``now``), a shop
configured with ``OUTBOX_INLINE=False``, work recorded while a plugin was disabled.
"""
from __future__ import annotations

from datetime import datetime

from siyu.core.outbox_runner import drain


def run_outbox(kernel, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Run the due outbox entries as the worker would; returns how many ended how
    (``{"done": 2, "retry": 1}``). ``now`` (aware UTC) stands for the clock: an hour ahead runs
    the retries waiting for their backoff."""
    return drain(kernel, now=now, limit=limit)
