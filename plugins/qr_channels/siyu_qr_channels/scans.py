"""Recording scans: the raw log, once-per-visitor-per-day uniques and the daily rollup."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from siyu.plugin import settings, utcnow, write_transaction
from siyu_qr_channels.models import Channel, DailyStats, DailyVisitor, Scan

_BOT = re.compile(r"bot|crawl|spider|slurp|preview|fetch|monitor|curl|wget|python|java/|go-http|"
                  r"headless|phantom|scrapy|httpclient|okhttp|facebookexternalhit|lighthouse", re.I)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|nexus (7|9|10)|sm-t\d|(android(?!.*mobile))", re.I)
_MOBILE = re.compile(r"mobi|iphone|ipod|android|micromessenger|windows phone|blackberry|opera mini", re.I)


def device_class(user_agent: str | None) -> str:
    """``bot``, ``tablet``, ``mobile`` or ``desktop`` from a User-Agent (no UA at all: a bot)."""
    ua = (user_agent or "").strip()
    if not ua or _BOT.search(ua):
        return "bot"
    if _TABLET.search(ua):
        return "tablet"
    if _MOBILE.search(ua):
        return "mobile"
    return "desktop"


def shop_zone(session: Session) -> ZoneInfo:
    try:
        return ZoneInfo(str(settings.get(session, "core", "timezone") or "Asia/Shanghai"))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _insert(session: Session, model):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(dialect)  # pragma: no cover - SQLite and PostgreSQL only


def record_scan(session: Session, channel: Channel, *, visitor_id: str, device: str,
                member_id: int | None = None, at: datetime | None = None) -> bool:
    """Log a scan and count it in the day's rollup; True when it was the visitor's first
    scan of this channel on this shop-local day (bots never count as unique visitors).

    One transaction; the daily visitor's primary key and an upsert of the rollup make
    concurrent scans by the same visitor count exactly once.
    """
    at = at or utcnow()
    with write_transaction(session):
        day = local_day(at, shop_zone(session))
        session.add(Scan(channel_id=channel.id, visitor_id=visitor_id[:64], member_id=member_id,
                         device=device, created_at=at))
        first = False
        if device != "bot":
            # RETURNING, not rowcount: an ORM insert reports rowcount -1 on psycopg.
            added = session.execute(
                _insert(session, DailyVisitor)
                .values(channel_id=channel.id, day=day, visitor_id=visitor_id[:64])
                .on_conflict_do_nothing().returning(DailyVisitor.day))
            first = added.first() is not None
        bot = device == "bot"
        upsert = _insert(session, DailyStats).values(
            channel_id=channel.id, day=day, scans=0 if bot else 1, bot_scans=1 if bot else 0,
            uniques=1 if first else 0)
        session.execute(upsert.on_conflict_do_update(
            index_elements=[DailyStats.channel_id, DailyStats.day],
            set_={"scans": DailyStats.scans + upsert.excluded.scans,
                  "bot_scans": DailyStats.bot_scans + upsert.excluded.bot_scans,
                  "uniques": DailyStats.uniques + upsert.excluded.uniques}))
    return first

