"""The coupon card: the agent picks a coupon in the inbox, the member taps "claim" in the chat.

The card stores the offer as it was when sent (to draw it without the database); the claim
reads the live template, so quantity, limit and end date are checked at the tap. The core
runs the action at most once per (message, member); the claim's reference
``chat:<message id>`` makes the coupon itself idempotent too.
"""
from __future__ import annotations

from datetime import datetime

from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from siyu.plugin import CardAction, CardChoice, CardType, current_locale, lazy_gettext as _l, NotFound, utcnow
from siyu_coupons import offers
from siyu_coupons.claims import claim
from siyu_coupons.models import CouponTemplate

NAME = "coupon"
MAX_CHOICES = 50


def _locale() -> str:
    return current_locale()  # the viewer's in the storefront; Chinese in jobs and the CLI


def _until(payload: dict) -> str:
    raw = payload.get("valid_until")
    try:
        return datetime.fromisoformat(raw).date().isoformat() if raw else ""
    except (TypeError, ValueError):
        return ""


def render(payload: dict, state: dict, agent: bool = False) -> Markup:
    locale = _locale()
    terms = offers.conditions(payload, locale)
    until = _until(payload)
    if until:
        terms.append(str(_l("Until %(date)s", date=until)))
    html = Markup('<div class="coupon-card"><p class="coupon-name">{}</p><p class="coupon-value">{}</p>').format(
        payload.get("name") or "", offers.headline(payload, locale))
    if terms:
        html += Markup('<p class="coupon-terms">{}</p>').format(" · ".join(terms))
    if agent:
        html += Markup('<p class="coupon-terms"><code>{}</code></p>').format(payload.get("code") or "")
    return html + Markup("</div>")


def choices(session: Session) -> list[CardChoice]:
    """Active coupons that can still be claimed, newest first."""
    now = utcnow()
    rows = session.scalars(
        select(CouponTemplate)
        .where(CouponTemplate.active.is_(True),
               or_(CouponTemplate.valid_until.is_(None), CouponTemplate.valid_until > now),
               or_(CouponTemplate.quantity.is_(None), CouponTemplate.issued < CouponTemplate.quantity))
        .order_by(CouponTemplate.id.desc()).limit(MAX_CHOICES))
    return [CardChoice(key=str(t.id), label=offers.summary(offers.card_payload(t), _locale()),
                       payload=offers.card_payload(t)) for t in rows]


def claim_action(session: Session, member, message, payload: dict) -> dict:
    template = session.get(CouponTemplate, int(payload.get("template_id") or 0))
    if template is None:
        raise NotFound(_l("We could not find that coupon."))
    coupon = claim(session, template, member.id, source="chat", ref=f"chat:{message.id}")
    return {"message": _l("Claimed: %(name)s is in your coupons.", name=template.name), "coupon_id": coupon.id}


def card_type() -> CardType:
    return CardType(
        name=NAME, label=_l("Coupon"),
        render_member=lambda payload, state: render(payload, state),
        render_agent=lambda payload, state: render(payload, state, agent=True),
        summary=lambda payload: offers.summary(payload, _locale()),
        actions={"claim": CardAction(_l("Claim"), claim_action)},
        choices=choices,
    )
