"""Display hooks: the member panel in the back office and the storefront slots."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import get_locale
from markupsafe import Markup

from siyu.plugin import may, utcnow
from siyu.plugin.web import cached, catalog_key, db

from siyu_crm_tags import benefits, config, points, rules
from siyu_crm_tags import stats as stats_mod
from siyu_crm_tags import tags as tags_mod
from siyu_crm_tags.models import Level, MemberStats, PointEntry

RECENT_ENTRIES = 10


def member_panel(member, session, staff) -> Markup:
    from sqlalchemy import select

    cfg = config.load(session)
    stats = session.get(MemberStats, member.id)
    level = session.get(Level, stats.level_id) if stats and stats.level_id else None
    assigned = tags_mod.member_tags(session, member.id)
    have = {tag.id for tag, _link in assigned}
    choices = [(group, [t for t in group_tags if not t.is_rule and t.id not in have])
               for group, group_tags in tags_mod.all_tags(session)]
    entries = list(session.scalars(select(PointEntry).where(PointEntry.member_id == member.id)
                                   .order_by(PointEntry.id.desc()).limit(RECENT_ENTRIES)))
    now = utcnow()
    return Markup(render_template(
        "crm_tags/member_panel.html", member=member, stats=stats, level=level, assigned=assigned,
        choices=[(g, ts) for g, ts in choices if ts], entries=entries,
        available=points.available(session, member.id, now),
        activity=stats_mod.activity(stats.last_order_at if stats else None, now, cfg.dormant_days),
        recency=stats_mod.recency_band(stats.last_order_at if stats else None, now, cfg.recency_days),
        is_owner=may(staff, "owner"), describe=rules.describe, next=request.path))


def storefront_slot(slot: str, context) -> Markup | None:
    member = context.get("member")
    authenticated = getattr(member, "is_authenticated", False)
    if slot == "account_panel" and authenticated:
        return Markup(render_template("crm_tags/account_link.html", **card_figures(db(), member.id)))
    if slot == "checkout_form" and authenticated:
        cart = context.get("cart")
        if cart is None or cart.is_empty:
            return None
        cfg = config.load(db())
        most, value = benefits.redeemable(db(), cfg, cart, member.id)
        if most <= 0:
            return None
        return Markup(render_template("crm_tags/checkout_points.html", most=most, value=value,
                                      currency=cart.currency, field=benefits.INPUT,
                                      balance=points.available(db(), member.id)))
    if slot == "product_after_price" and context.get("product") is not None:
        # Cached with the catalog (a level's change bumps its revision): every product view
        # otherwise read all the levels for a badge that rarely exists.
        sku = context["product"].sku
        badge = cached(catalog_key("crm_exclusive_badge", sku, str(get_locale())), lambda: _exclusive_badge(sku))
        return badge or None
    return None


def card_figures(session, member_id: int) -> dict:
    """Level, points and the progress to the next level, for the member card."""
    cfg = config.load(session)
    stats = session.get(MemberStats, member_id)
    ordered = stats_mod.levels(session)
    basis = stats_mod.level_basis(stats, cfg) if stats else 0
    current = next((lv for lv in reversed(ordered) if basis >= lv.threshold), None)
    upcoming = next((lv for lv in ordered if basis < lv.threshold), None)
    start = current.threshold if current else 0
    progress = 100 if upcoming is None else int(max(0, basis - start) * 100 / max(1, upcoming.threshold - start))
    return {"level": current, "next_level": upcoming, "basis": basis, "basis_kind": cfg.level_basis,
            "progress": progress, "to_go": max(0, upcoming.threshold - basis) if upcoming else 0,
            "points": points.available(session, member_id), "stats": stats}


def _exclusive_badge(sku: str) -> str:
    level = benefits.exclusive_level(db(), sku)
    return render_template("crm_tags/exclusive_badge.html", level=level) if level is not None else ""
