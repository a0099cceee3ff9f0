"""The crm_tags tests' own helpers: orders paid, shipped and completed through the services
(the generic ones, factories, CSRF, sign-in, ``fresh``, come from ``siyu.plugin.testing``)."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from siyu.plugin import mark_paid, Order, Payment, place_order, write_transaction
from siyu.plugin.testing import fresh

OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"


def buy(kernel, session, member, product, quantity=1, inputs=None, pay=True, complete=False) -> Order:
    """Place an order (manual payment) and, unless ``pay`` is False, confirm it paid; with
    ``complete``, also ship it and confirm receipt (points and levels count from there)."""
    order = place_order(kernel, session, member=member, items={product.id: quantity}, payment_method="manual",
                        checkout_token=secrets.token_hex(8), inputs=inputs or {})
    if pay:
        pay_order(kernel, session, order)
    if complete:
        complete_order(kernel, session, order)
    return order


def ship(kernel, session, order):
    from siyu.plugin import ship_order

    order = session.get(Order, order.id)
    ship_order(kernel, session, order, carrier_code="sf", tracking_number=f"SF{order.id:08d}")
    return order


def complete_order(kernel, session, order):
    """Ship the order (unless it has shipped) and have its buyer confirm receipt."""
    from siyu.plugin import confirm_receipt
    from siyu.plugin import Member, TO_SHIP_STATES

    order = fresh(session).get(Order, order.id)
    if order.status in TO_SHIP_STATES:
        ship(kernel, session, order)
    return confirm_receipt(kernel, session, order, session.get(Member, order.member_id))


def pay_order(kernel, session, order, at=None):
    with write_transaction(session):
        payment = Payment(order_id=order.id, provider="manual", reference=f"m-{order.number}",
                          amount=order.total, currency=order.currency, status="pending")
        session.add(payment)
        session.flush()
        assert mark_paid(kernel, session, order, payment)
        if at is not None:
            order.paid_at = at
    return order


def order_by_number(session, number):
    return session.scalar(select(Order).where(Order.number == number))
