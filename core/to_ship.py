"""Orders awaiting shipment: the filters the back office's queue, its exports and the API
share, and what each order still has to send (lines, remaining quantities, where to)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from siyu.core import fulfilment
from siyu.core.models import (
    TO_SHIP_STATES, AfterSale, AfterSaleKind, DeliveryMethod, Order, OrderDelivery, Shipment, ShipmentLine,
)

METHODS = (DeliveryMethod.EXPRESS.value, DeliveryMethod.PICKUP.value)
MAX_SEARCH = 64
CHUNK = 500  # ids per IN list


@dataclass
class Filters:
    """``method``: express or pickup (else both); ``start``/``end``: paid in [start, end);
    ``q``: an order number, part of a recipient's name, or digits of their phone."""

    method: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.method or self.start or self.end or self.q)


def query(filters: Filters) -> Select:
    """Orders that are paid and not yet (fully) shipped, oldest payment first (ship in turn)."""
    stmt = select(Order).where(Order.status.in_(TO_SHIP_STATES),
                               Order.delivery_method != DeliveryMethod.NONE.value)
    if filters.method in METHODS:
        stmt = stmt.where(Order.delivery_method == filters.method)
    if filters.start:
        stmt = stmt.where(Order.paid_at >= filters.start)
    if filters.end:
        stmt = stmt.where(Order.paid_at < filters.end)
    q = (filters.q or "").strip()[:MAX_SEARCH]
    if q:
        terms = [Order.number == q.upper()]
        like = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        recipients = select(OrderDelivery.order_id).where(OrderDelivery.recipient.ilike(f"%{like}%", escape="\\"))
        digits = "".join(ch for ch in q if ch.isdigit())
        terms.append(Order.id.in_(recipients))
        if len(digits) >= 4:  # a phone's last digits, as staff ask for them
            terms.append(Order.id.in_(select(OrderDelivery.order_id).where(OrderDelivery.phone.contains(digits))))
        stmt = stmt.where(or_(*terms))
    return stmt.order_by(Order.paid_at.asc(), Order.id.asc())


@dataclass
class Parcel:
    """One order as the warehouse sees it: what is left to send, and where."""

    order: Order
    delivery: OrderDelivery | None
    #: ``(line, quantity left to ship)`` for each shippable line with something left.
    lines: list = field(default_factory=list)


def progress_many(session: Session, orders: list[Order]) -> dict[int, dict[int, fulfilment.LineProgress]]:
    """``fulfilment.progress`` for many orders in two queries (an export of thousands)."""
    ids = [o.id for o in orders]
    shipped = dict(session.execute(
        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id.in_(ids)).group_by(ShipmentLine.order_line_id)).all())
    held: dict[int, int] = {}
    granted: dict[int, int] = {}
    for line_id, state, quantity in session.execute(
            select(AfterSale.order_line_id, AfterSale.state, AfterSale.quantity)
            .where(AfterSale.order_id.in_(ids), AfterSale.kind == AfterSaleKind.REFUND_ONLY.value,
                   AfterSale.unshipped.is_(True), AfterSale.state.in_(fulfilment.HOLDING_STATES))):
        held[line_id] = held.get(line_id, 0) + quantity
        if state in fulfilment.GRANTED_STATES:
            granted[line_id] = granted.get(line_id, 0) + quantity
    return {order.id: {line.id: fulfilment.LineProgress(line.quantity, int(shipped.get(line.id) or 0),
                                                        held.get(line.id, 0), granted.get(line.id, 0))
                       for line in order.lines if line.requires_shipping}
            for order in orders}


def parcels(session: Session, orders: Iterable[Order], every_line: bool = False) -> list[Parcel]:
    """What each order still has to send; ``every_line``: every shippable line, with what is
    left of it (0 once shipped: a packing slip reprinted)."""
    orders = list(orders)
    result = []
    for start in range(0, len(orders), CHUNK):
        chunk = orders[start:start + CHUNK]
        ids = [o.id for o in chunk]
        # One query for the lines and deliveries of the whole chunk.
        loaded = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(ids)).options(
            selectinload(Order.lines), selectinload(Order.delivery)))}
        chunk = [loaded.get(o.id, o) for o in chunk]
        states = progress_many(session, chunk)
        for order in chunk:
            state = states[order.id]
            lines = [(line, state[line.id].remaining) for line in order.lines
                     if line.id in state and (every_line or state[line.id].remaining > 0)]
            result.append(Parcel(order, order.delivery, lines))
    return result


def orders_by_ids(session: Session, ids: Iterable[int], limit: int) -> list[Order]:
    """Paid orders among ``ids`` (a print selection), at most ``limit``, in the queue's order."""
    wanted = sorted({i for i in ids if 0 < i <= 2**31 - 1})[:limit]
    if not wanted:
        return []
    return list(session.scalars(select(Order).where(Order.id.in_(wanted), Order.status.in_(
        (*TO_SHIP_STATES, "shipped", "completed"))).order_by(Order.paid_at.asc(), Order.id.asc())))
