"""The current time for web requests and commands.

Browser journeys and demos set ``CHECKIN_NOW`` (an ISO time with an offset, e.g.
``2026-05-01T23:59:00+08:00``) in the app configuration to move the plugin's clock; it is
honoured only when ``TESTING`` is on, so a production shop can never be time-shifted.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app

from siyu.plugin import utcnow


def parse_now(text: str | None) -> datetime | None:
    """An ISO time; naive means UTC. ``None``/empty → ``None`` (the real clock)."""
    if not text:
        return None
    moment = datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def now() -> datetime:
    override = current_app.config.get("CHECKIN_NOW")
    if override and current_app.config.get("TESTING"):
        return override if isinstance(override, datetime) else parse_now(override)
    return utcnow()
