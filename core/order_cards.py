"""The order notice cards the member finds in the chat: shipped (carrier and tracking link),
completed, an after-sales request approved or declined (with the shop's reason), a refund
sent. Service notices (``CardType.service_notice``), posted by the default plugin
``siyu.core.default_plugins.order_notices``.

The payload keeps facts, not sentences (order number, carrier names in both languages,
amounts in minor units), so each card is drawn in the reader's language when it is shown,
and a channel adapter can fill a template message from the same fields. ``payload["notice"]``
names the event.
"""
from __future__ import annotations

from typing import Any, Callable
from urllib.parse import urlsplit

from markupsafe import Markup

from siyu.core.cards import CardType
from siyu.core.i18n import current_locale
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.money import format_money

SHIPPED, COMPLETED, APPROVED, REJECTED, REFUNDED = (
    "order_shipped", "order_completed", "after_sale_approved", "after_sale_rejected", "order_refunded")


def _zh() -> bool:
    return current_locale().startswith("zh")


def _pick(payload: dict, field: str) -> str:
    """``field_zh`` or ``field_en`` for the reader, the other one when it is empty."""
    first, second = (f"{field}_zh", f"{field}_en") if _zh() else (f"{field}_en", f"{field}_zh")
    return str(payload.get(first) or payload.get(second) or "")


def _money(payload: dict, field: str = "amount") -> str:
    try:
        return format_money(int(payload.get(field) or 0), str(payload.get("currency") or "CNY"), current_locale())
    except (TypeError, ValueError):
        return ""


def safe_url(url: Any) -> str | None:
    """Only http(s) links leave the chat (the carrier's template comes from settings)."""
    text = str(url or "")
    return text if text and urlsplit(text).scheme in ("http", "https") and len(text) <= 500 else None


def _item(payload: dict) -> str:
    quantity = int(payload.get("quantity") or 0)
    name = _pick(payload, "item")
    return f"{name} × {quantity}" if quantity else name


def _card(kind: str, title: Any, payload: dict, *rows: Markup | str) -> Markup:
    html = Markup('<div class="notice-card notice-{}"><p class="notice-title">{}</p>'
                  '<p class="notice-order">{}</p>').format(
        kind, title, _l("Order %(number)s", number=payload.get("order_number") or ""))
    for row in rows:
        if row:
            html += row if isinstance(row, Markup) else Markup("<p>{}</p>").format(row)
    return html + Markup("</div>")


# ----------------------------------------------------------------------------- shipped


def _shipped_title(payload: dict) -> Any:
    if payload.get("pickup"):
        return _l("Collected at the shop")
    return _l("Your order has shipped") if payload.get("complete") else _l("Part of your order has shipped")


def render_shipped(payload: dict, state: dict) -> Markup:
    parcel = link = ""
    if not payload.get("pickup"):
        parcel = " · ".join(p for p in (_pick(payload, "carrier"), str(payload.get("tracking_number") or "")) if p)
        url = safe_url(payload.get("tracking_url"))
        if url:
            link = Markup('<p><a class="notice-link" href="{}" target="_blank" rel="noopener noreferrer">{}</a></p>'
                          ).format(url, _l("Track the parcel"))
    items = [f"{_pick(i, 'title')} × {int(i.get('quantity') or 0)}" for i in payload.get("items") or [] if i]
    listed = Markup('<ul class="notice-items">{}</ul>').format(
        Markup("").join(Markup("<li>{}</li>").format(i) for i in items)) if items else ""
    return _card("shipped", _shipped_title(payload), payload, parcel, link, listed)


def summary_shipped(payload: dict) -> str:
    parcel = " ".join(p for p in (_pick(payload, "carrier"), str(payload.get("tracking_number") or "")) if p)
    return f"{_shipped_title(payload)}: {payload.get('order_number', '')} {parcel}".strip()


# --------------------------------------------------------------------------- completed


def _completed_text(payload: dict) -> Any:
    if payload.get("how") == "member":
        return _l("You confirmed receipt. Thank you for your order!")
    return _l("Your order is complete. Thank you for your order!")


def render_completed(payload: dict, state: dict) -> Markup:
    days = int(payload.get("after_sale_days") or 0)
    window = _l("After-sales can be requested within %(n)d days.", n=days) if days else ""
    return _card("completed", _l("Order completed"), payload, _completed_text(payload), window)


def summary_completed(payload: dict) -> str:
    return f"{_l('Order completed')}: {payload.get('order_number', '')}"


# ------------------------------------------------------------------------- after-sales


def _approved_text(payload: dict) -> Any:
    if payload.get("kind") == "return_refund":
        return _l("Please send %(item)s back and enter the return's tracking number on the order page.",
                  item=_item(payload))
    return _l("A refund of %(amount)s for %(item)s is on its way.", amount=_money(payload), item=_item(payload))


def _approved_title(payload: dict) -> Any:
    return _l("Return approved") if payload.get("kind") == "return_refund" else _l("Refund approved")


def render_approved(payload: dict, state: dict) -> Markup:
    return _card("approved", _approved_title(payload), payload, _approved_text(payload))


def summary_approved(payload: dict) -> str:
    return f"{_approved_title(payload)}: {payload.get('order_number', '')} {_item(payload)}".strip()


def render_rejected(payload: dict, state: dict) -> Markup:
    reason = str(payload.get("note") or "")
    return _card("rejected", _l("After-sales request declined"), payload, _item(payload),
                 _l("Reason: %(reason)s", reason=reason) if reason else "")


def summary_rejected(payload: dict) -> str:
    return f"{_l('After-sales request declined')}: {payload.get('order_number', '')} {payload.get('note') or ''}".strip()


# ---------------------------------------------------------------------------- refunded


def _refunded_text(payload: dict) -> Any:
    if payload.get("item_zh") or payload.get("item_en"):
        return _l("%(amount)s for %(item)s was refunded to your original payment method.",
                  amount=_money(payload), item=_item(payload))
    return _l("%(amount)s was refunded to your original payment method.", amount=_money(payload))


def render_refunded(payload: dict, state: dict) -> Markup:
    return _card("refunded", _l("Refund sent"), payload, _refunded_text(payload))


def summary_refunded(payload: dict) -> str:
    return f"{_l('Refund sent')}: {payload.get('order_number', '')} {_money(payload)}".strip()


def _notice(name: str, label: Any, render: Callable[[dict, dict], Markup], summary: Callable[[dict], str]) -> CardType:
    return CardType(name=name, label=label, render_member=render, summary=summary, service_notice=True)


def card_types() -> list[CardType]:
    return [
        _notice(SHIPPED, _l("Order shipped"), render_shipped, summary_shipped),
        _notice(COMPLETED, _l("Order completed"), render_completed, summary_completed),
        _notice(APPROVED, _l("After-sales approved"), render_approved, summary_approved),
        _notice(REJECTED, _l("After-sales declined"), render_rejected, summary_rejected),
        _notice(REFUNDED, _l("Refund sent"), render_refunded, summary_refunded),
    ]
