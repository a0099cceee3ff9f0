"""Back office: staff sign-in apart from shoppers, roles, dashboard figures."""
from datetime import timedelta

import pytest
from conftest import csrf, login
from sqlalchemy import update

from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import ValidationError
from siyu.core.members import sign_up
from siyu.core.metrics import repurchase_rate
from siyu.core.models import Order
from siyu.core.orders import place_order
from siyu.core.staff import create_staff

OWNER_PW = "green-tea-garden-2026"
AGENT_PW = "oolong-hills-2026"


@pytest.fixture
def owner(db):
    return create_staff(db, email="owner@shop.cn", password=OWNER_PW, role="owner", name="Owner")


@pytest.fixture
def agent(db):
    return create_staff(db, email="agent@shop.cn", password=AGENT_PW, role="agent", name="Agent")


def staff_login(client, email, password):
    token = csrf(client, "/admin/login")
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})


def test_password_policy(db):
    with pytest.raises(ValidationError) as info:
        create_staff(db, email="x@shop.cn", password="short", role="owner")
    assert "password" in info.value.fields
    with pytest.raises(ValidationError):
        create_staff(db, email="x@shop.cn", password="aaaaaaaaaaaaaaaa", role="owner")
    with pytest.raises(ValidationError):
        create_staff(db, email="x@shop.cn", password="long-enough-password", role="king")


def test_create_owner_command(runner):
    result = runner.invoke(args=["siyu", "create-owner", "--email", "boss@shop.cn", "--password",
                                 "jasmine-pearls-2026"])
    assert result.exit_code == 0, result.output
    bad = runner.invoke(args=["siyu", "create-owner", "--email", "b2@shop.cn", "--password", "weak"])
    assert bad.exit_code != 0 and "password" in bad.output


def test_admin_requires_staff_and_member_login_does_not_count(client, member, owner):
    assert client.get("/admin/").status_code == 302
    login(client)  # a shopper
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_wrong_password_and_tampered_cookie(client, owner):
    assert staff_login(client, "owner@shop.cn", "wrong-password!!").status_code == 401
    client.set_cookie("siyu_staff", "forged.value.here", path="/admin")
    assert client.get("/admin/").status_code == 302


def test_staff_session_is_separate_and_scoped_to_admin(client, owner, member):
    response = staff_login(client, "owner@shop.cn", OWNER_PW)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "siyu_staff=" in cookie and "Path=/admin" in cookie and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert client.get("/admin/").status_code == 200
    # the shopper signs out; the staff session stays
    login(client)
    client.post("/account/logout", data={"csrf_token": csrf(client, "/")})
    assert client.get("/admin/").status_code == 200


def test_password_change_ends_staff_sessions(client, owner, db):
    staff_login(client, "owner@shop.cn", OWNER_PW)
    with write_transaction(db):
        db.get(type(owner), owner.id).password_hash = "scrypt:changed$abcdefabcdef"
    assert client.get("/admin/").status_code == 302


def test_agent_sees_no_sales_figures(client, agent):
    staff_login(client, "agent@shop.cn", AGENT_PW)
    html = client.get("/admin/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Repurchase rate" not in html and "Dashboard" in html


def paid_order(kernel, db, member, product, token, days_ago=0):
    order = place_order(kernel, db, member=member, items={product.id: 1}, payment_method="manual",
                        checkout_token=token)
    with write_transaction(db):
        db.execute(update(Order).where(Order.id == order.id)
                   .values(status="paid", paid_at=utcnow() - timedelta(days=days_ago)))
    return order


def test_repurchase_rate_on_the_dashboard(client, owner, kernel, db, products):
    a = sign_up(kernel, db, email="a@example.com", password="password-a1")
    b = sign_up(kernel, db, email="b@example.com", password="password-b1")
    c = sign_up(kernel, db, email="c@example.com", password="password-c1")
    paid_order(kernel, db, a, products[0], "a1")
    paid_order(kernel, db, a, products[0], "a2", days_ago=3)
    paid_order(kernel, db, b, products[1], "b1")
    place_order(kernel, db, member=c, items={products[0].id: 1}, payment_method="manual",
                checkout_token="c-unpaid")
    assert repurchase_rate(db) == (1, 2)
    staff_login(client, "owner@shop.cn", OWNER_PW)
    html = client.get("/admin/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "50.0%" in html and "1 of 2 buyers" in html
    assert "<svg" in html and "¥30.00" in html  # today: 10.00 + 20.00


def test_failing_widget_is_skipped(app, client, owner, register_plugin, caplog):
    import logging

    from siyu.core import hookimpl

    def broken(session, staff):
        raise RuntimeError("widget down")

    class Widgets:
        @hookimpl
        def register_dashboard_widgets(self, register):
            register("broken", "Broken", broken)
            register("fine", "Fine", lambda s, st: "all good")

    register_plugin(Widgets(), name="widgets")  # the kernel's registry of widgets follows its plugins
    staff_login(client, "owner@shop.cn", OWNER_PW)
    with caplog.at_level(logging.ERROR, logger="siyu.plugins"):
        response = client.get("/admin/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "all good" in html and "widget-broken" not in html
    assert "plugin widgets failed in dashboard widget broken; skipped" in [r.getMessage() for r in caplog.records]
