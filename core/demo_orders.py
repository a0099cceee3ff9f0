"""Demo orders: placed and moved through the real services, so every plugin reacts as to a
real order (commission, points, chat notices), then back-dated, so a demo shop opens with
history: orders to ship, shipped, completed, an after-sales request, a refund.

Used by ``flask siyu seed --demo`` and by plugins' ``on_demo_seeded``. Idempotent per
``key``: an order whose checkout token is ``demo-<key>`` exists already and is returned as
it is. Keep shipped-but-not-completed orders shipped less than ``auto_complete_days`` ago
(or with a request open): the order pages complete overdue ones when they are read.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from siyu.core import after_sales, fulfilment
from siyu.core.db import utcnow, write_transaction
from siyu.core.models import AfterSale, Member, Message, Order, Payment, Product, Refund, Shipment
from siyu.core.orders import cancel_order, confirm_manual_payment, place_order

#: A step: (action, hours after the order was placed, options).
Step = tuple


def demo_order(kernel, session: Session, member: Member, items: Mapping[str, int], key: str,
               placed_days_ago: float, steps: Sequence[Step] = ()) -> Order:
    """Place ``items`` (``{sku: quantity}``) for ``member`` (manual payment, their default
    address) ``placed_days_ago`` days ago and play ``steps``: ``pay``, ``ship`` (``carrier``,
    ``tracking``, ``skus``: ``{sku: quantity}`` for part of the order), ``receive`` (the
    shopper confirms), ``auto`` (completed automatically), ``cancel``, ``request`` (``sku``,
    ``kind``, ``reason``, ``note``, ``quantity``), ``approve``, ``reject`` (``note``),
    ``return`` (``carrier``, ``tracking``), ``received``, ``refund``."""
    token = f"demo-{key}"[:64]
    found = session.scalar(select(Order).where(Order.checkout_token == token))
    if found is not None:
        return found
    skus = {p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(list(items))))}
    placed = utcnow() - timedelta(days=placed_days_ago)
    marks = _marks(session)
    # Paid as a transfer would be: through a gateway whose payments staff confirm.
    gateway = next(g for g in kernel.payment_providers.values() if g.supports.staff_confirm)
    order = place_order(kernel, session, member=member, items={skus[s].id: q for s, q in items.items()},
                        payment_method=gateway.name, checkout_token=token, inputs={"delivery_method": "express"})
    with write_transaction(session):
        gateway.start(kernel, session, order)
    _date(session, order, placed, Order.placed_at, marks)
    request: AfterSale | None = None
    for step in steps:
        action, hours, options = step[0], step[1], (step[2] if len(step) > 2 else {})
        marks = _marks(session)
        order = session.get(Order, order.id)
        request = _play(kernel, session, order, member, action, options, request, skus)
        _stamp(session, order, action, placed + timedelta(hours=hours), marks, request)
    session.expire_all()
    return session.get(Order, order.id)


def _play(kernel, session, order, member, action, options, request, skus):
    if action == "pay":
        confirm_manual_payment(kernel, session, order)
    elif action == "ship":
        lines = None
        if options.get("skus"):
            by_sku = {line.sku: line.id for line in order.lines}
            lines = {by_sku[s]: q for s, q in options["skus"].items()}
        fulfilment.ship_order(kernel, session, order, carrier_code=options.get("carrier", "sf"),
                              tracking_number=options["tracking"], lines=lines)
    elif action == "receive":
        fulfilment.confirm_receipt(kernel, session, order, member)
    elif action == "auto":
        fulfilment.complete_due(kernel, session, member_id=member.id)
    elif action == "cancel":
        cancel_order(kernel, session, order, "customer")
    elif action == "request":
        line = next(line for line in order.lines if line.sku == options["sku"])
        return after_sales.request_after_sale(
            kernel, session, order, member, line_id=line.id, kind=options.get("kind", "return_refund"),
            reason=options.get("reason", "damaged"), note=options.get("note", ""), quantity=options.get("quantity"))
    elif action == "approve":
        after_sales.approve(kernel, session, request)
    elif action == "reject":
        after_sales.reject(kernel, session, request, options["note"])
    elif action == "return":
        after_sales.record_return_shipment(kernel, session, request, member, options.get("carrier", "sf"),
                                           options["tracking"])
    elif action == "received":
        after_sales.mark_received(kernel, session, request)
    elif action == "refund":
        after_sales.refund(kernel, session, request)
    else:
        raise ValueError(f"unknown demo step {action!r}")
    return request


def _marks(session: Session) -> dict[Any, int]:
    """The highest id of each back-dated table, to find the rows a step adds."""
    return {t: int(session.scalar(select(func.max(t.id))) or 0) for t in (Message, Shipment, Refund, Payment)}


_COLUMNS = {"pay": "paid_at", "receive": "completed_at", "auto": "completed_at", "cancel": "cancelled_at"}
_REQUEST_COLUMNS = {"request": "created_at", "approve": "decided_at", "reject": "decided_at",
                    "return": "returned_at", "received": "received_at", "refund": "refunded_at"}


def _stamp(session: Session, order: Order, action: str, at: datetime, marks: dict, request) -> None:
    with write_transaction(session):
        values = {}
        if action in _COLUMNS:
            values[_COLUMNS[action]] = at
        if action == "ship":
            session.execute(update(Shipment).where(Shipment.id > marks[Shipment], Shipment.order_id == order.id)
                            .values(shipped_at=at))
            if session.scalar(select(Order.status).where(Order.id == order.id)) in ("shipped", "completed"):
                values["shipped_at"] = at  # this parcel was the last one
        if values:
            session.execute(update(Order).where(Order.id == order.id).values(**values))
        if action in _REQUEST_COLUMNS and request is not None:
            session.execute(update(AfterSale).where(AfterSale.id == request.id)
                            .values({_REQUEST_COLUMNS[action]: at}))
        session.execute(update(Refund).where(Refund.id > marks[Refund], Refund.order_id == order.id)
                        .values(created_at=at))
    _date(session, order, at, None, marks)


def _date(session: Session, order: Order, at: datetime, column, marks: dict) -> None:
    """Back-date the order's ``column`` and the messages and payments the step wrote."""
    with write_transaction(session):
        if column is not None:
            session.execute(update(Order).where(Order.id == order.id).values({column: at}))
        session.execute(update(Message).where(Message.id > marks[Message]).values(created_at=at))
        session.execute(update(Payment).where(Payment.id > marks[Payment], Payment.order_id == order.id)
                        .values(created_at=at))
