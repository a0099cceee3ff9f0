"""Words for an offer ("¥10 off orders of ¥100 or more"), shared by the chat card, the claim
page, the wallet and the back office. Works from a template or a card's stored payload."""
from __future__ import annotations

from typing import Any, Mapping

from siyu.plugin import format_money, lazy_gettext as _l

#: What a chat card stores about its template: enough to draw it without the database.
CARD_FIELDS = ("template_id", "code", "name", "description", "kind", "currency", "amount", "percent_bp",
               "max_discount", "min_spend", "repeat", "valid_days", "scope")


def card_payload(template) -> dict[str, Any]:
    payload = {field: getattr(template, field, None) for field in CARD_FIELDS if field != "template_id"}
    payload["template_id"] = template.id
    payload["valid_until"] = template.valid_until.isoformat() if template.valid_until else None
    return payload


def _percent(bp: int) -> str:
    whole, rest = divmod(int(bp), 100)
    return f"{whole}" if not rest else f"{whole}.{rest:02d}".rstrip("0")


def headline(offer: Mapping[str, Any], locale: str = "zh_CN") -> str:
    """The big line: "¥10.00 off", "15% off", "Spend ¥100.00, save ¥20.00"."""
    def money(value):
        return format_money(int(value or 0), offer.get("currency") or "CNY", locale)

    kind = offer.get("kind")
    if kind == "percent":
        return str(_l("%(percent)s%% off", percent=_percent(offer.get("percent_bp") or 0)))
    if kind == "threshold":
        if offer.get("repeat"):
            return str(_l("Save %(amount)s for every %(spend)s spent", amount=money(offer.get("amount")),
                          spend=money(offer.get("min_spend"))))
        return str(_l("Spend %(spend)s, save %(amount)s", spend=money(offer.get("min_spend")),
                      amount=money(offer.get("amount"))))
    return str(_l("%(amount)s off", amount=money(offer.get("amount"))))


def conditions(offer: Mapping[str, Any], locale: str = "zh_CN") -> list[str]:
    """The small print: minimum spend, cap, scope, validity after claiming."""
    def money(value):
        return format_money(int(value or 0), offer.get("currency") or "CNY", locale)

    found = []
    if offer.get("kind") != "threshold" and offer.get("min_spend"):
        found.append(str(_l("On %(amount)s or more", amount=money(offer.get("min_spend")))))
    if offer.get("max_discount"):
        found.append(str(_l("Up to %(amount)s off", amount=money(offer.get("max_discount")))))
    if offer.get("scope") == "products":
        found.append(str(_l("Selected products only")))
    if offer.get("valid_days"):
        found.append(str(_l("Valid for %(n)d days after claiming", n=int(offer.get("valid_days")))))
    return found


def summary(offer: Mapping[str, Any], locale: str = "zh_CN") -> str:
    """One line of plain text, for channels without cards and for lists."""
    parts = [str(offer.get("name") or ""), headline(offer, locale)] + conditions(offer, locale)
    return " · ".join(p for p in parts if p)
