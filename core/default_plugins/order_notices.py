"""Order notices in the member's chat, as a default plugin (``trylast``): the order shipped,
completed, an after-sales decision, a refund sent (``siyu.core.order_cards``).

A notice is not money: the state change's hook only records it with ``after_commit`` (with
what the change saw: whether this shipment completed the order, whether the refund was the
whole amount), and the task ``siyu.order_notice`` posts the card once the change committed,
through ``siyu.core.notices.post_notice``. So a shipment or refund never waits for the chat,
none is undone by a card that cannot be written (the task is retried, then shown in the back
office), and a change that rolled back posts nothing. An order's notices are posted in order.

To replace it: register card types with the same names first (the first registration of a
name wins, and these register last) to change how they look; to post differently, unregister
this plugin by name from your ``register_hookspecs`` and implement the hooks yourself.
"""
from __future__ import annotations

from sqlalchemy import select

from siyu.core import hookimpl, order_cards
from siyu.core.fulfilment_settings import carrier, fulfilment_settings, tracking_url
from siyu.core.models import AfterSale, Order, OrderLine, Refund, Shipment
from siyu.core.notices import post_notice
from siyu.core.outbox import after_commit

MAX_ITEMS = 10
TASK = "siyu.order_notice"


@hookimpl(trylast=True)
def register_card_types(register):
    for card in order_cards.card_types():
        register(card)


@hookimpl(trylast=True)
def register_outbox_tasks(register):
    register(TASK, post)


def _record(kernel, session, order, key: str, **payload) -> None:
    after_commit(kernel, session, TASK, key=key, payload={"order_id": order.id, **payload}, order_id=order.id)


@hookimpl(trylast=True)
def on_order_shipped(kernel, session, order, shipment):
    _record(kernel, session, order, f"shipment:{shipment.id}", notice=order_cards.SHIPPED, shipment_id=shipment.id,
            complete=order.status == "shipped")


@hookimpl(trylast=True)
def on_order_completed(kernel, session, order, how):
    _record(kernel, session, order, f"order:{order.id}:completed", notice=order_cards.COMPLETED, how=how)


@hookimpl(trylast=True)
def on_after_sale_decided(kernel, session, order, after_sale, decision):
    name = order_cards.APPROVED if decision == "approved" else order_cards.REJECTED
    _record(kernel, session, order, f"after_sale:{after_sale.id}:{decision}", notice=name,
            after_sale_id=after_sale.id)


@hookimpl(trylast=True)
def on_order_refunded(kernel, session, order, refund):
    _record(kernel, session, order, f"refund:{refund.id}", notice=order_cards.REFUNDED, refund_id=refund.id,
            full=order.refunded_amount >= order.total)


def post(kernel, session, payload: dict) -> None:
    """The task: post the recorded notice to the member's conversations (raises to be retried)."""
    order = session.get(Order, payload["order_id"])
    if order is None:
        return
    name = payload["notice"]
    build = {order_cards.SHIPPED: _shipped, order_cards.COMPLETED: _completed, order_cards.REFUNDED: _refunded,
             order_cards.APPROVED: _decided, order_cards.REJECTED: _decided}[name]
    post_notice(kernel, session, order.member_id, name, lambda: build(session, order, payload), quiet=False)


def _base(order, name: str) -> dict:
    return {"order_number": order.number, "order_id": order.id, "currency": order.currency, "notice": name}


def _line_fields(session, line_id: int) -> dict:
    line = session.get(OrderLine, line_id)
    return {"item_zh": line.title_zh, "item_en": line.title_en} if line is not None else {}


def _shipped(session, order, payload: dict) -> dict:
    shipment = session.get(Shipment, payload["shipment_id"])
    values = fulfilment_settings(session)
    found = carrier(values, shipment.carrier_code) or {}
    titles = {line.id: line for line in order.lines}
    items = [{"title_zh": titles[sl.order_line_id].title_zh, "title_en": titles[sl.order_line_id].title_en,
              "quantity": sl.quantity} for sl in shipment.lines[:MAX_ITEMS] if sl.order_line_id in titles]
    return {**_base(order, order_cards.SHIPPED), "shipment_id": shipment.id,
            "pickup": shipment.carrier_code == "pickup", "complete": bool(payload["complete"]),
            "carrier_code": shipment.carrier_code, "carrier_zh": found.get("name_zh", ""),
            "carrier_en": found.get("name_en", ""), "tracking_number": shipment.tracking_number,
            "tracking_url": tracking_url(values, shipment.carrier_code, shipment.tracking_number), "items": items}


def _completed(session, order, payload: dict) -> dict:
    days = int(fulfilment_settings(session).get("after_sale_days") or 0)
    return {**_base(order, order_cards.COMPLETED), "how": payload["how"], "after_sale_days": days}


def _decided(session, order, payload: dict) -> dict:
    after_sale = session.get(AfterSale, payload["after_sale_id"])
    approved = payload["notice"] == order_cards.APPROVED
    return {**_base(order, payload["notice"]), "after_sale_id": after_sale.id, "kind": after_sale.kind,
            "quantity": after_sale.quantity, "amount": after_sale.amount,
            "note": "" if approved else after_sale.decision_note, **_line_fields(session, after_sale.order_line_id)}


def _refunded(session, order, payload: dict) -> dict:
    refund = session.get(Refund, payload["refund_id"])
    found = {**_base(order, order_cards.REFUNDED), "refund_id": refund.id, "amount": refund.amount,
             "full": bool(payload["full"])}
    request = session.scalar(select(AfterSale).where(AfterSale.refund_key == refund.idempotency_key))
    if request is not None:  # an after-sales refund names its item
        found.update(after_sale_id=request.id, quantity=request.quantity,
                     **_line_fields(session, request.order_line_id))
    return found
