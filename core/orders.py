"""Order services: place, pay, cancel, expire. Refunds live in ``siyu.core.refunds``.

Every state change is one transaction that also runs the lifecycle hooks, and every
transition is a conditional UPDATE (``WHERE status = 'placed'``), so concurrent requests
and replayed webhooks change an order once and never move it backwards.

Paying and cancelling agree: a card payment is confirmed, and an order cancelled, inside one
payment step of the order (``siyu.core.payments.steps``: the order's row lock on PostgreSQL),
and a cancel stops the provider's intent *before* the order is cancelled, refusing when the
provider says the money is taken or being taken. So a shopper is never charged for an order
that ends cancelled; should the provider take money anyway (a success arriving for a
cancelled order), the webhook raises a payment alarm and refunds it automatically (see
``siyu.core.payments.webhooks`` and ``siyu.core.refunds``).
"""
from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from siyu.core.db import utcnow, write_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.errors import InvalidTransition, NotFound, OutOfStock, PaymentError, ValidationError
from siyu.core.hooks import call_in_transaction
from siyu.core.models import (
    Member, Order, OrderAdjustment, OrderLine, OrderStatus, Payment, PaymentStatus, Product,
)
from siyu.core.payments.steps import begin_writes, payment_step, stop_payments
from siyu.core.delivery import attach_delivery
from siyu.core.pricing import PricedCart, gather_inputs, price_cart, validate_quantities
from siyu.core.cancel_reasons import check_reason
from siyu.core import reservations

ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
log = logging.getLogger("siyu.payments")


def new_order_number() -> str:
    return "SY" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(10))


def load_cart_products(session: Session, quantities: Mapping[int, int]) -> list[tuple[Product, int]]:
    """Active products for the given ids, in id order; unknown or inactive ids are refused."""
    if not quantities:
        return []
    products = {
        p.id: p
        for p in session.scalars(
            select(Product).where(Product.id.in_(list(quantities)), Product.active.is_(True))
        )
    }
    missing = [pid for pid in quantities if pid not in products]
    if missing:
        raise NotFound(
            _l("Some products are no longer available."),
            fields={str(pid): _l("unknown or unavailable product") for pid in missing},
        )
    return [(products[pid], quantities[pid]) for pid in sorted(quantities)]


def quote(kernel, session: Session, member: Member | None, items: Mapping[Any, Any],
          inputs: Mapping[str, str] | None = None, *, where: str = "cart",
          browser: Mapping[str, Any] | None = None) -> PricedCart:
    """Price a cart for display; nothing is written.

    ``where`` is the page (``cart`` or ``checkout``) and ``browser`` what the shopper's browser
    session holds (the storefront passes its signed cookie's values): plugins add inputs from
    them through ``pricing_inputs``, as ``place_order`` does, so the page shows the price the
    order will be placed at.
    """
    quantities = validate_quantities(items)
    inputs = gather_inputs(kernel, session, member, quantities, inputs, where, browser)
    return price_cart(kernel, session, load_cart_products(session, quantities), member, inputs)


def place_order(
    kernel,
    session: Session,
    *,
    member: Member,
    items: Mapping[Any, Any],
    payment_method: str,
    checkout_token: str,
    inputs: Mapping[str, str] | None = None,
    locale: str = "zh_CN",
    visitor_id: str | None = None,
    browser: Mapping[str, Any] | None = None,
    attribution: Mapping[str, Any] | None = None,
) -> Order:
    """Place an order from ``{product_id: quantity}``: price it, reserve stock, run hooks.

    ``attribution``: what the storefront read from the request about where the shopper came
    from, by plugin (``request_attribution``); ``on_order_placed`` receives it.

    ``inputs`` (the checkout form's plugin fields) and ``browser`` (the shopper's browser
    session, from the storefront) reach pricing as on the cart and checkout pages
    (``pricing_inputs``, ``where="order"``).

    Idempotent per ``checkout_token``: submitting the same checkout twice returns the
    first order. Raises ``ValidationError``, ``NotFound``, ``OutOfStock`` or
    ``UnpaidLimitReached`` (``siyu.core.reservations``) with nothing written.
    """
    if not checkout_token or len(checkout_token) > 64:
        raise ValidationError(_l("The checkout form has expired; please try again."),
                              fields={"checkout_token": _l("missing or too long")})
    if kernel.provider(payment_method) is None:
        raise ValidationError(_l("Choose a payment method."), fields={"payment_method": _l("not available")})
    existing = _order_for_token(session, checkout_token, member)
    if existing is not None:
        return existing
    quantities = validate_quantities(items)
    if not quantities:
        raise ValidationError(_l("Your cart is empty."), fields={"cart": _l("empty")})
    # Overdue reservations of this member and of these products go first (each committed).
    reservations.release_overdue(kernel, session, member_id=member.id, product_ids=quantities)
    try:
        with write_transaction(session):
            reservations.lock_member(session, member.id)  # this member's checkouts, one at a time
            existing = _order_for_token(session, checkout_token, member)
            if existing is not None:  # the same form, submitted concurrently, won the lock
                return existing
            reservations.enforce(session, member.id, visitor_id, sum(quantities.values()), utcnow())
            inputs = gather_inputs(kernel, session, member, quantities, inputs, "order", browser)
            priced = price_cart(kernel, session, load_cart_products(session, quantities), member, inputs)
            for line in priced.lines:  # id order: concurrent checkouts lock rows alike
                _reserve_stock(session, line.product, line.quantity)
            order = _new_order(kernel, member, priced, payment_method, checkout_token, locale, visitor_id)
            session.add(order)
            session.flush()
            attach_delivery(session, member, order, priced)
            call_in_transaction(kernel.pm, "on_order_placed", kernel=kernel, session=session, order=order, cart=priced,
                                attribution=dict(attribution or {}))
    except IntegrityError:
        # The same checkout submitted concurrently: the other request placed it.
        existing = _order_for_token(session, checkout_token, member)
        if existing is None:
            raise
        return existing
    return order


def _order_for_token(session: Session, token: str, member: Member) -> Order | None:
    order = session.scalar(select(Order).where(Order.checkout_token == token))
    if order is not None and order.member_id != member.id:
        raise ValidationError(_l("The checkout form has expired; please try again."))
    return order


def _reserve_stock(session: Session, product: Product, quantity: int) -> None:
    result = session.execute(
        update(Product)
        .where(Product.id == product.id, Product.active.is_(True), Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise OutOfStock(
            _l("Not enough stock for %(sku)s.", sku=product.sku),
            fields={str(product.id): _l("not enough stock")},
            sku=product.sku,
        )


def _reservation_minutes(kernel, payment_method: str) -> int:
    """How long the order holds its stock unpaid: the provider's own term, else the shop's."""
    provider = kernel.provider(payment_method)
    own = provider.reservation_minutes(kernel.config) if provider is not None else None
    return int(own) if own is not None else int(kernel.config["RESERVATION_MINUTES"])


def _new_order(kernel, member, priced: PricedCart, payment_method, token, locale, visitor_id) -> Order:
    now = utcnow()
    order = Order(
        number=new_order_number(),
        member_id=member.id,
        status=OrderStatus.PLACED.value,
        currency=priced.currency,
        subtotal=priced.subtotal,
        adjustment_total=priced.adjustment_total,
        total=priced.total,
        refunded_amount=0,
        payment_method=payment_method,
        checkout_token=token,
        locale=locale,
        visitor_id=visitor_id,
        placed_at=now,
        expires_at=now + timedelta(minutes=_reservation_minutes(kernel, payment_method)),
    )
    for line in priced.lines:
        order.lines.append(OrderLine(
            product_id=line.product.id, sku=line.sku, title_zh=line.product.title_zh,
            title_en=line.product.title_en, unit_price=line.unit_price, quantity=line.quantity,
            subtotal=line.subtotal, total=line.total, requires_shipping=line.product.requires_shipping,
        ))
    # Nothing to deliver when every product is virtual; the checkout may choose pickup.
    order.delivery_method = "express" if any(line.requires_shipping for line in order.lines) else "none"
    for adj in priced.adjustments:
        order.adjustments.append(OrderAdjustment(
            stage=adj.stage, source=adj.source, code=adj.code, label=str(adj.label),
            amount=adj.amount, sku=adj.sku, data=adj.data,
        ))
    return order


def mark_paid(kernel, session: Session, order: Order, payment: Payment) -> bool:
    """Move ``order`` from placed to paid inside the caller's transaction.

    Returns False (and changes nothing) when the order is not placed any more: a replayed
    or concurrent webhook, or a payment for a cancelled order.
    """
    now = utcnow()
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == OrderStatus.PLACED.value)
        .values(status=OrderStatus.PAID.value, paid_at=now, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.refresh(order)
    payment.status = PaymentStatus.SUCCEEDED.value
    payment.last_error = None
    session.flush()
    call_in_transaction(kernel.pm, "on_order_paid", kernel=kernel, session=session, order=order, payment=payment)
    return True


def staff_confirmed(kernel) -> list[str]:
    """Names of the gateways whose payments staff confirm by hand."""
    return [name for name, gateway in kernel.payment_providers.items() if gateway.supports.staff_confirm]


def confirm_manual_payment(kernel, session: Session, order: Order) -> Payment:
    """Staff confirm that a bank transfer or cash on delivery arrived (a gateway whose
    ``supports.staff_confirm`` is true)."""
    with write_transaction(session):
        payment = session.scalar(
            select(Payment).where(Payment.order_id == order.id, Payment.provider.in_(staff_confirmed(kernel)))
        )
        if payment is None or not mark_paid(kernel, session, order, payment):
            raise InvalidTransition(_l("Only a placed order awaiting a manual payment can be marked paid."))
    return payment


def settle_free_order(kernel, session: Session, order: Order) -> Payment:
    """An order that discounts brought to zero is paid at once: no provider can charge 0."""
    if order.total != 0:
        raise InvalidTransition(_l("Only an order with nothing to pay can be settled for free."))
    with write_transaction(session):
        payment = Payment(order_id=order.id, provider="free", reference=f"free-{order.number}",
                          amount=0, currency=order.currency, status=PaymentStatus.PENDING.value)
        session.add(payment)
        session.flush()
        if not mark_paid(kernel, session, order, payment):
            raise InvalidTransition(_l("Only an unpaid order can be cancelled."))
    return payment


def cancel_order(kernel, session: Session, order: Order, reason: str) -> None:
    """Cancel an unpaid order: its payments at their provider first, then the order here
    (stock released, ``on_order_cancelled`` run).

    ``reason`` is one of the core's (``customer``, ``staff``, ``payment_failed``, ``expired``)
    or a plugin's own, namespaced by the plugin (``group_buy:failed``, at most 32 characters;
    its label: ``siyu.core.cancel_reasons.register_cancel_reason``); anything else is a
    ``ValueError``, before anything changes.

    Raises ``InvalidTransition`` (409) when the order is not placed any more, or when the
    provider says its payment went through or is going through (the webhook then marks it
    paid); ``PaymentError`` (502/503) when the provider could not be asked: nothing changed.
    """
    check_reason(reason)
    with payment_step(session, order) as locked:
        if locked.status != OrderStatus.PLACED.value:
            raise InvalidTransition(_l("Only an unpaid order can be cancelled."))
        stop_payments(kernel, session, locked)
        begin_writes(session)
        if not _cancel(kernel, session, locked, reason):
            raise InvalidTransition(_l("Only an unpaid order can be cancelled."))


def _cancel(kernel, session: Session, order: Order, reason: str) -> bool:
    result = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status == OrderStatus.PLACED.value)
        .values(status=OrderStatus.CANCELLED.value, cancelled_at=utcnow(), cancel_reason=reason,
                expires_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.refresh(order)
    for payment in _pending_payments(session, order):
        payment.status = PaymentStatus.CANCELLED.value
    for line in order.lines:
        if line.product_id is not None:
            session.execute(
                update(Product).where(Product.id == line.product_id)
                .values(stock=Product.stock + line.quantity)
                .execution_options(synchronize_session=False)
            )
    call_in_transaction(kernel.pm, "on_order_cancelled", kernel=kernel, session=session, order=order, reason=reason)
    return True


def _pending_payments(session: Session, order: Order) -> list[Payment]:
    return list(session.scalars(select(Payment).where(
        Payment.order_id == order.id, Payment.status == PaymentStatus.PENDING.value)))


def payment_failed(kernel, session: Session, payment: Payment, message: str) -> bool:
    """A card payment failed: record why and cancel the order, releasing stock and holds.

    Inside the caller's (webhook) transaction. Returns False, changing nothing, when the
    order is no longer placed (a concurrent delivery paid it). The shopper starts a new
    checkout from the cart, which is kept until an order is paid.
    """
    order = session.get(Order, payment.order_id)
    if order is not None and not _cancel(kernel, session, order, "payment_failed"):
        return False
    payment.status = PaymentStatus.FAILED.value
    payment.last_error = message[:500]
    return True


def expire_unpaid(kernel, session: Session, now: datetime | None = None, *, where=None,
                  limit: int | None = None) -> int:
    """Cancel placed orders whose reservation ran out; returns how many.

    Each goes through ``cancel_order`` (the provider first): an order whose payment is under
    way is left to its webhook, and one whose provider did not answer waits for the next run.
    ``where`` narrows it to some orders and ``limit`` bounds it (expiry on read, see
    ``siyu.core.reservations``).
    """
    now = now or utcnow()
    query = select(Order.id).where(Order.status == OrderStatus.PLACED.value, Order.expires_at <= now)
    if where is not None:
        query = query.where(where)
    ids = list(session.scalars(query.order_by(Order.id).limit(limit)))
    count = 0
    for order_id in ids:
        order = session.get(Order, order_id)
        if order is None:
            continue
        try:
            cancel_order(kernel, session, order, "expired")
        except InvalidTransition:
            continue  # paid meanwhile, or its payment is going through
        except PaymentError as exc:
            log.warning("order %s not expired yet: the payment provider did not answer: %s",
                        order.number, exc.__cause__ or exc,
                        extra={"order_number": order.number, "payment_reference": "-", "payment_alarm": "-"})
            continue
        count += 1
    return count


def order_for_member(session: Session, number: str, member: Member) -> Order:
    """The member's own order by number; another member's order is simply not found."""
    order = session.scalar(select(Order).where(Order.number == number, Order.member_id == member.id))
    if order is None:
        raise NotFound(_l("Order not found."))
    return order
