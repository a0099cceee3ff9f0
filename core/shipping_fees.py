"""The shipping fee and the shop's delivery settings (validated).

Fee rules, for express delivery only: a flat fee, waived when the goods (after discounts)
reach ``free_shipping_over`` (0: never waived); a province's surcharge is added even then
(remote regions cost the shop more whatever the basket). Pickup and virtual orders ship
free. Provinces in ``unserved_provinces`` are refused at checkout (``siyu.core.delivery``).
"""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy.orm import Session

from siyu.core import regions, settings
from siyu.core.addresses import clean_text
from siyu.core.db import write_transaction
from siyu.core.delivery import EXPRESS, Delivery
from siyu.core.errors import ValidationError
from siyu.core.fulfilment_settings import NAMESPACE, fulfilment_settings
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.money import MAX_AMOUNT

MAX_FEE = 1_000_000  # 10,000.00 in a 2-decimal currency: a typo, not a fee
MAX_LOCATIONS = 20


def fee_for(values: Mapping[str, Any], goods_total: int, delivery: Delivery) -> int:
    if delivery.method != EXPRESS:
        return 0
    fee = int(values.get("shipping_fee") or 0)
    threshold = int(values.get("free_shipping_over") or 0)
    if threshold and goods_total >= threshold:
        fee = 0
    return fee + int((values.get("province_surcharges") or {}).get(delivery.province_code, 0))


def _amount(raw: Any, limit: int) -> int | None:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return None
    return value if 0 <= value <= limit else None


def validate(values: Mapping[str, Any]) -> dict[str, Any]:
    """Clean delivery settings; ``ValidationError`` with one message per bad field."""
    errors: dict[str, Any] = {}
    clean: dict[str, Any] = {"express_enabled": bool(values.get("express_enabled")),
                             "pickup_enabled": bool(values.get("pickup_enabled"))}
    for key, limit in (("shipping_fee", MAX_FEE), ("free_shipping_over", MAX_AMOUNT)):
        clean[key] = _amount(values.get(key, 0), limit)
        if clean[key] is None:
            errors[key] = _l("Enter an amount between 0 and %(max)s.", max=limit)
    for key, low, high in (("auto_complete_days", 1, 60), ("after_sale_days", 0, 90)):
        clean[key] = _amount(values.get(key), high)
        if clean[key] is None or clean[key] < low:
            errors[key] = _l("Enter a number of days between %(low)d and %(high)d.", low=low, high=high)
    surcharges = {}
    for code, raw in dict(values.get("province_surcharges") or {}).items():
        if regions.province(str(code)) is None:
            errors["province_surcharges"] = _l("Unknown province.")
        elif raw not in (None, "", 0, "0"):
            amount = _amount(raw, MAX_FEE)
            if amount is None:
                errors[f"surcharge_{code}"] = _l("Enter an amount between 0 and %(max)s.", max=MAX_FEE)
            else:
                surcharges[str(code)] = amount
    clean["province_surcharges"] = surcharges
    unserved = sorted({str(c) for c in values.get("unserved_provinces") or ()})
    if any(regions.province(c) is None for c in unserved):
        errors["unserved_provinces"] = _l("Unknown province.")
    clean["unserved_provinces"] = unserved
    clean["pickup_locations"] = _locations(values.get("pickup_locations") or [], errors)
    if clean["pickup_enabled"] and not clean["pickup_locations"]:
        errors["pickup_locations"] = _l("Add at least one pickup location, or turn pickup off.")
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    return clean


def _locations(raw: list, errors: dict) -> list[dict[str, str]]:
    found = []
    for index, item in enumerate(raw[:MAX_LOCATIONS + 1]):
        name, address, hours = (clean_text(item.get(k)) for k in ("name", "address", "hours"))
        if not (0 < len(name) <= 100 and 0 < len(address) <= 200 and len(hours) <= 100):
            errors["pickup_locations"] = _l(
                "Location %(n)d: a name (at most 100 characters), an address (at most 200) and opening hours "
                "(at most 100).", n=index + 1)
            continue
        found.append({"code": str(index + 1), "name": name, "address": address, "hours": hours})
    if len(raw) > MAX_LOCATIONS:
        errors["pickup_locations"] = _l("At most %(n)d pickup locations.", n=MAX_LOCATIONS)
    return found


def update_delivery_settings(session: Session, values: Mapping[str, Any]) -> dict[str, Any]:
    clean = validate(values)
    with write_transaction(session):
        for key, value in clean.items():
            settings.put(session, NAMESPACE, key, value)
    return fulfilment_settings(session)
