"""Chat messages as JSON and markup, shared by the member's chat and the agents' inbox.

Text is sent as text: the browser inserts it with ``textContent`` and Jinja escapes it, so
markup a member types stays visible characters. Cards are rendered on the server by their
plugin (escaped markup) with the action buttons added by the core.
"""
from __future__ import annotations

from flask import url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from markupsafe import Markup

from siyu.core import cards
from siyu.core.channels import REASONS
from siyu.core.models import Message
from siyu.storefront.context import db, kernel


def card_view(message: Message, viewer: str, state: dict) -> dict:
    card = cards.card_types(kernel()).get(message.card_type or "")
    actions = []
    for name, action in (card.actions.items() if card else []):
        done = state.get(name)
        actions.append({
            "name": name, "label": str(action.label), "done": done is not None,
            "message": str((done or {}).get("message", "")),
            "url": url_for("chat.card_action", message_id=message.id, action=name) if viewer == "member" else None,
        })
    html = cards.render(kernel(), message, viewer, state)
    if card is not None and card.service_notice:
        html += order_link(message.payload or {}, viewer)
    return {"html": str(html), "actions": actions, "label": str(card.label) if card else ""}


def order_link(payload: dict, viewer: str) -> Markup:
    """A service notice links to its order: the member's order page, or the back office's."""
    if viewer == "member" and payload.get("order_number"):
        url = url_for("account.order", number=str(payload["order_number"]))
    elif viewer == "agent" and isinstance(payload.get("order_id"), int):
        url = url_for("admin_orders.detail", order_id=payload["order_id"])
    else:
        return Markup("")
    return Markup('<p class="notice-open"><a href="{}">{}</a></p>').format(url, _("View the order"))


def message_views(messages: list[Message], viewer: str) -> list[dict]:
    """JSON-able dicts, oldest first; ``viewer`` is ``member`` or ``agent``."""
    states = cards.action_states(db(), [m.id for m in messages if m.kind == "card"])
    views = []
    for m in messages:
        view = {
            "id": m.id, "direction": m.direction, "author": m.author, "kind": m.kind, "text": m.body,
            "at": m.created_at.isoformat(), "time": format_datetime(m.created_at, "short"),
            "delivery": m.delivery,
        }
        if viewer == "agent":
            view["reason"] = str(REASONS.get(m.reason, m.reason)) if m.reason else ""
            view["delivery_text"] = delivery_label(m.delivery)
        if m.kind == "card":
            view["card"] = card_view(m, viewer, states.get(m.id, {}))
        views.append(view)
    return views


def delivery_label(delivery: str) -> str:
    return {
        "delivered": _("Delivered"),
        "pending": _("Sending"),
        "undelivered": _("Not delivered"),
        "failed": _("Failed"),
    }.get(delivery, delivery)


def card_markup(view: dict) -> Markup:
    return Markup(view["card"]["html"]) if view.get("card") else Markup("")
