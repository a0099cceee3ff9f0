"""After-sales (售后) per order line: refund only, or return and refund.

    requested ─ approve ─▶ approved ───────────────────────────── refund ─▶ refunded
        │         (return) └▶ awaiting_return ─ tracking ─▶ returned ─ receive ─▶ received ─ refund ─▶ refunded
        ├─ reject (also from awaiting_return, returned) ─▶ rejected
        └─ withdraw (also from awaiting_return) ─▶ withdrawn

The request and what it may claim are in ``siyu.core.after_sales_requests`` (re-exported
here); this module holds the steps after it. Each step locks the order row and moves the
request with a conditional UPDATE on its state. The refund goes through
``siyu.core.refunds`` with the request's own idempotency key, so ``on_order_refunded``
runs once however often it is retried or clicked.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from siyu.core import fulfilment
from siyu.core.addresses import clean_text
from siyu.core.after_sales_requests import (  # noqa: F401  (the public names, importable from here)
    KINDS, MAX_PHOTOS, NOTE_MAX, PHOTO_FOLDER, REASONS, REQUESTABLE, STATES, S, claimable, get_after_sale,
    line_paid_amounts, request_after_sale, within_window,
)
from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import InvalidTransition, NotFound, ValidationError
from siyu.core.hooks import call_in_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import AfterSale, AfterSaleKind, Member, Order, OrderLine, Product

def _move(session: Session, request: AfterSale, sources: Sequence[S], target: S, **values) -> bool:
    done = session.execute(update(AfterSale).where(
        AfterSale.id == request.id, AfterSale.state.in_([s.value for s in sources]))
        .values(state=target.value, **values).execution_options(synchronize_session=False))
    session.refresh(request)
    return done.rowcount == 1


def _locked(session: Session, request: AfterSale) -> Order:
    return fulfilment.lock_order(session, request.order_id)


def approve(kernel, session: Session, request: AfterSale, staff_id: int | None = None) -> AfterSale:
    """Approve: refund only → ``approved`` (units never shipped go back to stock now);
    return → ``awaiting_return``. Runs ``on_after_sale_decided(decision="approved")``."""
    with write_transaction(session):
        order = _locked(session, request)
        target = S.APPROVED if request.kind == AfterSaleKind.REFUND_ONLY.value else S.AWAITING_RETURN
        if not _move(session, request, [S.REQUESTED], target, staff_id=staff_id, decided_at=utcnow()):
            raise InvalidTransition(_l("Only a new request can be approved."))
        if request.unshipped:
            _restock(session, request)
            fulfilment.settle_shipping(session, order)
        call_in_transaction(kernel.pm, "on_after_sale_decided", kernel=kernel, session=session, order=order,
                            after_sale=request, decision="approved")
    return request


def reject(kernel, session: Session, request: AfterSale, note: str, staff_id: int | None = None) -> AfterSale:
    """Reject with a reason the shopper sees (before the goods are received back)."""
    note = clean_text(note)
    if not 0 < len(note) <= 200:
        raise ValidationError(_l("Give the shopper a reason (at most 200 characters)."),
                              fields={"note": _l("required, at most 200 characters")})
    with write_transaction(session):
        order = _locked(session, request)
        if not _move(session, request, [S.REQUESTED, S.AWAITING_RETURN, S.RETURNED], S.REJECTED,
                     decision_note=note, staff_id=staff_id, decided_at=utcnow()):
            raise InvalidTransition(_l("This request can no longer be rejected."))
        call_in_transaction(kernel.pm, "on_after_sale_decided", kernel=kernel, session=session, order=order,
                            after_sale=request, decision="rejected")
    return request


def withdraw(kernel, session: Session, request: AfterSale, member: Member) -> AfterSale:
    """The shopper takes a request back before anything was refunded or sent back."""
    if request.member_id != member.id:
        raise NotFound(_l("After-sales request not found."))
    with write_transaction(session):
        _locked(session, request)
        if not _move(session, request, [S.REQUESTED, S.AWAITING_RETURN], S.WITHDRAWN):
            raise InvalidTransition(_l("This request can no longer be withdrawn."))
    return request


def record_return_shipment(kernel, session: Session, request: AfterSale, member: Member, carrier: str,
                           tracking_number: str) -> AfterSale:
    """The shopper sent the goods back: ``awaiting_return`` → ``returned`` (may be corrected
    until the shop has received them)."""
    if request.member_id != member.id:
        raise NotFound(_l("After-sales request not found."))
    carrier, number = clean_text(carrier)[:32], clean_text(tracking_number)
    if not fulfilment.TRACKING.match(number):
        raise ValidationError(_l("Please correct the highlighted fields."), fields={
            "return_tracking_number": _l("Enter the tracking number: 4 to 64 letters, digits or dashes.")})
    with write_transaction(session):
        _locked(session, request)
        if not _move(session, request, [S.AWAITING_RETURN, S.RETURNED], S.RETURNED, return_carrier=carrier,
                     return_tracking_number=number, returned_at=utcnow()):
            raise InvalidTransition(_l("A return can be sent only once the request is approved."))
    return request


def mark_received(kernel, session: Session, request: AfterSale, staff_id: int | None = None) -> AfterSale:
    """The returned goods arrived: ``received``, and their stock comes back (once)."""
    with write_transaction(session):
        _locked(session, request)
        if not _move(session, request, [S.AWAITING_RETURN, S.RETURNED], S.RECEIVED, received_at=utcnow(),
                     staff_id=staff_id):
            raise InvalidTransition(_l("Only an approved return can be marked as received."))
        _restock(session, request)
    return request


def _restock(session: Session, request: AfterSale) -> None:
    product_id = session.scalar(select(OrderLine.product_id).where(OrderLine.id == request.order_line_id))
    if product_id is not None:
        session.execute(update(Product).where(Product.id == product_id)
                        .values(stock=Product.stock + request.quantity).execution_options(synchronize_session=False))


def refund(kernel, session: Session, request: AfterSale, staff_id: int | None = None) -> AfterSale:
    """Pay the request back through the order's provider: ``approved`` (refund only) or
    ``received`` (return) → ``refunded``. Idempotent: the request's own key means one refund
    however often it is retried or clicked concurrently; a provider failure leaves the
    request where it was and the refund pending, to be retried."""
    from siyu.core.refunds import refund_order

    ready = S.APPROVED if request.kind == AfterSaleKind.REFUND_ONLY.value else S.RECEIVED
    if request.state == S.REFUNDED.value:
        return request
    if request.state != ready.value:
        raise InvalidTransition(_l("This request is not ready to be refunded."))
    order = session.get(Order, request.order_id)
    done = refund_order(kernel, session, order, request.amount, request.refund_key,
                        reason=f"after-sale {request.id}", staff_id=staff_id)
    with write_transaction(session):
        _locked(session, request)
        _move(session, request, [ready], S.REFUNDED, refund_id=done.id, refunded_at=utcnow())
    return request
