"""Helpers for the back-office and API tests: staff, tokens, paid orders."""
from __future__ import annotations

from conftest import TOKEN, csrf, make_product

from siyu.core.api_tokens import create_token
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.core.orders import confirm_manual_payment, place_order
from siyu.core.staff import create_staff

OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"


def make_staff(db, role: str, email: str | None = None):
    return create_staff(db, email=email or f"{role}@shop.cn", password=OWNER_PW if role == "owner" else AGENT_PW,
                        role=role, name=role.title())


def staff_login(client, staff):
    token = csrf(client, "/admin/login")
    response = client.post("/admin/login", data={
        "email": staff.email, "password": OWNER_PW if staff.role == "owner" else AGENT_PW, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def admin_csrf(client, path: str = "/admin/") -> str:
    html = client.get(path).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def bearer(db, staff, role: str | None = None) -> dict:
    _token, secret = create_token(db, staff, f"{staff.role} token", role or staff.role)
    return {"Authorization": f"Bearer {secret}"}


def placed_order(kernel, db, member, product, token: str, quantity: int = 1):
    """A placed order awaiting a manual payment, as checkout leaves it."""
    order = place_order(kernel, db, member=member, items={product.id: quantity}, payment_method="manual",
                        checkout_token=token)
    with write_transaction(db):
        kernel.provider("manual").start(kernel, db, order)
    return order


def paid_order(kernel, db, member, product, token: str, quantity: int = 1):
    order = placed_order(kernel, db, member, product, token, quantity)
    confirm_manual_payment(kernel, db, order)
    return order


def shop(kernel, db):
    """Two members, two products, one placed and one paid order each for member A."""
    a = sign_up(kernel, db, email="a@example.com", password="password-a1", name="Alice")
    b = sign_up(kernel, db, email="b@example.com", password="password-b1", name="Bob")
    tea = make_product(db, "TEA", price=5000, stock=50)
    cup = make_product(db, "CUP", price=1200, stock=50)
    return {"a": a, "b": b, "tea": tea, "cup": cup,
            "placed": placed_order(kernel, db, a, cup, "a-placed"),
            "paid": paid_order(kernel, db, a, tea, "a-paid", 2),
            "b_paid": paid_order(kernel, db, b, tea, "b-paid")}
