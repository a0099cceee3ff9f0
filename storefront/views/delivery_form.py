"""The checkout's delivery part: what the cart may use, the member's addresses, pickup
locations, and the choice passed to pricing and the order as ``cart.inputs``."""
from __future__ import annotations

from typing import Any, Mapping

from flask_login import current_user

from siyu.core import addresses, delivery
from siyu.core.fulfilment_settings import fulfilment_settings
from siyu.core.orders import load_cart_products
from siyu.core.pricing import validate_quantities
from siyu.storefront.context import db

FIELDS = ("delivery_method", "address_id", "pickup_code")


def delivery_inputs(form: Mapping[str, Any], items: Mapping[Any, Any]) -> dict[str, str]:
    """The posted delivery fields, with the method defaulted to the first one offered, so a
    checkout always chooses (and is checked): physical goods never leave without an address."""
    chosen = {k: str(form.get(k) or "") for k in FIELDS if form.get(k)}
    if "delivery_method" not in chosen:
        lines = [product for product, _ in load_cart_products(db(), validate_quantities(items))]
        chosen["delivery_method"] = delivery.offered_methods(fulfilment_settings(db()), lines)[0]
    return chosen


def delivery_context(cart, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """What the checkout page shows: methods offered, the current choice and its problems."""
    values = fulfilment_settings(db())
    return {
        "methods": delivery.offered_methods(values, cart.lines),
        "choice": delivery.resolve(db(), current_user, cart.lines, inputs),
        "addresses": addresses.list_addresses(db(), current_user),
        "pickups": values["pickup_locations"] if values.get("pickup_enabled") else [],
        "display_phone": addresses.display_phone,
    }
