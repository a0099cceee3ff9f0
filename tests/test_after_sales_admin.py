"""After-sales in the back office: the queue with filters, a request's page with its photos
(staff only; never another shopper), decisions by owners (agents see), stock back on receipt,
one refund however often it is clicked."""
from pathlib import Path

import pytest
from backoffice_helpers import admin_csrf
from conftest import fresh, login
from fulfilment_helpers import two_line_order
from shipping_helpers import EN, signed_in
from sqlalchemy import func, select

from siyu.core import after_sales as svc
from siyu.core.fulfilment import ship_order
from siyu.core.members import sign_up
from siyu.core.models import AfterSale, Order, Product, Refund

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def requests_(app, kernel, db, member):
    order, a, b = two_line_order(kernel, db, member, token="asadm")
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF9100001", lines={order.lines[0].id: 2})
    back = svc.request_after_sale(kernel, db, order, member, line_id=order.lines[0].id, kind="return_refund",
                                  reason="damaged", note="裂了", quantity=1, photos=[PNG],
                                  media_root=Path(app.instance_path) / "private")
    money = svc.request_after_sale(kernel, db, order, member, line_id=order.lines[1].id, kind="refund_only",
                                   reason="changed_mind")
    return order, back, money, a, b


def test_the_queue_filters_by_state_and_kind(app, db, requests_):
    order, back, money, *_ = requests_
    agent = signed_in(app, db)
    html = agent.get("/admin/after-sales", headers=EN).get_data(as_text=True)
    assert f"#{back.id}" in html and f"#{money.id}" in html and "2 requests" in html
    only = agent.get("/admin/after-sales?kind=refund_only", headers=EN).get_data(as_text=True)
    assert f"#{money.id}" in only and f"#{back.id} " not in only
    assert "No after-sales requests match" in agent.get("/admin/after-sales?state=refunded", headers=EN).get_data(as_text=True)
    assert f"#{back.id}" in agent.get(f"/admin/after-sales?q={order.number}", headers=EN).get_data(as_text=True)


def test_photos_are_served_to_staff_only(app, kernel, db, requests_):
    order, back, *_ = requests_
    agent = signed_in(app, db)
    page = agent.get(f"/admin/after-sales/{back.id}", headers=EN).get_data(as_text=True)
    assert f"/admin/after-sales/{back.id}/photos/1" in page and "裂了" in page
    photo = agent.get(f"/admin/after-sales/{back.id}/photos/1")
    assert photo.status_code == 200 and photo.data == PNG and "no-store" in photo.headers["Cache-Control"]
    assert agent.get(f"/admin/after-sales/{back.id}/photos/2").status_code == 404
    assert not (Path(app.instance_path) / "media" / back.photos[0]).exists()  # not in the public folder
    assert app.test_client().get(f"/media/{back.photos[0]}").status_code == 404
    anonymous = app.test_client().get(f"/admin/after-sales/{back.id}/photos/1")
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
    sign_up(kernel, db, email="nosy@example.com", password="password-n1")
    nosy = app.test_client()
    login(nosy, "nosy@example.com", "password-n1")
    assert nosy.get(f"/orders/{order.number}/after-sales/{back.id}/photos/1").status_code == 404
    assert nosy.get(f"/admin/after-sales/{back.id}/photos/1").status_code == 302


def test_agents_see_but_only_owners_decide(app, db, requests_):
    _order, back, money, *_ = requests_
    agent = signed_in(app, db)
    page = agent.get(f"/admin/after-sales/{money.id}", headers=EN).get_data(as_text=True)
    assert "An owner approves" in page and "Approve and refund" not in page
    order_page = agent.get(f"/admin/orders/{_order.id}", headers=EN).get_data(as_text=True)
    assert f"/admin/after-sales/{money.id}" in order_page and "Awaiting a decision" in order_page
    token = admin_csrf(agent, f"/admin/after-sales/{money.id}")
    for action in ("approve", "reject", "receive", "refund"):
        assert agent.post(f"/admin/after-sales/{money.id}/{action}", data={"csrf_token": token}).status_code == 403
    assert fresh(db).get(AfterSale, money.id).state == "requested" and db.scalar(select(Refund.id)) is None


def test_owner_approves_receives_and_refunds_a_return_once(app, db, requests_):
    order, back, money, a, _b = requests_
    owner = signed_in(app, db, "owner")
    token = admin_csrf(owner, f"/admin/after-sales/{back.id}")
    early = owner.post(f"/admin/after-sales/{back.id}/refund", headers=EN, data={"csrf_token": token},
                       follow_redirects=True).get_data(as_text=True)
    assert "not ready to be refunded" in early
    approved = owner.post(f"/admin/after-sales/{back.id}/approve", headers=EN, data={"csrf_token": token},
                          follow_redirects=True).get_data(as_text=True)
    assert "send the goods back" in approved and "Mark the goods as received" in approved
    stock = fresh(db).get(Product, a.id).stock
    owner.post(f"/admin/after-sales/{back.id}/receive", data={"csrf_token": token})
    owner.post(f"/admin/after-sales/{back.id}/receive", data={"csrf_token": token})
    assert fresh(db).get(Product, a.id).stock == stock + 1
    for _ in range(2):
        done = owner.post(f"/admin/after-sales/{back.id}/refund", headers=EN, data={"csrf_token": token},
                          follow_redirects=True).get_data(as_text=True)
        assert "Refunded" in done
    assert fresh(db).scalar(select(func.count(Refund.id))) == 1
    assert (db.get(Order, order.id).refunded_amount, db.get(AfterSale, back.id).state) == (3000, "refunded")


def test_owner_approves_and_refunds_in_one_click_or_rejects_with_a_reason(app, kernel, db, member, requests_):
    order, back, money, *_ = requests_
    owner = signed_in(app, db, "owner")
    token = admin_csrf(owner, f"/admin/after-sales/{money.id}")
    page = owner.get(f"/admin/after-sales/{money.id}", headers=EN).get_data(as_text=True)
    assert "Approve and refund" in page
    owner.post(f"/admin/after-sales/{money.id}/refund", data={"csrf_token": token})
    assert fresh(db).get(AfterSale, money.id).state == "refunded"
    assert db.get(Order, order.id).refunded_amount == money.amount
    no_reason = owner.post(f"/admin/after-sales/{back.id}/reject", headers=EN, data={"csrf_token": token, "note": ""},
                           follow_redirects=True).get_data(as_text=True)
    assert "Give the shopper a reason" in no_reason and fresh(db).get(AfterSale, back.id).state == "requested"
    owner.post(f"/admin/after-sales/{back.id}/reject", data={"csrf_token": token, "note": "超过退货期"})
    assert (fresh(db).get(AfterSale, back.id).state, db.get(AfterSale, back.id).decision_note) == ("rejected", "超过退货期")
    assert owner.get("/admin/after-sales/99999").status_code == 404
