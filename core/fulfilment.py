"""Fulfilment services: ship (by line, in part), confirm receipt, complete when due.

Every change locks the order row (``FOR NO KEY UPDATE``) and moves its status with a
conditional UPDATE, so concurrent shipments, imports, receipts and the completion sweep
change an order once and never move it backwards. The lifecycle hooks run inside the
same transaction. States and rules: docs/fulfilment.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import InvalidTransition, NotFound, ValidationError
from siyu.core.fulfilment_settings import carrier, fulfilment_settings
from siyu.core.hooks import call_in_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import (
    TO_SHIP_STATES, AfterSale, AfterSaleKind, DeliveryMethod, Member, Order, OrderStatus, Shipment, ShipmentLine,
)
from siyu.core.models.fulfilment import OPEN_AFTER_SALE_STATES

PICKUP = "pickup"
TRACKING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")
#: Refund-only requests for units never shipped hold them back from shipping while they
#: are open or granted; a rejected or withdrawn one gives them back. Only a granted one
#: settles them: until then the order is not "shipped", so a rejection can still ship them.
HOLDING_STATES = (*OPEN_AFTER_SALE_STATES, "refunded")
GRANTED_STATES = ("approved", "refunded")


@dataclass(frozen=True)
class LineProgress:
    quantity: int
    shipped: int
    #: Units a refund-only request for unshipped goods holds back (asked or granted).
    held: int
    #: Of those, units whose refund was granted: they will never ship.
    granted: int = 0

    @property
    def remaining(self) -> int:
        """Units that may ship now."""
        return max(self.quantity - self.shipped - self.held, 0)

    @property
    def outstanding(self) -> int:
        """Units that keep the order from being ``shipped``."""
        return max(self.quantity - self.shipped - self.granted, 0)


def lock_order(session: Session, order_id: int) -> Order:
    """The order, re-read under a row lock (FOR NO KEY UPDATE: its key never changes)."""
    order = session.scalar(select(Order).where(Order.id == order_id).with_for_update(key_share=True)
                           .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(_l("Order not found."))
    return order


def progress(session: Session, order: Order) -> dict[int, LineProgress]:
    """Per shippable line (virtual lines are left out): ordered, shipped, held back."""
    shipped = dict(session.execute(
        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order.id).group_by(ShipmentLine.order_line_id)).all())
    held: dict[int, int] = {}
    granted: dict[int, int] = {}
    for line_id, state, quantity in session.execute(
            select(AfterSale.order_line_id, AfterSale.state, AfterSale.quantity)
            .where(AfterSale.order_id == order.id, AfterSale.kind == AfterSaleKind.REFUND_ONLY.value,
                   AfterSale.unshipped.is_(True), AfterSale.state.in_(HOLDING_STATES))):
        held[line_id] = held.get(line_id, 0) + quantity
        if state in GRANTED_STATES:
            granted[line_id] = granted.get(line_id, 0) + quantity
    return {line.id: LineProgress(line.quantity, int(shipped.get(line.id) or 0), held.get(line.id, 0),
                                  granted.get(line.id, 0))
            for line in order.lines if line.requires_shipping}


def ship_order(kernel, session: Session, order: Order, *, carrier_code: str, tracking_number: str = "",
               lines: Mapping[Any, Any] | None = None, staff_id: int | None = None) -> tuple[Shipment, bool]:
    """Record a shipment of ``lines`` (``{order_line_id: quantity}``; ``None``: everything
    still to ship) and return ``(shipment, created)``.

    The same carrier and tracking number for the same order again returns the first
    shipment with ``created=False`` and changes nothing (an import run twice). The order
    becomes ``shipped`` when every shippable unit has left; ``on_order_shipped`` runs for
    every new shipment. Refuses unpaid, cancelled, refunded or completed orders, virtual
    orders, and quantities beyond what is left to ship.
    """
    code = str(carrier_code or "").strip()
    number = str(tracking_number or "").strip()
    with write_transaction(session):
        locked = lock_order(session, order.id)
        if locked.delivery_method == PICKUP:
            code, number = PICKUP, number[:64]
        else:
            _check_carrier(session, code, number)
        if number:
            first = session.scalar(select(Shipment).where(
                Shipment.order_id == locked.id, Shipment.carrier_code == code, Shipment.tracking_number == number))
            if first is not None:
                return first, False
        if locked.status not in TO_SHIP_STATES:
            raise InvalidTransition(_ship_refusal(locked))
        if locked.delivery_method == DeliveryMethod.NONE.value:
            raise InvalidTransition(_l("This order has nothing to ship."))
        state = progress(session, locked)
        wanted = _wanted(state, lines)
        shipment = Shipment(order_id=locked.id, carrier_code=code, tracking_number=number, staff_id=staff_id,
                            shipped_at=utcnow())
        shipment.lines = [ShipmentLine(order_line_id=line_id, quantity=qty) for line_id, qty in wanted.items()]
        session.add(shipment)
        session.flush()
        if all(p.outstanding == 0 for p in progress(session, locked).values()):
            _mark_shipped(session, locked, shipment.shipped_at)
        call_in_transaction(kernel.pm, "on_order_shipped", kernel=kernel, session=session, order=locked, shipment=shipment)
    return shipment, True


def _check_carrier(session: Session, code: str, number: str) -> None:
    errors = {}
    if carrier(fulfilment_settings(session), code) is None:
        errors["carrier_code"] = _l("Choose a carrier from the list.")
    if not TRACKING.match(number):
        errors["tracking_number"] = _l("Enter the tracking number: 4 to 64 letters, digits or dashes.")
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)


def _ship_refusal(order: Order) -> str:
    if order.status == OrderStatus.SHIPPED.value or order.status == OrderStatus.COMPLETED.value:
        return _l("This order has already been shipped.")
    if order.status == OrderStatus.PLACED.value:
        return _l("This order is not paid yet.")
    return _l("A cancelled or refunded order cannot be shipped.")


def _wanted(state: dict[int, LineProgress], lines: Mapping[Any, Any] | None) -> dict[int, int]:
    if lines is None:
        wanted = {line_id: p.remaining for line_id, p in state.items() if p.remaining > 0}
        if not wanted:
            raise InvalidTransition(_l("Everything in this order has already been shipped."))
        return wanted
    wanted, errors = {}, {}
    for raw_id, raw_qty in lines.items():
        try:
            line_id, qty = int(raw_id), int(raw_qty)
        except (TypeError, ValueError):
            errors[str(raw_id)] = _l("not a number")
            continue
        if qty == 0:
            continue
        if line_id not in state:
            errors[str(line_id)] = _l("not a line of this order that ships")
        elif not 0 < qty <= state[line_id].remaining:
            errors[str(line_id)] = _l("between 1 and %(max)d", max=state[line_id].remaining)
        else:
            wanted[line_id] = qty
    if errors or not wanted:
        raise ValidationError(_l("Choose what this parcel holds, no more than is left to ship."),
                              fields=errors or {"lines": _l("nothing chosen")})
    return wanted


def _mark_shipped(session: Session, order: Order, at: datetime) -> bool:
    done = session.execute(update(Order).where(Order.id == order.id, Order.status.in_(TO_SHIP_STATES))
                           .values(status=OrderStatus.SHIPPED.value, shipped_at=at)
                           .execution_options(synchronize_session=False))
    session.refresh(order)
    return done.rowcount == 1


def settle_shipping(session: Session, order: Order) -> None:
    """After units stopped needing shipment (a refund-only request approved): an order
    that has shipped everything else and at least one parcel is now ``shipped``.
    Inside the caller's transaction, with the order locked."""
    state = progress(session, order)
    if state and all(p.outstanding == 0 for p in state.values()) and any(p.shipped for p in state.values()):
        last = session.scalar(select(func.max(Shipment.shipped_at)).where(Shipment.order_id == order.id))
        _mark_shipped(session, order, last or utcnow())


def confirm_receipt(kernel, session: Session, order: Order, member: Member) -> Order:
    """The shopper confirms the goods arrived: shipped → completed (a virtual order: paid →
    completed). Twice, or concurrently, completes once; the second gets a clear refusal."""
    if order.member_id != member.id:
        raise NotFound(_l("Order not found."))
    with write_transaction(session):
        locked = lock_order(session, order.id)
        if not _complete(kernel, session, locked, "member"):
            raise InvalidTransition(_l("Only a shipped order can be confirmed as received."))
    return locked


def _completable(order: Order) -> tuple[str, ...]:
    if order.delivery_method == DeliveryMethod.NONE.value:
        return (OrderStatus.SHIPPED.value, *TO_SHIP_STATES)
    return (OrderStatus.SHIPPED.value,)


def _complete(kernel, session: Session, order: Order, how: str) -> bool:
    done = session.execute(update(Order).where(Order.id == order.id, Order.status.in_(_completable(order)))
                           .values(status=OrderStatus.COMPLETED.value, completed_at=utcnow())
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    session.refresh(order)
    call_in_transaction(kernel.pm, "on_order_completed", kernel=kernel, session=session, order=order, how=how)
    return True


def due_for_completion(session: Session, now: datetime | None = None, member_id: int | None = None) -> list[int]:
    """Ids of orders whose automatic completion is due: shipped (virtual: paid) at least
    ``auto_complete_days`` ago, with no after-sales request in progress."""
    cutoff = (now or utcnow()) - timedelta(days=int(fulfilment_settings(session)["auto_complete_days"]))
    open_request = exists().where(AfterSale.order_id == Order.id, AfterSale.state.in_(OPEN_AFTER_SALE_STATES))
    shipped = (Order.status == OrderStatus.SHIPPED.value) & (Order.shipped_at <= cutoff)
    virtual = ((Order.delivery_method == DeliveryMethod.NONE.value) & Order.status.in_(TO_SHIP_STATES)
               & (Order.paid_at <= cutoff))
    query = select(Order.id).where(shipped | virtual, ~open_request).order_by(Order.id)
    if member_id is not None:
        query = query.where(Order.member_id == member_id)
    return list(session.scalars(query))


def complete_due(kernel, session: Session, now: datetime | None = None, member_id: int | None = None) -> int:
    """Complete every order that is due (a sweep: the worker's ``complete_due_orders`` job
    every 30 minutes, and the shopper's order pages on read);
    one transaction per order. Returns how many were completed."""
    count = 0
    for order_id in due_for_completion(session, now, member_id):
        with write_transaction(session):
            locked = lock_order(session, order_id)
            # A request may have arrived since the list was read: it holds completion back.
            if session.scalar(select(AfterSale.id).where(
                    AfterSale.order_id == order_id, AfterSale.state.in_(OPEN_AFTER_SALE_STATES)).limit(1)):
                continue
            if _complete(kernel, session, locked, "auto"):
                count += 1
    return count
