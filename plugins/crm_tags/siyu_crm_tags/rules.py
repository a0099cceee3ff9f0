"""Rule tags: what a rule means, how it is validated, and applying rules to members.

One function evaluates any batch of members, so the incremental update after an event
(one member) and the full recompute (thousands per batch) give the same answer.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from siyu.plugin import PAID_STATES, lazy_gettext as _l, Member, Order, OrderLine, ValidationError

from siyu_crm_tags.models import MemberStats, MemberTag, Tag

#: kind → (parameter, type, label)
KINDS: dict[str, tuple[str, type, Any]] = {
    "bought_product": ("sku", str, _l("Bought the product with SKU")),
    "bought_sku_prefix": ("prefix", str, _l("Bought a product whose SKU starts with")),
    "spend_at_least": ("amount", int, _l("Spent at least (minor units)")),
    "orders_at_least": ("n", int, _l("Paid orders at least")),
    "no_order_days": ("days", int, _l("No order for at least (days)")),
    "channel": ("value", str, _l("Came through channel")),
    "distributor": ("value", str, _l("Brought by distributor (empty: any)")),
    "checkin_streak_at_least": ("n", int, _l("Check-in streak at least (days)")),
}


def clean(kind: str, raw: Any) -> dict | None:
    """A valid rule from form input, ``None`` for a manual tag (empty kind)."""
    if not kind:
        return None
    if kind not in KINDS:
        raise ValidationError(_l("Choose a rule."), fields={"rule_kind": _l("unknown rule")})
    param, typ, _label = KINDS[kind]
    text = str(raw if raw is not None else "").strip()
    if typ is int:
        if not text.isdigit() or not 0 <= int(text) <= 1_000_000_000:
            raise ValidationError(_l("The rule needs a whole number."), fields={"rule_value": _l("a whole number")})
        return {"kind": kind, param: int(text)}
    if len(text) > 64 or (not text and kind != "distributor"):
        raise ValidationError(_l("The rule needs a value."), fields={"rule_value": _l("1 to 64 characters")})
    return {"kind": kind, param: text}


def describe(rule: Mapping | None) -> str:
    if not rule or rule.get("kind") not in KINDS:
        return ""
    param, _typ, label = KINDS[rule["kind"]]
    return f"{label}: {rule.get(param, '')}"


def matches(rule: Mapping, stats: MemberStats | None, created_at: datetime, skus: set[str],
            now: datetime) -> bool:
    """Does one member satisfy ``rule``? ``skus``: SKUs of the member's paid orders."""
    kind = rule.get("kind")
    orders = stats.orders_count if stats else 0
    if kind == "bought_product":
        return rule["sku"] in skus
    if kind == "bought_sku_prefix":
        return any(sku.startswith(rule["prefix"]) for sku in skus)
    if kind == "spend_at_least":
        return (stats.spend if stats else 0) >= rule["amount"]
    if kind == "orders_at_least":
        return orders >= rule["n"]
    if kind == "no_order_days":
        since = (stats.last_order_at if stats else None) or created_at
        return since <= now - timedelta(days=rule["days"])
    if kind == "channel":
        return stats is not None and stats.channel == rule["value"]
    if kind == "distributor":
        value = stats.distributor if stats else None
        return value is not None and (rule["value"] in ("", value))
    if kind == "checkin_streak_at_least":
        return (stats.checkin_streak if stats else 0) >= rule["n"]
    return False


def _bought(session: Session, member_ids: list[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {mid: set() for mid in member_ids}
    rows = session.execute(select(Order.member_id, OrderLine.sku).join(OrderLine, OrderLine.order_id == Order.id)
                           .where(Order.member_id.in_(member_ids), Order.status.in_(PAID_STATES[:2])).distinct())
    for member_id, sku in rows:
        found[member_id].add(sku)
    return found


def apply(session: Session, member_ids: Iterable[int], now: datetime, rule_tags: list[Tag] | None = None) -> int:
    """Bring the rule tags of ``member_ids`` up to date; returns assignments changed.

    Manual assignments are left alone. Runs inside the caller's transaction.
    """
    member_ids = sorted(set(member_ids))
    if rule_tags is None:
        rule_tags = [t for t in session.scalars(select(Tag).where(Tag.rule.is_not(None))) if t.rule]
    if not member_ids or not rule_tags:
        return 0
    stats = {s.member_id: s for s in session.scalars(select(MemberStats).where(MemberStats.member_id.in_(member_ids)))}
    created = dict(session.execute(select(Member.id, Member.created_at).where(Member.id.in_(member_ids))).all())
    needs_skus = any(t.rule["kind"].startswith("bought") for t in rule_tags)
    skus = _bought(session, member_ids) if needs_skus else {}
    current = {(m, t): src for m, t, src in session.execute(
        select(MemberTag.member_id, MemberTag.tag_id, MemberTag.source).where(
            MemberTag.member_id.in_(member_ids), MemberTag.tag_id.in_([t.id for t in rule_tags])))}
    add, remove = [], []
    for member_id in member_ids:
        if member_id not in created:
            continue
        for tag in rule_tags:
            want = matches(tag.rule, stats.get(member_id), created[member_id], skus.get(member_id, set()), now)
            have = current.get((member_id, tag.id))
            if want and have is None:
                add.append(MemberTag(member_id=member_id, tag_id=tag.id, source="rule", created_at=now))
            elif not want and have == "rule":
                remove.append((member_id, tag.id))
    session.add_all(add)
    for member_id, tag_id in remove:
        session.execute(delete(MemberTag).where(MemberTag.member_id == member_id, MemberTag.tag_id == tag_id,
                                                MemberTag.source == "rule"))
    session.flush()
    return len(add) + len(remove)
