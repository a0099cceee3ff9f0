"""Who may do what, on every object-id route of the back office, the API and members' orders.

Refused means a redirect to the right sign-in page, 401, 403 or 404 (another member's order
is simply not found); the rightful actor is never refused.
"""
import io
from pathlib import Path

import pytest
from backoffice_helpers import admin_csrf, bearer, make_staff, shop, staff_login
from conftest import csrf, login
from marshmallow import Schema, fields
from sqlalchemy import select

from siyu.core import hookimpl
from siyu.core.after_sales import request_after_sale
from siyu.core.api_tokens import create_token
from siyu.core.db import utcnow, write_transaction
from siyu.core.media import add_product_image
from siyu.core.models import OutboxEntry, Payment
from siyu.core.payments.alarms import raise_alarm

ADMIN = [  # (method, path, least role)
    ("GET", "/admin/orders/{paid}", "agent"),
    ("POST", "/admin/orders/{placed}/mark-paid", "owner"),
    ("POST", "/admin/orders/{placed}/cancel", "owner"),
    ("POST", "/admin/orders/{paid}/refund", "owner"),
    ("POST", "/admin/orders/{paid}/alarms/{alarm}/retry-refund", "owner"),
    ("POST", "/admin/orders/{paid}/alarms/{alarm}/close", "owner"),
    ("GET", "/admin/members/{a}", "agent"),
    ("POST", "/admin/members/{a}/unlock", "owner"),
    ("GET", "/admin/products/{tea}", "owner"),
    ("POST", "/admin/products/{tea}", "owner"),
    ("POST", "/admin/products/{tea}/active", "owner"),
    ("POST", "/admin/products/{tea}/images", "owner"),
    ("POST", "/admin/products/{tea}/images/{image}/delete", "owner"),
    ("POST", "/admin/plugins/gift/state", "owner"),
    ("GET", "/admin/plugins/gift/settings", "owner"),
    ("POST", "/admin/plugins/gift/settings", "owner"),
    ("POST", "/admin/staff/{agent}/active", "owner"),
    ("POST", "/admin/staff/{agent}/unlock", "owner"),
    ("POST", "/admin/tokens/{owner_token}/revoke", "owner"),  # an agent may revoke only their own
    ("POST", "/admin/shipping/orders/{paid}/ship", "agent"),  # shipping moves goods, not money
    ("GET", "/admin/after-sales/{after_sale}", "agent"),
    ("GET", "/admin/after-sales/{after_sale}/photos/1", "agent"),
    ("POST", "/admin/after-sales/{after_sale}/approve", "owner"),
    ("POST", "/admin/after-sales/{after_sale}/reject", "owner"),
    ("POST", "/admin/after-sales/{after_sale}/receive", "owner"),
    ("POST", "/admin/after-sales/{after_sale}/refund", "owner"),
    ("POST", "/admin/outbox/{outbox_entry}/retry", "owner"),
]
API = [
    ("GET", "/api/v1/products/{tea}", "agent"),
    ("PATCH", "/api/v1/products/{tea}", "owner"),
    ("GET", "/api/v1/orders/{paid}", "agent"),
    ("POST", "/api/v1/orders/{placed}/mark-paid", "owner"),
    ("POST", "/api/v1/orders/{placed}/cancel", "owner"),
    ("GET", "/api/v1/orders/{paid}/refunds", "owner"),
    ("POST", "/api/v1/orders/{paid}/refunds", "owner"),
    ("GET", "/api/v1/members/{a}", "agent"),
    ("GET", "/api/v1/members/{a}/addresses", "agent"),
    ("GET", "/api/v1/orders/{paid}/shipments", "agent"),
    ("POST", "/api/v1/orders/{paid}/shipments", "agent"),
    ("GET", "/api/v1/after-sales/{after_sale}", "agent"),
    ("POST", "/api/v1/after-sales/{after_sale}/approve", "owner"),
    ("POST", "/api/v1/after-sales/{after_sale}/reject", "owner"),
    ("POST", "/api/v1/after-sales/{after_sale}/receive", "owner"),
    ("POST", "/api/v1/after-sales/{after_sale}/refund", "owner"),
]
MEMBER = [
    ("GET", "/orders/{number}"),
    ("GET", "/orders/{number}/pay"),
    ("POST", "/orders/{number}/pay"),
    ("GET", "/orders/{number}/return"),
    ("GET", "/orders/{number}/status.json"),
    ("POST", "/orders/{number}/cancel"),
]
#: Blueprints whose object-id routes this matrix must cover.
COVERED = ("admin_", "api_", "account", "checkout")


class Gift(Schema):
    note = fields.String(load_default="")


class GiftPlugin:
    __name__ = "gift"

    @hookimpl
    def register_settings_schemas(self, register):
        register("gift", Gift)


@pytest.fixture
def siyu_plugins():
    return [GiftPlugin()]


@pytest.fixture
def world(app, kernel, db):
    s = shop(kernel, db)
    owner, agent = make_staff(db, "owner"), make_staff(db, "agent")
    image = add_product_image(db, app.instance_path + "/media", s["tea"], b"GIF89a" + b"\0" * 20)
    owner_token, _secret = create_token(db, owner, "erp", "owner")
    after_sale = request_after_sale(app.extensions["siyu"], db, s["b_paid"], s["b"],
                                    line_id=s["b_paid"].lines[0].id, kind="refund_only", reason="other",
                                    photos=[b"GIF89a" + b"\0" * 20], media_root=Path(app.instance_path) / "private")
    alarm = payment_alarm(db, s["paid"])
    ids = {"alarm": alarm.id, "paid": s["paid"].id, "placed": s["placed"].id, "a": s["a"].id, "tea": s["tea"].id,
           "image": image.id, "agent": agent.id, "owner_token": owner_token.id, "number": s["placed"].number,
           "after_sale": after_sale.id, "outbox_entry": failed_outbox_entry(db).id}
    return {"ids": ids, "owner": owner, "agent": agent, "shop": s}


def failed_outbox_entry(db):
    """Follow-up work whose attempts ran out (an order notice for an order that is gone)."""
    now = utcnow()
    with write_transaction(db):
        entry = OutboxEntry(plugin="siyu.core.default_plugins.order_notices", task="siyu.order_notice",
                            key="matrix", payload={"order_id": 0, "notice": "order_shipped"}, state="failed",
                            attempts=8, next_attempt_at=now, last_error="RuntimeError: chat is down", created_at=now)
        db.add(entry)
    return entry


def payment_alarm(db, order):
    """An open payment alarm on ``order`` (as a webhook raises it), for the alarm routes."""
    with write_transaction(db):
        payment = db.scalar(select(Payment).where(Payment.order_id == order.id))
        alarm, _new = raise_alarm(db, "paid_after_cancel", order, payment, "paid after the order was cancelled")
    return alarm


def send(client, method, path, token=None, **kwargs):
    data = {"csrf_token": token} if token else {}
    if path.endswith("/images") and method == "POST":
        data["image"] = (io.BytesIO(b"GIF89a" + b"\0" * 20), "a.gif")
    if method == "GET":
        return client.get(path, **kwargs)
    if "json" in kwargs:
        return client.open(path, method=method, **kwargs)
    return client.open(path, method=method, data=data, **kwargs)


def refused(response, login_path=None) -> bool:
    if response.status_code == 302:
        return login_path is not None and login_path in response.headers["Location"]
    return response.status_code in (401, 403, 404)


@pytest.mark.parametrize("method,template,role", ADMIN, ids=[f"{m} {p}" for m, p, _ in ADMIN])
def test_back_office_routes(app, world, method, template, role):
    path = template.format(**world["ids"])
    anonymous = app.test_client()
    assert refused(send(anonymous, method, path, csrf(anonymous, "/admin/login")), "/admin/login")
    shopper = app.test_client()
    login(shopper, "a@example.com", "password-a1")
    assert refused(send(shopper, method, path, csrf(shopper, "/account/login")), "/admin/login"), "a member is not staff"
    agent = staff_login(app.test_client(), world["agent"])
    agent_response = send(agent, method, path, admin_csrf(agent))
    assert refused(agent_response) == (role == "owner"), agent_response.status_code
    owner = staff_login(app.test_client(), world["owner"])
    owner_response = send(owner, method, path, admin_csrf(owner))
    assert not refused(owner_response, "/admin/login"), owner_response.status_code
    assert owner_response.status_code < 500


@pytest.mark.parametrize("method,template,role", API, ids=[f"{m} {p}" for m, p, _ in API])
def test_api_routes(app, db, world, method, template, role):
    path = template.format(**world["ids"])
    client = app.test_client()
    body = {"json": {"amount": 100, "idempotency_key": "matrix-key-1"}} if path.endswith("/refunds") else {}
    if method == "POST" and path.endswith(("/shipments", "/reject")):
        body = {"json": {"carrier_code": "sf", "tracking_number": "SF1234567"}} \
            if path.endswith("/shipments") else {"json": {"note": "matrix"}}
    assert send(client, method, path, **body).status_code == 401
    staff_login(client, world["owner"])  # cookies never authenticate API calls
    login(client, "a@example.com", "password-a1")
    assert send(client, method, path, **body).status_code == 401
    agent_token = bearer(db, world["agent"])
    narrowed = bearer(db, world["owner"], role="agent")
    for headers in (agent_token, narrowed):
        response = send(app.test_client(), method, path, headers=headers, **body)
        assert (response.status_code == 403) == (role == "owner"), response.status_code
    response = send(app.test_client(), method, path, headers=bearer(db, world["owner"]), **body)
    assert response.status_code not in (401, 403, 404) and response.status_code < 500, response.json


@pytest.mark.parametrize("method,template", MEMBER, ids=[f"{m} {p}" for m, p in MEMBER])
def test_member_order_routes(app, world, method, template):
    path = template.format(**world["ids"])
    anonymous = app.test_client()
    assert refused(send(anonymous, method, path, csrf(anonymous, "/account/login")), "/account/login")
    other = app.test_client()
    login(other, "b@example.com", "password-b1")
    token = csrf(other, "/account/orders")
    response = send(other, method, path, token, headers={"X-CSRFToken": token})
    assert response.status_code == 404, "another member's order is not found"
    owner = app.test_client()
    login(owner, "a@example.com", "password-a1")
    token = csrf(owner, "/account/orders")
    response = send(owner, method, path, token, headers={"X-CSRFToken": token})
    assert not refused(response, "/account/login") and response.status_code < 500, response.status_code


def test_every_object_id_route_is_in_the_matrix(app):
    listed = {(m, t.split("{")[0]) for m, t, *_ in ADMIN + API + MEMBER}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or not rule.endpoint.startswith(COVERED):
            continue
        prefix = rule.rule.split("<")[0]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if not any(m == method and p.startswith(prefix) for m, p in listed):
                missing.append(f"{method} {rule.rule}")
    assert not missing, f"add these routes to the access matrix: {missing}"
