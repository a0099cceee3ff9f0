"""The distribution tests' own helpers: distributors, referral touches, paid and completed
orders (the generic ones, factories, CSRF, sign-in, ``fresh``, come from ``siyu.plugin.testing``)."""
from __future__ import annotations

from datetime import timedelta
from itertools import count

from sqlalchemy import select

from siyu.plugin import (
    Payment,
    confirm_manual_payment,
    create_staff,
    place_order,
    refund_order,
    sign_up,
    utcnow,
    write_transaction,
)
from siyu.plugin.testing import fresh, process_event

from siyu_distribution import distributors
from siyu_distribution.models import Link

OWNER_PW = "green-tea-garden-2026"
_seq = count(1)


def make_owner(db):
    return create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner", name="Owner")


def member(kernel, db, name=None):
    name = name or f"m{next(_seq)}"
    return sign_up(kernel, db, email=f"{name}@example.com", password="correct-horse", name=name)


def make_distributor(kernel, db, recruiter=None, name=None):
    """An approved distributor (and their member), recruited by ``recruiter`` if given."""
    m = member(kernel, db, name)
    invite = None
    if recruiter is not None:
        invite = db.scalar(select(Link.code).where(Link.distributor_id == recruiter.id).limit(1))
    row = distributors.apply(db, m, motivation="I love tea", invite_code=invite)
    return distributors.approve(db, row.id)


def link_of(db, distributor):
    return db.scalar(select(Link).where(Link.distributor_id == distributor.id).order_by(Link.id).limit(1))


def bind_to(db, buyer, distributor, at=None):
    """Record a referral touch for ``buyer`` as if they had followed the distributor's link."""
    from siyu.plugin import Touch

    with write_transaction(db):
        db.add(Touch(visitor_id=f"v-{buyer.id}", member_id=buyer.id, source="ref",
                     value=link_of(db, distributor).code, created_at=at or utcnow() - timedelta(minutes=1)))


def paid_order(kernel, db, buyer, items, token=None):
    """Place an order and confirm its manual payment (runs on_order_placed and on_order_paid)."""
    order = place_order(kernel, db, member=buyer, items=items, payment_method="manual",
                        checkout_token=token or f"tok-{next(_seq)}")
    with write_transaction(db):
        db.add(Payment(order_id=order.id, provider="manual", reference=f"man-{order.id}",
                       amount=order.total, currency=order.currency))
    confirm_manual_payment(kernel, db, order)
    return order


def refund_order_now(kernel, session, order, amount, key):
    """A refund as its provider reports it: the shop refunds a manual payment itself; a card
    refund arrives as Stripe's ``charge.refunded`` event (as a dashboard refund does)."""
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded"))
    if payment.provider == "manual":
        return refund_order(kernel, session, order, amount, key)
    session.refresh(order)
    event = {"id": f"evt_{key}", "type": "charge.refunded", "data": {"object": {
        "id": f"ch_{key}", "payment_intent": payment.reference, "amount_refunded": order.refunded_amount + amount}}}
    assert process_event(kernel, session, event) == "processed"


def complete(kernel, session, order, at=None):
    """Ship the order (unless it has shipped) and have the buyer confirm receipt (runs on_order_shipped and
    on_order_completed); ``at`` back-dates the completion, for return-window tests."""
    from sqlalchemy import update

    from siyu.plugin import TO_SHIP_STATES, Member, Order, confirm_receipt, ship_order

    order = fresh(session).get(Order, order.id)
    if order.status in TO_SHIP_STATES:
        ship_order(kernel, session, order, carrier_code="sf", tracking_number=f"SF{order.id:08d}")
    confirm_receipt(kernel, session, order, session.get(Member, order.member_id))
    if at is not None:
        with write_transaction(session):
            session.execute(update(Order).where(Order.id == order.id).values(completed_at=at))
    return fresh(session).get(Order, order.id)
