"""Order notices in the member's chat, as a default plugin (``trylast``): the order shipped,
completed, an after-sales decision, a refund sent (``siyu.core.order_cards``).

Each notice is posted inside the state change's transaction through
``siyu.core.notices.post_notice``, which never raises: a card that cannot be written is
rolled back to its savepoint and logged, and the shipment or refund commits all the same.

To replace it: register card types with the same names first (the first registration of a
name wins, and these register last) to change how they look; to post differently, unregister
this plugin by name from your ``register_hookspecs`` and implement the hooks yourself.
"""
from __future__ import annotations

from sqlalchemy import select

from siyu.core import hookimpl, order_cards
from siyu.core.fulfilment_settings import carrier, fulfilment_settings, tracking_url
from siyu.core.models import AfterSale, OrderLine
from siyu.core.notices import post_notice

MAX_ITEMS = 10


@hookimpl(trylast=True)
def register_card_types(register):
    for card in order_cards.card_types():
        register(card)


def _base(order) -> dict:
    return {"order_number": order.number, "order_id": order.id, "currency": order.currency}


def _line_fields(session, line_id: int) -> dict:
    line = session.get(OrderLine, line_id)
    return {"item_zh": line.title_zh, "item_en": line.title_en} if line is not None else {}


@hookimpl(trylast=True)
def on_order_shipped(kernel, session, order, shipment):
    def payload():
        values = fulfilment_settings(session)
        found = carrier(values, shipment.carrier_code) or {}
        titles = {line.id: line for line in order.lines}
        items = [{"title_zh": titles[sl.order_line_id].title_zh, "title_en": titles[sl.order_line_id].title_en,
                  "quantity": sl.quantity} for sl in shipment.lines[:MAX_ITEMS] if sl.order_line_id in titles]
        return {**_base(order), "notice": order_cards.SHIPPED, "shipment_id": shipment.id,
                "pickup": shipment.carrier_code == "pickup", "complete": order.status == "shipped",
                "carrier_code": shipment.carrier_code, "carrier_zh": found.get("name_zh", ""),
                "carrier_en": found.get("name_en", ""), "tracking_number": shipment.tracking_number,
                "tracking_url": tracking_url(values, shipment.carrier_code, shipment.tracking_number),
                "items": items}

    post_notice(kernel, session, order.member_id, order_cards.SHIPPED, payload)


@hookimpl(trylast=True)
def on_order_completed(kernel, session, order, how):
    def payload():
        days = int(fulfilment_settings(session).get("after_sale_days") or 0)
        return {**_base(order), "notice": order_cards.COMPLETED, "how": how, "after_sale_days": days}

    post_notice(kernel, session, order.member_id, order_cards.COMPLETED, payload)


@hookimpl(trylast=True)
def on_after_sale_decided(kernel, session, order, after_sale, decision):
    name = order_cards.APPROVED if decision == "approved" else order_cards.REJECTED

    def payload():
        return {**_base(order), "notice": name, "after_sale_id": after_sale.id, "kind": after_sale.kind,
                "quantity": after_sale.quantity, "amount": after_sale.amount,
                "note": after_sale.decision_note if decision != "approved" else "",
                **_line_fields(session, after_sale.order_line_id)}

    post_notice(kernel, session, order.member_id, name, payload)


@hookimpl(trylast=True)
def on_order_refunded(kernel, session, order, refund):
    def payload():
        found = {**_base(order), "notice": order_cards.REFUNDED, "refund_id": refund.id, "amount": refund.amount,
                 "full": order.refunded_amount >= order.total}
        request = session.scalar(select(AfterSale).where(AfterSale.refund_key == refund.idempotency_key))
        if request is not None:  # an after-sales refund names its item
            found.update(after_sale_id=request.id, quantity=request.quantity,
                         **_line_fields(session, request.order_line_id))
        return found

    post_notice(kernel, session, order.member_id, order_cards.REFUNDED, payload)
