"""The CRM's part of member data rights, and segments offered as broadcast audiences."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from siyu_crm_tags import config, segments
from siyu_crm_tags import tags as tags_mod
from siyu_crm_tags.models import Level, MemberStats, MemberTag, PointEntry, PointLot, Segment


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_section(session: Session, member_id: int) -> dict[str, Any]:
    """Tags, figures, level and the whole points ledger of one member."""
    stats = session.get(MemberStats, member_id)
    level = session.get(Level, stats.level_id) if stats and stats.level_id else None
    return {"crm_tags": {
        "tags": [{"tag": tag.name, "source": link.source, "since": _iso(link.created_at)}
                 for tag, link in tags_mod.member_tags(session, member_id)],
        "level": level.name if level else None,
        "stats": None if stats is None else {
            "orders": stats.orders_count, "spend": stats.spend, "completed_spend": stats.completed_spend,
            "points": stats.points,
            "points_earned": stats.points_earned, "first_order_at": _iso(stats.first_order_at),
            "last_order_at": _iso(stats.last_order_at), "channel": stats.channel,
            "distributor": stats.distributor, "checkin_streak": stats.checkin_streak},
        "points_ledger": [{"kind": e.kind, "delta": e.delta, "balance_after": e.balance_after,
                           "reason": e.reason, "at": _iso(e.created_at)}
                          for e in session.scalars(select(PointEntry).where(PointEntry.member_id == member_id)
                                                   .order_by(PointEntry.id))],
        "points_lots": [{"points": lot.points, "remaining": lot.remaining, "expires_at": _iso(lot.expires_at)}
                        for lot in session.scalars(select(PointLot).where(PointLot.member_id == member_id)
                                                   .order_by(PointLot.id))],
    }}


def anonymise(session: Session, member_id: int) -> None:
    """Tags can say sensitive things (a pregnancy): they go. The ledger and figures stay,
    tied to the same id, so points and reports still add up; the attribution fields that
    point at other people (distributor) are cleared."""
    session.execute(delete(MemberTag).where(MemberTag.member_id == member_id))
    stats = session.get(MemberStats, member_id)
    if stats is not None:
        stats.distributor = None


@dataclass
class SegmentAudience:
    """Duck-types ``siyu.core.broadcasts.Audience``: key, label, resolve(session)."""

    key: str
    label: Any
    resolve: Callable[[Session], Iterable[int]]


def _audience_class():
    try:
        from siyu.plugin import Audience
    except ImportError:  # an older core without broadcasts
        return SegmentAudience
    return Audience


def segment_audiences(session: Session) -> list[Any]:
    cls = _audience_class()
    found = []
    for segment in session.scalars(select(Segment).order_by(Segment.name)):
        definition = dict(segment.definition or {})
        found.append(cls(key=f"crm_tags:segment:{segment.id}", label=segment.name,
                         resolve=lambda s, d=definition: segments.member_ids(s, d, config.load(s))))
    return found
