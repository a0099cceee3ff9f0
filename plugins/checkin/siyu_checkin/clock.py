"""The shop's calendar: time zone, local day, month bounds. Every function takes ``now``."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from siyu.plugin import aware_now, settings

FALLBACK = "Asia/Shanghai"


def shop_zone(session: Session) -> ZoneInfo:
    try:
        return ZoneInfo(str(settings.get(session, "core", "timezone") or FALLBACK))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return aware_now(moment).astimezone(zone).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def parse_month(text: str | None, today: date) -> date:
    """``YYYY-MM`` → the first of that month; anything else → this month."""
    try:
        year, month = (int(p) for p in (text or "").split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        return month_start(today)
