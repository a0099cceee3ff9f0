"""How an order reaches the shopper: the methods a cart may use, the shopper's choice
checked against the member's address book and the shop's pickup locations, and the
snapshot copied onto the order.

The checkout posts ``delivery_method`` (``express``/``pickup``/``none``), ``address_id``
and ``pickup_code``; they reach pricing and ``on_order_placed`` as ``cart.inputs``, so the
shipping fee (``siyu.core.shipping_fees``) and the snapshot read the same choice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from sqlalchemy.orm import Session

from siyu.core import addresses
from siyu.core.errors import ValidationError
from siyu.core.fulfilment_settings import fulfilment_settings
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import DeliveryMethod, Member, MemberAddress, OrderDelivery

EXPRESS, PICKUP, NONE = (m.value for m in DeliveryMethod)
ADDRESS_FIELDS = ("recipient", "phone", "province_code", "province_name", "city_code", "city_name",
                  "district_code", "district_name", "street")


@dataclass
class Delivery:
    method: str
    address: MemberAddress | None = None
    pickup: dict[str, str] | None = None
    #: Why this choice cannot be placed (an unserved province, no address...), by field.
    problems: dict[str, Any] = field(default_factory=dict)

    @property
    def province_code(self) -> str:
        return self.address.province_code if self.method == EXPRESS and self.address else ""


def needs_shipping(lines: Sequence[Any]) -> bool:
    """Whether any line (a priced line or an order line) holds a product that ships."""
    return any(getattr(getattr(line, "product", line), "requires_shipping", True) for line in lines)


def offered_methods(values: Mapping[str, Any], lines: Sequence[Any]) -> list[str]:
    """What the checkout offers this cart: nothing to deliver for virtual products only;
    otherwise express and/or pickup as the shop enabled them (express when neither is)."""
    if not needs_shipping(lines):
        return [NONE]
    offered = [EXPRESS] if values.get("express_enabled", True) else []
    if values.get("pickup_enabled") and values.get("pickup_locations"):
        offered.append(PICKUP)
    return offered or [EXPRESS]


def resolve(session: Session, member: Member | None, lines: Sequence[Any], inputs: Mapping[str, Any]) -> Delivery:
    """The delivery ``inputs`` ask for, defaulting to the first offered method and the
    member's default address; anything that stops the order is in ``problems``."""
    values = fulfilment_settings(session)
    offered = offered_methods(values, lines)
    method = str(inputs.get("delivery_method") or offered[0])
    delivery = Delivery(method)
    if method not in offered:
        delivery.problems["delivery_method"] = _l("Choose how you want to receive your order.")
        return delivery
    if method == EXPRESS:
        _express(session, member, values, inputs, delivery)
    elif method == PICKUP:
        code = str(inputs.get("pickup_code") or values["pickup_locations"][0].get("code", ""))
        delivery.pickup = next((p for p in values["pickup_locations"] if p.get("code") == code), None)
        if delivery.pickup is None:
            delivery.problems["pickup_code"] = _l("Choose a pickup location.")
    return delivery


def _express(session, member, values, inputs, delivery: Delivery) -> None:
    raw = inputs.get("address_id")
    if member is not None:
        if raw:
            try:
                delivery.address = addresses.get_address(session, member, raw)
            except Exception:  # another member's or a made-up id: simply not an address
                delivery.address = None
        else:
            delivery.address = addresses.default_address(session, member)
    if delivery.address is None:
        delivery.problems["address_id"] = _l("Add a delivery address.")
    elif delivery.address.province_code in (values.get("unserved_provinces") or ()):
        delivery.problems["address_id"] = _l("Sorry, we do not deliver to %(province)s.",
                                             province=delivery.address.province_name)


def require(delivery: Delivery) -> Delivery:
    """Refuse (422, with field errors) a delivery that cannot be placed."""
    if delivery.problems:
        first = next(iter(delivery.problems.values()))
        raise ValidationError(first, fields=dict(delivery.problems))
    return delivery


def attach_delivery(session: Session, member: Member, order, cart) -> None:
    """In the checkout transaction: check the delivery ``cart.inputs`` chose and copy it onto
    the order (422, nothing written, when it cannot be placed). The storefront's checkout
    always chooses; an order placed without a choice (scripts, the API) keeps the method
    ``place_order`` gave it and no address."""
    if "delivery_method" not in cart.inputs:
        return
    chosen = require(resolve(session, member, cart.lines, cart.inputs))
    order.delivery_method = chosen.method
    order.delivery = snapshot(chosen)
    session.flush()


def snapshot(delivery: Delivery) -> OrderDelivery:
    """The order's copy of the chosen delivery (later edits never change a placed order)."""
    row = OrderDelivery(method=delivery.method)
    if delivery.method == EXPRESS and delivery.address is not None:
        for name in ADDRESS_FIELDS:
            setattr(row, name, getattr(delivery.address, name))
    if delivery.method == PICKUP and delivery.pickup is not None:
        row.pickup_code = str(delivery.pickup.get("code", ""))[:32]
        row.pickup_name = str(delivery.pickup.get("name", ""))[:100]
        row.pickup_address = str(delivery.pickup.get("address", ""))[:200]
        row.pickup_hours = str(delivery.pickup.get("hours", ""))[:100]
    return row
