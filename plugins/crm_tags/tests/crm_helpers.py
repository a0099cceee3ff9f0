"""Helpers for the crm_tags tests (copied small helpers: the core's conftest is not importable)."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import select

from siyu.plugin import mark_paid, Order, Payment, place_order, Product, sign_up, write_transaction

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"


def csrf(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def staff_login(client, email="owner@shop.cn", password=OWNER_PW):
    token = csrf(client, "/admin/login")
    response = client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return response


def login(client, email="buyer@example.com", password="correct-horse"):
    token = csrf(client, "/account/login")
    response = client.post("/account/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return response


def make_product(session, sku="SKU-1", price=1000, stock=100):
    with write_transaction(session):
        product = Product(sku=sku, title_zh=f"商品 {sku}", title_en=f"Product {sku}", description_zh="",
                          description_en="", price=price, currency="CNY", stock=stock, active=True, position=0)
        session.add(product)
    return product


def make_member(kernel, session, email="buyer@example.com"):
    return sign_up(kernel, session, email=email, password="correct-horse", name=email.split("@")[0])


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


def fresh(session):
    session.rollback()
    session.expire_all()
    return session


def order_by_number(session, number):
    return session.scalar(select(Order).where(Order.number == number))
