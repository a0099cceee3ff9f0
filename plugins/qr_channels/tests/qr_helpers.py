"""Helpers for the qr_channels tests (copied from the core's tests, which a plugin cannot
import). A distinct module name keeps them apart from the core's ``conftest`` in one run."""
from __future__ import annotations

import re

from siyu.plugin import Product, write_transaction
from siyu.plugin.testing import TEST_ADDRESS

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40")


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


def fresh(session):
    session.rollback()
    session.expire_all()
    return session


def signup(client, email="buyer@example.com", password="correct-horse"):
    token = csrf(client, "/account/signup")
    response = client.post("/account/signup", data={"email": email, "password": password,
                                                     "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def checkout(client, product_id, quantity=1):
    token = csrf(client, f"/p/{product_id}")
    client.post("/cart/add", data={"product_id": product_id, "quantity": quantity, "csrf_token": token})
    page = client.get("/checkout")
    html = page.get_data(as_text=True)
    if 'name="address_id"' not in html:  # a new shopper: goods that ship need an address
        client.post("/account/addresses/new", data={**TEST_ADDRESS, "csrf_token": csrf(client, "/account/addresses/new")})
        page = client.get("/checkout")
        html = page.get_data(as_text=True)
    assert "checkout_token" in html, (page.status_code, page.headers.get("Location"), html[-1500:])
    match = TOKEN.search(html)
    checkout_token = re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', html)
    return client.post("/checkout", data={"payment_method": "manual", "checkout_token": checkout_token.group(1),
                                          "csrf_token": match.group(1) or match.group(2)})


def staff_login(client, email="owner@shop.cn", password=OWNER_PW):
    token = csrf(client, "/admin/login")
    response = client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return response
