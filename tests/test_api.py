"""REST API: token authentication and scope, problem errors, pagination, plugin endpoints."""
import pytest
from backoffice_helpers import bearer, make_staff, shop, staff_login
from conftest import fresh
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from siyu.core import hookimpl
from siyu.core.db import write_transaction
from siyu.core.models import Product, StaffUser

ping = Blueprint("api_ping", __name__, description="A plugin's endpoint")


class PingSchema(Schema):
    pong = fields.String(required=True)


@ping.route("")
class Ping(MethodView):
    @ping.response(200, PingSchema)
    def get(self):
        """Answer pong"""
        return {"pong": "yes"}


class PingPlugin:
    __name__ = "ping"

    @hookimpl
    def register_api(self, register):
        register(ping, "/ping")


@pytest.fixture
def siyu_plugins():
    return [PingPlugin()]


@pytest.fixture
def owner(db):
    return make_staff(db, "owner")


@pytest.fixture
def owner_auth(db, owner):
    return bearer(db, owner)


def test_no_token_bad_token_and_cookies_are_refused(client, db, owner):
    response = client.get("/api/v1/products")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["status"] == 401 and response.json["title"]
    assert client.get("/api/v1/products", headers={"Authorization": "Bearer siyu_nope"}).status_code == 401
    assert client.get("/api/v1/products", headers={"Authorization": "Basic abc"}).status_code == 401
    staff_login(client, owner)  # a staff cookie is not an API credential
    assert client.get("/api/v1/products").status_code == 401


def test_token_auth_needs_no_csrf_and_creates_products(client, owner_auth, db):
    body = {"sku": "API-1", "title_zh": "接口茶", "title_en": "API tea", "price": 1999, "currency": "CNY"}
    response = client.post("/api/v1/products", json=body, headers=owner_auth)
    assert response.status_code == 201, response.json
    assert response.json["stock"] == 0 and response.json["active"] is True
    pid = response.json["id"]
    patched = client.patch(f"/api/v1/products/{pid}", json={"active": False, "stock": 5}, headers=owner_auth)
    assert patched.status_code == 200 and patched.json["active"] is False and patched.json["sku"] == "API-1"
    assert fresh(db).get(Product, pid).stock == 5


def test_validation_errors_are_problems_with_field_messages(client, owner_auth):
    response = client.post("/api/v1/products", json={"sku": "bad sku!", "price": -1, "currency": "XXX"},
                           headers=owner_auth)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.json["errors"]
    assert {"sku", "price", "currency", "title_zh", "title_en"} <= set(errors)
    client.post("/api/v1/products", json={"sku": "DUP", "title_zh": "a", "title_en": "a", "price": 1,
                                          "currency": "CNY"}, headers=owner_auth)
    duplicate = client.post("/api/v1/products", json={"sku": "DUP", "title_zh": "b", "title_en": "b", "price": 1,
                                                      "currency": "CNY"}, headers=owner_auth)
    assert duplicate.status_code == 422 and "sku" in duplicate.json["errors"]
    nul = client.post("/api/v1/products", json={"sku": "NUL", "title_zh": "a\x00", "title_en": "a", "price": 1,
                                                "currency": "CNY"}, headers=owner_auth)
    assert nul.status_code == 422 and "title_zh" in nul.json["errors"]
    missing = client.get("/api/v1/products/999999", headers=owner_auth)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get("/api/v1/products/99999999999999", headers=owner_auth).status_code == 404


def test_lists_paginate(client, owner_auth, kernel, db):
    shop(kernel, db)
    page = client.get("/api/v1/orders?page_size=2", headers=owner_auth).json
    assert page["total"] == 3 and page["pages"] == 2 and len(page["items"]) == 2
    second = client.get("/api/v1/orders?page_size=2&page=2", headers=owner_auth).json
    assert len(second["items"]) == 1
    assert client.get("/api/v1/orders?page_size=1000", headers=owner_auth).status_code == 422
    members = client.get("/api/v1/members?q=alice", headers=owner_auth).json
    assert [m["email"] for m in members["items"]] == ["a@example.com"]
    placed = client.get("/api/v1/orders?status=placed", headers=owner_auth).json
    assert placed["total"] == 1


def test_order_actions_through_the_api(client, owner_auth, kernel, db):
    s = shop(kernel, db)
    detail = client.get(f"/api/v1/orders/{s['placed'].id}", headers=owner_auth).json
    assert detail["payments"][0]["provider"] == "manual" and detail["lines"][0]["sku"] == "CUP"
    paid = client.post(f"/api/v1/orders/{s['placed'].id}/mark-paid", headers=owner_auth)
    assert paid.status_code == 200 and paid.json["status"] == "paid"
    again = client.post(f"/api/v1/orders/{s['placed'].id}/mark-paid", headers=owner_auth)
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert client.post(f"/api/v1/orders/{s['paid'].id}/cancel", headers=owner_auth).status_code == 409
    member = client.get(f"/api/v1/members/{s['a'].id}", headers=owner_auth).json
    assert member["orders_count"] == 2 and member["paid_orders_count"] == 2


def test_agent_token_reads_but_cannot_act(client, db, kernel):
    s = shop(kernel, db)
    auth = bearer(db, make_staff(db, "agent"))
    assert client.get("/api/v1/orders", headers=auth).status_code == 200
    assert client.post(f"/api/v1/orders/{s['placed'].id}/mark-paid", headers=auth).status_code == 403
    assert client.post("/api/v1/products", json={}, headers=auth).status_code == 403
    assert client.get("/api/v1/refunds", headers=auth).status_code == 403


def test_token_never_exceeds_its_role_or_its_owner(client, db, kernel, owner):
    s = shop(kernel, db)
    agent_scoped = bearer(db, owner, role="agent")
    assert client.post(f"/api/v1/orders/{s['placed'].id}/cancel", headers=agent_scoped).status_code == 403
    full = bearer(db, owner)
    with write_transaction(db):
        db.get(StaffUser, owner.id).role = "agent"  # demoted: the owner token shrinks with them
    assert client.post(f"/api/v1/orders/{s['placed'].id}/cancel", headers=full).status_code == 403
    with write_transaction(db):
        db.get(StaffUser, owner.id).active = False
    assert client.get("/api/v1/orders", headers=full).status_code == 401


def test_plugin_endpoint_is_mounted_protected_and_documented(client, owner_auth):
    assert client.get("/api/v1/ping").status_code == 401
    assert client.get("/api/v1/ping", headers=owner_auth).json == {"pong": "yes"}
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/ping" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_is_served_locally(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/orders/{order_id}/refunds" in html and "<script" not in html and "cdn" not in html.lower()
