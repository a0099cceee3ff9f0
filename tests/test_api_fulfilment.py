"""The REST API's fulfilment endpoints: a member's addresses (staff read), shipments (create,
in part, twice, refused; list; import), after-sales (list with filters, read, decide)."""
import io

import pytest
from backoffice_helpers import bearer, make_staff
from conftest import fresh
from fulfilment_helpers import two_line_order
from shipping_helpers import shipping_order
from sqlalchemy import func, select

from siyu.core import after_sales as svc
from siyu.core.fulfilment import ship_order
from siyu.core.members import sign_up
from siyu.core.models import Order, Product, Refund, Shipment
from siyu.storefront.testing import give_address


@pytest.fixture
def owner(db):
    return {**bearer(db, make_staff(db, "owner")), "Accept-Language": "en"}


@pytest.fixture
def agent(db):
    return {**bearer(db, make_staff(db, "agent")), "Accept-Language": "en"}


def test_staff_read_a_members_addresses(client, db, kernel, member, agent):
    other = sign_up(kernel, db, email="o@example.com", password="password-o1")
    give_address(db, other, recipient="李雷")
    response = client.get(f"/api/v1/members/{member.id}/addresses", headers=agent)
    assert response.status_code == 200
    [address] = response.json
    assert (address["recipient"], address["phone"], address["district_code"], address["is_default"]) == (
        "王小明", "+8613812345678", "330106", True)
    assert client.get("/api/v1/members/99999/addresses", headers=agent).status_code == 404
    assert client.get(f"/api/v1/members/{member.id}/addresses").status_code == 401


def test_create_shipments_in_part_twice_and_refused(client, db, kernel, member, agent):
    order, *_ = shipping_order(kernel, db, member, "api1")
    line_a, line_b = order.lines
    url = f"/api/v1/orders/{order.id}/shipments"
    first = client.post(url, headers=agent, json={"carrier_code": "sf", "tracking_number": "SF8000001",
                                                  "lines": [{"order_line_id": line_a.id, "quantity": 1}]})
    assert first.status_code == 201 and first.json["lines"] == [{"order_line_id": line_a.id, "quantity": 1}]
    again = client.post(url, headers=agent, json={"carrier_code": "sf", "tracking_number": "SF8000001"})
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    bad = client.post(url, headers=agent, json={"carrier_code": "sf", "tracking_number": "SF8000002",
                                                "lines": [{"order_line_id": line_a.id, "quantity": 5}]})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["errors"] == {str(line_a.id): "between 1 and 1"}
    unknown = client.post(url, headers=agent, json={"carrier_code": "pigeon", "tracking_number": "P"})
    assert set(unknown.json["errors"]) == {"carrier_code", "tracking_number"}
    rest = client.post(url, headers=agent, json={"carrier_code": "zto", "tracking_number": "ZT8000003"})
    assert rest.status_code == 201 and fresh(db).get(Order, order.id).status == "shipped"
    twice = client.post(url, headers=agent, json={"carrier_code": "zto", "tracking_number": "ZT8000004"})
    assert twice.status_code == 409 and "already been shipped" in twice.json["title"]
    listed = client.get(url, headers=agent).json
    assert [s["tracking_number"] for s in listed] == ["SF8000001", "ZT8000003"]
    page = client.get("/api/v1/shipments?carrier_code=zto", headers=agent).json
    assert (page["total"], page["items"][0]["order_id"]) == (1, order.id)
    assert client.post("/api/v1/orders/99999/shipments", headers=agent, json={}).status_code == 404


def test_import_through_the_api(client, db, kernel, member, agent):
    a, *_ = shipping_order(kernel, db, member, "apiimp")
    body = f"order,carrier,tracking\n{a.number},SF Express,SF8100001\nNOPE,sf,SF8100002\n".encode()

    def send():
        return client.post("/api/v1/shipments/import", headers=agent, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(body), "ship.csv")})
    first = send()
    assert first.status_code == 200, first.json
    assert (first.json["shipped"], first.json["refused"]) == (1, 1)
    assert first.json["rows"][1]["line"] == 3 and first.json["rows"][1]["message"] == "No order has this number."
    assert (send().json["unchanged"], fresh(db).scalar(select(func.count(Shipment.id)))) == (1, 1)
    wrong = client.post("/api/v1/shipments/import", headers=agent, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"%PDF"), "x.pdf")})
    assert wrong.status_code == 422 and "file" in wrong.json["errors"]
    missing = client.post("/api/v1/shipments/import", headers=agent, content_type="multipart/form-data", data={})
    assert missing.status_code == 422 and "file" in missing.json["errors"]


def test_after_sales_listed_read_and_decided(client, db, kernel, member, owner, agent):
    order, a, b = two_line_order(kernel, db, member, token="apias")
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF8200001")
    line_a, line_b = order.lines
    back = svc.request_after_sale(kernel, db, order, member, line_id=line_a.id, kind="return_refund",
                                  reason="damaged", quantity=1)
    money = svc.request_after_sale(kernel, db, order, member, line_id=line_b.id, kind="refund_only",
                                   reason="not_received")
    page = client.get("/api/v1/after-sales?state=open", headers=agent).json
    assert [r["id"] for r in page["items"]] == [money.id, back.id] and page["total"] == 2
    assert client.get("/api/v1/after-sales?kind=refund_only", headers=agent).json["total"] == 1
    assert client.get(f"/api/v1/after-sales/{back.id}", headers=agent).json["amount"] == 3000
    assert client.post(f"/api/v1/after-sales/{money.id}/refund", headers=agent).status_code == 403
    early = client.post(f"/api/v1/after-sales/{money.id}/refund", headers=owner)
    assert early.status_code == 409 and "not ready" in early.json["title"]
    assert client.post(f"/api/v1/after-sales/{money.id}/approve", headers=owner).json["state"] == "approved"
    refunded = client.post(f"/api/v1/after-sales/{money.id}/refund", headers=owner)
    assert refunded.json["state"] == "refunded" and refunded.json["refund_id"]
    assert client.post(f"/api/v1/after-sales/{money.id}/refund", headers=owner).status_code == 200  # once
    stock = fresh(db).get(Product, a.id).stock
    assert client.post(f"/api/v1/after-sales/{back.id}/approve", headers=owner).json["state"] == "awaiting_return"
    assert client.post(f"/api/v1/after-sales/{back.id}/receive", headers=owner).json["state"] == "received"
    assert fresh(db).get(Product, a.id).stock == stock + 1
    assert client.post(f"/api/v1/after-sales/{back.id}/refund", headers=owner).json["state"] == "refunded"
    assert fresh(db).scalar(select(func.sum(Refund.amount))) == 8000
    assert db.get(Order, order.id).refunded_amount == 8000


def test_reject_needs_a_reason(client, db, kernel, member, owner):
    order, *_ = two_line_order(kernel, db, member, token="apirej")
    request = svc.request_after_sale(kernel, db, order, member, line_id=order.lines[0].id, kind="refund_only",
                                     reason="changed_mind")
    empty = client.post(f"/api/v1/after-sales/{request.id}/reject", headers=owner, json={"note": ""})
    assert empty.status_code == 422 and "note" in empty.json["errors"]
    done = client.post(f"/api/v1/after-sales/{request.id}/reject", headers=owner, json={"note": "已发货"})
    assert (done.json["state"], done.json["decision_note"]) == ("rejected", "已发货")
    assert client.post(f"/api/v1/after-sales/{request.id}/approve", headers=owner).status_code == 409
    assert client.get("/api/v1/after-sales/99999", headers=owner).status_code == 404


def test_the_api_docs_page_shows_the_import_endpoint(client):
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/shipments/import" in html and "<code>ImportFile</code>" in html
    assert "/api/v1/after-sales/{after_sale_id}/refund" in html


def test_orders_to_ship_with_delivery_and_what_is_left(client, db, kernel, member, agent):
    first, *_ = shipping_order(kernel, db, member, "tsa", recipient="王小明")
    second, *_ = shipping_order(kernel, db, member, "tsb", recipient="李雷", phone="+8613900001111", method="pickup")
    ship_order(kernel, db, first, carrier_code="sf", tracking_number="SF8300001", lines={first.lines[0].id: 2})
    page = client.get("/api/v1/shipments/to-ship", headers=agent).json
    assert [i["number"] for i in page["items"]] == [first.number, second.number] and page["total"] == 2
    item = page["items"][0]
    assert item["delivery"]["recipient"] == "王小明" and item["delivery_method"] == "express"
    assert [(line["order_line_id"], line["quantity_left"]) for line in item["lines"]] == [(first.lines[1].id, 1)]
    assert client.get("/api/v1/shipments/to-ship?method=pickup", headers=agent).json["total"] == 1
    assert client.get("/api/v1/shipments/to-ship?q=1111", headers=agent).json["items"][0]["number"] == second.number
    later = client.get("/api/v1/shipments/to-ship?paid_from=2999-01-01T00:00:00", headers=agent).json
    assert later["total"] == 0
    edge = client.get("/api/v1/shipments/to-ship?paid_from=0001-01-01T00:00:00%2B05:00", headers=agent)
    assert edge.status_code == 422 and "paid_from" in edge.json["errors"]
