"""Segments: saved filters over member stats and tags, evaluated in SQL on indexed columns.

A definition is a dict of lists; an empty list is no condition. Recency bands and
activity depend on the time, so they are turned into ranges of ``last_order_at`` at query
time: always exact, and still an index range.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterator, Mapping

from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.plugin import (
    check_name, lazy_gettext as _l, Member, NotFound, to_int, utcnow, ValidationError, write_transaction,
)

from siyu_crm_tags.config import Config
from siyu_crm_tags.models import MemberStats, MemberTag, Segment

INT_KEYS = ("tags_any", "tags_all", "tags_none", "levels", "r_bands", "f_bands", "m_bands")
STR_KEYS = ("activity", "channels", "distributors")
ACTIVITIES = ("active", "dormant", "prospect")
MAX_VALUES = 50


def clean(raw: Mapping[str, Any]) -> dict[str, list]:
    """A definition from form or JSON input: lists of ints or short strings, nothing else."""
    definition: dict[str, list] = {}
    errors = {}
    for key in INT_KEYS + STR_KEYS:
        value = raw.get(key) or []
        values = value if isinstance(value, (list, tuple)) else [value]
        values = [v for v in values if str(v).strip() != ""]
        if len(values) > MAX_VALUES:
            errors[key] = _l("at most %(n)d values", n=MAX_VALUES)
            continue
        if key in INT_KEYS:
            numbers = [to_int(v if isinstance(v, int) else str(v), 0) for v in values]
            if None in numbers:
                errors[key] = _l("whole numbers only")
                continue
            values = sorted(set(numbers))
        else:
            values = sorted({str(v).strip()[:128] for v in values})
            if key == "activity" and not set(values) <= set(ACTIVITIES):
                errors[key] = _l("unknown activity")
                continue
        if values:
            definition[key] = values
    if errors:
        raise ValidationError(_l("Some conditions are not valid."), fields=errors)
    return definition


def _recency(days: tuple[int, ...], band: int, now: datetime):
    last = MemberStats.last_order_at
    if band == 0:
        return last.is_(None)
    exceeded = len(days) + 1 - band
    if not 0 <= exceeded <= len(days):
        return false()
    parts = [last.is_not(None)]
    if exceeded >= 1:
        parts.append(last < now - timedelta(days=days[exceeded - 1]))
    if exceeded < len(days):
        parts.append(last >= now - timedelta(days=days[exceeded]))
    return and_(*parts)


def _activity(value: str, dormant_days: int, now: datetime):
    last, edge = MemberStats.last_order_at, now - timedelta(days=dormant_days)
    return {"active": last >= edge, "dormant": last < edge, "prospect": last.is_(None)}[value]


def _has_tag(tag_ids: list[int]):
    return exists().where(MemberTag.member_id == MemberStats.member_id, MemberTag.tag_id.in_(tag_ids))


def conditions(definition: Mapping[str, list], cfg: Config, now: datetime) -> list:
    d, where = definition, []
    if d.get("tags_any"):
        where.append(_has_tag(d["tags_any"]))
    for tag_id in d.get("tags_all", []):
        where.append(_has_tag([tag_id]))
    if d.get("tags_none"):
        where.append(~_has_tag(d["tags_none"]))
    if d.get("levels"):
        levels = [v for v in d["levels"] if v]
        where.append(or_(MemberStats.level_id.in_(levels),
                         *([MemberStats.level_id.is_(None)] if 0 in d["levels"] else [])))
    if d.get("r_bands"):
        where.append(or_(*[_recency(cfg.recency_days, b, now) for b in d["r_bands"]]))
    if d.get("f_bands"):
        where.append(MemberStats.f_band.in_(d["f_bands"]))
    if d.get("m_bands"):
        where.append(MemberStats.m_band.in_(d["m_bands"]))
    if d.get("activity"):
        where.append(or_(*[_activity(a, cfg.dormant_days, now) for a in d["activity"]]))
    if d.get("channels"):
        where.append(MemberStats.channel.in_(d["channels"]))
    if d.get("distributors"):
        where.append(MemberStats.distributor.in_(d["distributors"]))
    return where


def query(definition: Mapping[str, list], cfg: Config, now: datetime | None = None) -> Select:
    """Member ids in the segment (active members only: anonymised ones are inactive)."""
    now = now or utcnow()
    return (select(MemberStats.member_id).join(Member, Member.id == MemberStats.member_id)
            .where(Member.active.is_(True), *conditions(definition, cfg, now)))


def count(session: Session, definition, cfg: Config, now: datetime | None = None) -> int:
    return session.scalar(select(func.count()).select_from(query(definition, cfg, now).subquery())) or 0


def member_ids(session: Session, definition, cfg: Config, now: datetime | None = None) -> list[int]:
    return list(session.scalars(query(definition, cfg, now).order_by(MemberStats.member_id)))


def page(session: Session, definition, cfg: Config, page_no: int, per_page: int = 50,
         now: datetime | None = None) -> list[tuple[Member, MemberStats]]:
    ids = query(definition, cfg, now).order_by(MemberStats.member_id.desc()) \
        .limit(per_page).offset((max(page_no, 1) - 1) * per_page)
    rows = session.execute(select(Member, MemberStats).join(MemberStats, MemberStats.member_id == Member.id)
                           .where(Member.id.in_(ids)).order_by(Member.id.desc()))
    return [tuple(row) for row in rows]


def batches(session: Session, definition, cfg: Config, size: int = 1000,
            now: datetime | None = None) -> Iterator[list[tuple[Member, MemberStats]]]:
    """The whole segment in id order, a batch at a time (keyset pagination), for exports."""
    now, after = now or utcnow(), 0
    while True:
        ids = query(definition, cfg, now).where(MemberStats.member_id > after) \
            .order_by(MemberStats.member_id).limit(size)
        rows = [tuple(row) for row in session.execute(
            select(Member, MemberStats).join(MemberStats, MemberStats.member_id == Member.id)
            .where(Member.id.in_(ids)).order_by(Member.id))]
        if not rows:
            return
        yield rows
        after = rows[-1][0].id


def save(session: Session, name: str, definition: Mapping[str, Any], segment_id: int | None = None) -> Segment:
    name = " ".join(str(name or "").split())
    if not 1 <= len(name) <= 80:
        raise ValidationError(_l("Give the segment a name."), fields={"name": _l("1 to 80 characters")})
    check_name(name)
    definition = clean(definition)
    try:
        with write_transaction(session):
            segment = session.get(Segment, segment_id) if segment_id else Segment()
            if segment is None:
                raise NotFound(_l("Segment not found."))
            segment.name, segment.definition = name, definition
            session.add(segment)
    except IntegrityError as exc:
        raise ValidationError(_l("A segment with this name exists."), fields={"name": _l("already exists")}) from exc
    return segment


def missing_stats(session: Session) -> int:
    """Members without a stats row (added before the plugin): a recompute fills them in."""
    members = session.scalar(select(func.count(Member.id))) or 0
    rows = session.scalar(select(func.count(MemberStats.member_id))) or 0
    return max(0, members - rows)
