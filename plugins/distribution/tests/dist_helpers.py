"""Helpers and the shared fixture of the distribution plugin's tests.

Not a ``conftest.py``: the core's tests import helpers from their own ``conftest`` module, and
in one session with both a second ``conftest`` module would shadow theirs. Test modules import
``siyu_config`` from here, which enables the plugin for every test in them.
"""
from __future__ import annotations

import re
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select

from siyu.plugin import (
    Payment,
    Product,
    confirm_manual_payment,
    create_staff,
    place_order,
    refund_order,
    sign_up,
    utcnow,
    write_transaction,
)
from siyu.plugin.testing import process_event

from siyu_distribution import distributors
from siyu_distribution.models import Link

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
OWNER_PW = "green-tea-garden-2026"
_seq = count(1)


@pytest.fixture
def siyu_config():
    return {"PLUGINS": ["distribution"]}


def csrf(client, path="/account/login"):
    html = client.get(path).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, email, password="correct-horse"):
    response = client.post("/account/login", data={"email": email, "password": password,
                                                   "csrf_token": csrf(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def staff_login(client, email="owner@shop.cn", password=OWNER_PW):
    token = csrf(client, "/admin/login")
    response = client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302


def make_owner(db):
    return create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner", name="Owner")


def make_product(session, sku=None, price=10000, stock=100):
    with write_transaction(session):
        product = Product(sku=sku or f"SKU-{next(_seq)}", title_zh="茶", title_en="Tea", description_zh="",
                          description_en="", price=price, currency="CNY", stock=stock, active=True)
        session.add(product)
    return product


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


def fresh(session):
    session.rollback()
    session.expire_all()
    return session


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
