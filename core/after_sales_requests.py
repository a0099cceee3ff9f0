"""After-sales (售后) requests: what a shopper may claim on one order line, the request
itself (with up to 3 photos) and looking requests up. The steps after it (approve, reject,
return, receive, refund) are in ``siyu.core.after_sales``, which re-exports these names.

A request never claims more than was paid for its line (item price after the line's share
of order discounts; the shipping fee is not part of a line) less the line's other requests,
nor more than the order can still refund.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from siyu.core import fulfilment
from siyu.core.addresses import clean_text
from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import InvalidTransition, NotFound, ValidationError
from siyu.core.fulfilment_settings import fulfilment_settings
from siyu.core.hooks import call_in_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.media import MAX_IMAGE_BYTES, sniff_image
from siyu.core.models import (
    AfterSale, AfterSaleKind, AfterSaleState, Member, Order, OrderLine, OrderStatus, Refund, RefundStatus,
)
from siyu.core.models.fulfilment import COUNTED_AFTER_SALE_STATES, OPEN_AFTER_SALE_STATES
from siyu.core.money import allocate

S = AfterSaleState
MAX_PHOTOS = 3
NOTE_MAX = 500
PHOTO_FOLDER = "after_sales"
REASONS = {
    "not_received": _l("Not received"),
    "damaged": _l("Damaged or defective"),
    "wrong_item": _l("Wrong item or quantity"),
    "not_as_described": _l("Not as described"),
    "changed_mind": _l("Changed my mind"),
    "other": _l("Other"),
}
KINDS = {"refund_only": _l("Refund only"), "return_refund": _l("Return and refund")}
STATES = {
    "requested": _l("Awaiting the shop's reply"), "approved": _l("Approved: refund on its way"),
    "awaiting_return": _l("Approved: please send the goods back"), "returned": _l("Goods on their way back"),
    "received": _l("Goods received: refund on its way"), "refunded": _l("Refunded"),
    "rejected": _l("Rejected"), "withdrawn": _l("Withdrawn"),
}
REQUESTABLE = (OrderStatus.PAID.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.SHIPPED.value,
               OrderStatus.COMPLETED.value)


def line_paid_amounts(order: Order) -> dict[int, int]:
    """What the shopper paid for each line: its total after item adjustments, less its
    share (by line total, largest remainder) of order-wide discounts. Fees are left out."""
    lines = list(order.lines)
    shared = sum(a.amount for a in order.adjustments if a.stage in ("order", "redemption"))
    parts = allocate(shared, [line.total for line in lines])
    return {line.id: max(line.total + part, 0) for line, part in zip(lines, parts)}


def claimable(session: Session, order: Order, line: OrderLine) -> tuple[int, int]:
    """``(amount, quantity)`` a new request on ``line`` may still claim."""
    counted = session.execute(select(func.coalesce(func.sum(AfterSale.amount), 0),
                                     func.coalesce(func.sum(AfterSale.quantity), 0))
                              .where(AfterSale.order_line_id == line.id,
                                     AfterSale.state.in_(COUNTED_AFTER_SALE_STATES))).one()
    open_amount = session.scalar(select(func.coalesce(func.sum(AfterSale.amount), 0)).where(
        AfterSale.order_id == order.id, AfterSale.state.in_(OPEN_AFTER_SALE_STATES)))
    pending = session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.order_id == order.id, Refund.status == RefundStatus.PENDING.value))
    order_left = order.refundable_amount - open_amount - pending
    amount = min(line_paid_amounts(order)[line.id] - int(counted[0]), order_left)
    return max(amount, 0), max(line.quantity - int(counted[1]), 0)


def request_after_sale(kernel, session: Session, order: Order, member: Member, *, line_id: Any, kind: str,
                       reason: str, note: str = "", quantity: Any = None, amount: Any = None,
                       photos: Sequence[bytes] = (), media_root: str | Path | None = None) -> AfterSale:
    """The shopper asks for a refund (``refund_only``) or a return (``return_refund``) on one
    line. ``amount`` defaults to all that is claimable for ``quantity`` (default: all units
    left). One open request per line; concurrent identical requests make one."""
    if order.member_id != member.id:
        raise NotFound(_l("Order not found."))
    note = clean_text(note)
    errors: dict[str, Any] = {}
    if kind not in (AfterSaleKind.REFUND_ONLY.value, AfterSaleKind.RETURN_REFUND.value):
        errors["kind"] = _l("Choose refund only, or return and refund.")
    if reason not in REASONS:
        errors["reason"] = _l("Choose a reason.")
    if len(note) > NOTE_MAX:
        errors["note"] = _l("At most %(n)d characters.", n=NOTE_MAX)
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = _l("At most %(n)d photos.", n=MAX_PHOTOS)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    stored = _store_photos(media_root, photos)
    try:
        with write_transaction(session):
            locked = fulfilment.lock_order(session, order.id)
            line = _line(locked, line_id)
            request = _new_request(session, locked, line, kind, reason, note, quantity, amount, stored)
            call_in_transaction(kernel.pm, "on_after_sale_requested", kernel=kernel, session=session, order=locked,
                                after_sale=request)
    except BaseException:
        _remove_photos(media_root, stored)
        raise
    return request


def _line(order: Order, line_id: Any) -> OrderLine:
    try:
        ident = int(line_id)
    except (TypeError, ValueError):
        ident = 0
    line = next((line for line in order.lines if line.id == ident), None)
    if line is None:
        raise NotFound(_l("This line is not part of the order."))
    return line


def _new_request(session, order, line, kind, reason, note, quantity, amount, photos) -> AfterSale:
    if order.status not in REQUESTABLE or not within_window(session, order):
        raise InvalidTransition(_l("After-sales can no longer be requested for this order."))
    if session.scalar(select(AfterSale.id).where(AfterSale.order_line_id == line.id,
                                                  AfterSale.state.in_(OPEN_AFTER_SALE_STATES)).limit(1)):
        raise InvalidTransition(_l("This item already has an after-sales request in progress."))
    max_amount, max_quantity = claimable(session, order, line)
    progress = fulfilment.progress(session, order).get(line.id)
    shipped = progress.shipped if progress else 0
    if kind == AfterSaleKind.RETURN_REFUND.value:
        # Only units that left can come back (virtual lines have nothing to return).
        returned = session.scalar(select(func.coalesce(func.sum(AfterSale.quantity), 0)).where(
            AfterSale.order_line_id == line.id, AfterSale.kind == AfterSaleKind.RETURN_REFUND.value,
            AfterSale.state.in_(COUNTED_AFTER_SALE_STATES)))
        max_quantity = min(max_quantity, shipped - int(returned))
    qty = _int(quantity, max_quantity)
    errors = {}
    if max_quantity <= 0 or max_amount <= 0:
        raise InvalidTransition(_l("Nothing is left to claim for this item."))
    if qty is None or not 0 < qty <= max_quantity:
        errors["quantity"] = _l("between 1 and %(max)d", max=max_quantity)
    default = max_amount if qty == max_quantity else max_amount * (qty or 0) // max_quantity
    value = _int(amount, default)
    if value is None or not 0 < value <= max_amount:
        errors["amount"] = _l("between 1 and %(max)s", max=max_amount)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    unshipped = (kind == AfterSaleKind.REFUND_ONLY.value and progress is not None
                 and progress.remaining >= qty)
    request = AfterSale(order_id=order.id, order_line_id=line.id, member_id=order.member_id, kind=kind,
                        state=S.REQUESTED.value, reason=reason, note=note, photos=list(photos), quantity=qty,
                        amount=value, unshipped=unshipped, refund_key=f"after-sale-{secrets.token_hex(16)}")
    session.add(request)
    session.flush()
    return request


def _int(value: Any, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def within_window(session: Session, order: Order) -> bool:
    if order.status != OrderStatus.COMPLETED.value or order.completed_at is None:
        return True
    days = int(fulfilment_settings(session)["after_sale_days"])
    return utcnow() <= order.completed_at + timedelta(days=days)


def _store_photos(media_root, photos: Sequence[bytes]) -> list[str]:
    checked = []
    for index, data in enumerate(photos):
        ext = sniff_image(data or b"")
        if not data or len(data) > MAX_IMAGE_BYTES or ext is None:
            raise ValidationError(_l("Photos must be PNG, JPEG, WebP or GIF images of at most 5 MB."),
                                  fields={"photos": _l("photo %(n)d is not accepted", n=index + 1)})
        checked.append((data, ext))
    if checked and media_root is None:
        raise ValueError("media_root is needed to store photos")
    stored = []
    for data, ext in checked:
        relative = f"{PHOTO_FOLDER}/{secrets.token_urlsafe(16)}.{ext}"
        target = Path(media_root) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        stored.append(relative)
    return stored


def _remove_photos(media_root, stored: list[str]) -> None:
    for relative in stored:
        (Path(media_root) / relative).unlink(missing_ok=True)


def get_after_sale(session: Session, after_sale_id: Any, member: Member | None = None) -> AfterSale:
    """A request by id; with ``member``, only that member's own."""
    try:
        ident = int(after_sale_id)
    except (TypeError, ValueError):
        ident = 0
    query = select(AfterSale).where(AfterSale.id == ident)
    if member is not None:
        query = query.where(AfterSale.member_id == member.id)
    found = session.scalar(query)
    if found is None:
        raise NotFound(_l("After-sales request not found."))
    return found
