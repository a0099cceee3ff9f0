"""The shop's fulfilment settings (namespace ``fulfilment`` in the settings table).

Read with ``fulfilment_settings(session)``: stored values over the defaults below.
Editing and validation of the fee rules live in ``siyu.core.shipping_fees``.
"""
from __future__ import annotations

import copy
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from siyu.core import settings

NAMESPACE = "fulfilment"

#: Carriers offered when shipping; ``{number}`` in the URL is the tracking number.
DEFAULT_CARRIERS: list[dict[str, str]] = [
    {"code": "sf", "name_zh": "顺丰速运", "name_en": "SF Express",
     "tracking_url": "https://www.sf-express.com/chn/sc/waybill/waybill-detail/{number}"},
    {"code": "zto", "name_zh": "中通快递", "name_en": "ZTO Express",
     "tracking_url": "https://www.kuaidi100.com/chaxun?com=zhongtong&nu={number}"},
    {"code": "yto", "name_zh": "圆通速递", "name_en": "YTO Express",
     "tracking_url": "https://www.kuaidi100.com/chaxun?com=yuantong&nu={number}"},
    {"code": "sto", "name_zh": "申通快递", "name_en": "STO Express",
     "tracking_url": "https://www.kuaidi100.com/chaxun?com=shentong&nu={number}"},
    {"code": "yunda", "name_zh": "韵达快递", "name_en": "Yunda Express",
     "tracking_url": "https://www.kuaidi100.com/chaxun?com=yunda&nu={number}"},
    {"code": "jd", "name_zh": "京东物流", "name_en": "JD Logistics",
     "tracking_url": "https://www.kuaidi100.com/chaxun?com=jd&nu={number}"},
    {"code": "ems", "name_zh": "中国邮政 EMS", "name_en": "China Post EMS",
     "tracking_url": "https://www.kuaidi100.com/chaxun?com=ems&nu={number}"},
]

DEFAULTS: dict[str, Any] = {
    # Delivery methods the checkout may offer (each still only when the cart needs it).
    "express_enabled": True,
    "pickup_enabled": False,
    #: [{"code", "name", "address", "hours"}]
    "pickup_locations": [],
    # Shipping fee (minor units of the shop currency), see siyu.core.shipping_fees.
    "shipping_fee": 0,
    "free_shipping_over": 0,       # 0: never free
    "province_surcharges": {},     # {"540000": 2000}
    "unserved_provinces": [],      # ["710000", "810000"]
    "carriers": DEFAULT_CARRIERS,
    #: A shipped order completes by itself this many days after it shipped.
    "auto_complete_days": 10,
    #: After-sales may be requested until this many days after completion.
    "after_sale_days": 15,
}


def fulfilment_settings(session: Session) -> dict[str, Any]:
    values = copy.deepcopy(DEFAULTS)  # callers may change what they get
    values.update(settings.get_all(session, NAMESPACE))
    return values


def carrier(values: dict[str, Any], code: str) -> dict[str, str] | None:
    return next((c for c in values.get("carriers") or () if c.get("code") == code), None)


def tracking_url(values: dict[str, Any], code: str, number: str) -> str | None:
    """The carrier's tracking page for ``number``, or None (pickup, unknown carrier)."""
    found = carrier(values, code)
    template = (found or {}).get("tracking_url") or ""
    if not number or "{number}" not in template:
        return None
    return template.replace("{number}", quote(number, safe=""))
