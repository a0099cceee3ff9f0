"""Helpers for the coupons tests (copied from the core's tests, which a plugin cannot import).
A distinct module name keeps them apart from the core's ``conftest`` in one run."""
from __future__ import annotations

import re

from siyu.plugin import Product, sign_up, write_transaction
from siyu_coupons.definitions import save_template

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"


def csrf(client, path: str = "/account/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def make_product(session, sku="SKU-1", price=1000, stock=100, active=True):
    with write_transaction(session):
        product = Product(sku=sku, title_zh=f"商品 {sku}", title_en=f"Product {sku}", description_zh="",
                          description_en="", price=price, currency="CNY", stock=stock, active=active)
        session.add(product)
    return product


def make_member(kernel, session, email="buyer@example.com", password="correct-horse"):
    return sign_up(kernel, session, email=email, password=password, name="Buyer")


def make_template(session, **values):
    data = {"name": "¥10 off", "kind": "fixed", "currency": "CNY", "amount": 1000, "percent_bp": 0,
            "max_discount": None, "min_spend": 0, "repeat": False, "valid_from": None, "valid_until": None,
            "valid_days": None, "quantity": None, "per_member_limit": 1, "scope": "all", "product_ids": [],
            "with_member_price": True, "active": True, "code": "", "description": ""}
    data.update(values)
    return save_template(session, data)


def fresh(session):
    session.rollback()
    session.expire_all()
    return session


def login(client, email="buyer@example.com", password="correct-horse"):
    token = csrf(client, "/account/login")
    response = client.post("/account/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def add_to_cart(client, product_id, quantity=1):
    token = csrf(client, f"/p/{product_id}")
    return client.post("/cart/add", data={"product_id": product_id, "quantity": quantity, "csrf_token": token})


def checkout_page(client):
    return client.get("/checkout").get_data(as_text=True)


def checkout(client, extra=None, payment_method="manual"):
    html = checkout_page(client)
    match = TOKEN.search(html)
    token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html)
    data = {"payment_method": payment_method, "checkout_token": token.group(1),
            "csrf_token": match.group(1) or match.group(2)}
    data.update(extra or {})
    return client.post("/checkout", data=data)


def staff_login(client, email="owner@shop.cn", password=OWNER_PW):
    token = csrf(client, "/admin/login")
    response = client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return response
