"""The coupons tests' own helpers (the generic ones, factories, CSRF, sign-in and the checkout,
come from ``siyu.plugin.testing``)."""
from __future__ import annotations

from siyu_coupons.definitions import save_template

OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"


def make_template(session, **values):
    data = {"name": "¥10 off", "kind": "fixed", "currency": "CNY", "amount": 1000, "percent_bp": 0,
            "max_discount": None, "min_spend": 0, "repeat": False, "valid_from": None, "valid_until": None,
            "valid_days": None, "quantity": None, "per_member_limit": 1, "scope": "all", "product_ids": [],
            "with_member_price": True, "active": True, "code": "", "description": ""}
    data.update(values)
    return save_template(session, data)
