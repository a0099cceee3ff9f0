"""The back office's to-ship queue: filters, pages, shipping one order (in part) from its
page, refusals with a clear message, exports (CSV with a BOM, XLSX) and print views."""
import io

import pytest
from backoffice_helpers import admin_csrf
from conftest import fresh
from openpyxl import load_workbook
from shipping_helpers import EN, shipping_order, signed_in
from sqlalchemy import select, update

from siyu.core.db import utcnow, write_transaction
from siyu.core.fulfilment import ship_order
from siyu.core.models import Order, Shipment
from siyu.core.orders import cancel_order
from siyu.core.refunds import refund_order
from backoffice_helpers import placed_order
from conftest import make_product


@pytest.fixture
def orders(kernel, db, member):
    first, a, b = shipping_order(kernel, db, member, "q1", recipient="王小明", phone="+8613812345678")
    second, *_ = shipping_order(kernel, db, member, "q2", recipient="李雷", phone="+8613900001111",
                                method="pickup")
    return first, second


def test_the_queue_lists_paid_orders_with_filters(app, db, orders):
    first, second = orders
    agent = signed_in(app, db)
    html = agent.get("/admin/shipping", headers=EN).get_data(as_text=True)
    assert first.number in html and second.number in html and "2 orders to ship" in html
    assert "王小明" in html and "138 1234 5678" in html
    express = agent.get("/admin/shipping?method=express").get_data(as_text=True)
    assert first.number in express and second.number not in express
    for q in ("李雷", "1111", second.number.lower()):
        found = agent.get("/admin/shipping", query_string={"q": q}).get_data(as_text=True)
        assert second.number in found and first.number not in found, q
    # Dates are the shop's days (Asia/Shanghai): a payment at 23:30 UTC is paid the next day there.
    with write_transaction(db):
        db.execute(update(Order).where(Order.id == first.id).values(paid_at=utcnow().replace(
            year=2026, month=3, day=1, hour=23, minute=30)))
    march_2 = agent.get("/admin/shipping?from=2026-03-02&to=2026-03-02").get_data(as_text=True)
    assert first.number in march_2 and second.number not in march_2
    assert first.number not in agent.get("/admin/shipping?from=2026-03-01&to=2026-03-01").get_data(as_text=True)
    empty = agent.get("/admin/shipping?q=nobody", headers=EN).get_data(as_text=True)
    assert "No orders match these filters." in empty


def test_order_list_and_pages_show_dates_in_the_shops_time_zone(app, db, member, orders):
    from conftest import login

    from siyu.core import settings

    first, _second = orders
    with write_transaction(db):
        settings.put(db, "core", "timezone", "Asia/Tokyo")  # UTC+9, not the default
        when = utcnow().replace(year=2026, month=3, day=1, hour=23, minute=30, second=0, microsecond=0)
        db.execute(update(Order).where(Order.id == first.id).values(placed_at=when, paid_at=when))
    owner = signed_in(app, db, role="owner")
    listing = owner.get("/admin/orders", headers=EN).get_data(as_text=True)
    detail = owner.get(f"/admin/orders/{first.id}", headers=EN).get_data(as_text=True)
    for html in (listing, detail):
        assert "2026-03-02 08:30" in html and "2026-03-01 23:30" not in html and " UTC" not in html
    shopper = app.test_client()
    login(shopper, member.email)
    page = shopper.get(f"/orders/{first.number}", headers=EN).get_data(as_text=True)
    assert "Mar 2, 2026" in page and "Mar 1, 2026" not in page


def test_the_queue_pages_and_says_when_nothing_is_left(app, kernel, db, member):
    agent = signed_in(app, db)
    assert "Nothing to ship" in agent.get("/admin/shipping", headers=EN).get_data(as_text=True)
    product = make_product(db, "MANY", price=100, stock=100)
    from backoffice_helpers import paid_order

    numbers = [paid_order(kernel, db, member, product, f"p{i}").number for i in range(27)]
    page1 = agent.get("/admin/shipping", headers=EN).get_data(as_text=True)
    page2 = agent.get("/admin/shipping?page=2", headers=EN).get_data(as_text=True)
    assert "Page 1 of 2" in page1 and numbers[0] in page1 and numbers[26] not in page1
    assert numbers[26] in page2 and numbers[0] not in page2
    assert "/admin/shipping?page=2" in page1


def test_partial_shipment_from_the_order_page_then_the_rest(app, kernel, db, orders):
    first, _second = orders
    line_a, line_b = first.lines
    agent = signed_in(app, db)
    page = agent.get(f"/admin/orders/{first.id}", headers=EN).get_data(as_text=True)
    assert f'name="qty-{line_a.id}"' in page and "2 of 2 left" in page
    assert f"/admin/shipping/print?ids={first.id}&amp;layout=label" in page  # print one order
    token = admin_csrf(agent, f"/admin/orders/{first.id}")
    done = agent.post(f"/admin/shipping/orders/{first.id}/ship", headers=EN, data={
        "csrf_token": token, "carrier_code": "sf", "tracking_number": "SF1234567",
        f"qty-{line_a.id}": "1", f"qty-{line_b.id}": "0"}, follow_redirects=True)
    html = done.get_data(as_text=True)
    assert "Shipped: 1 items in this parcel." in html and "SF1234567" in html and "1 of 2 left" in html
    assert fresh(db).get(Order, first.id).status == "paid"
    too_many = agent.post(f"/admin/shipping/orders/{first.id}/ship", headers=EN, data={
        "csrf_token": token, "carrier_code": "zto", "tracking_number": "ZT7654321",
        f"qty-{line_a.id}": "5"}, follow_redirects=True).get_data(as_text=True)
    assert "between 1 and 1" in too_many and "Product A-q1" in too_many
    rest = agent.post(f"/admin/shipping/orders/{first.id}/ship", headers=EN, data={
        "csrf_token": token, "carrier_code": "zto", "tracking_number": "ZT7654321",
        f"qty-{line_a.id}": "1", f"qty-{line_b.id}": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "Shipped: 2 items" in rest
    order = fresh(db).get(Order, first.id)
    assert order.status == "shipped" and len(db.scalars(select(Shipment).where(Shipment.order_id == order.id)).all()) == 2
    again = agent.post(f"/admin/shipping/orders/{first.id}/ship", headers=EN, data={
        "csrf_token": token, "carrier_code": "sf", "tracking_number": "SF0000009"}, follow_redirects=True)
    assert "This order has already been shipped." in again.get_data(as_text=True)
    assert agent.post(f"/admin/shipping/orders/{first.id}/ship", data={"carrier_code": "sf"}).status_code == 400
    assert len(fresh(db).scalars(select(Shipment).where(Shipment.order_id == order.id)).all()) == 2


def test_cancelled_refunded_and_unknown_carrier_are_refused_with_a_message(app, kernel, db, member):
    agent = signed_in(app, db)
    product = make_product(db, "C", price=1000, stock=5)
    placed = placed_order(kernel, db, member, product, "cancel-me")
    cancel_order(kernel, db, placed, "staff")
    refunded, *_ = shipping_order(kernel, db, member, "refunded")
    refund_order(kernel, db, refunded, refunded.total, "full-refund-1")
    token = admin_csrf(agent, "/admin/shipping")
    for order, expected in ((placed, "A cancelled or refunded order cannot be shipped."),
                            (refunded, "A cancelled or refunded order cannot be shipped.")):
        html = agent.post(f"/admin/shipping/orders/{order.id}/ship", headers=EN, data={
            "csrf_token": token, "carrier_code": "sf", "tracking_number": "SF5550001"},
            follow_redirects=True).get_data(as_text=True)
        assert expected in html
    paid, *_ = shipping_order(kernel, db, member, "pigeon")
    html = agent.post(f"/admin/shipping/orders/{paid.id}/ship", headers=EN, data={
        "csrf_token": token, "carrier_code": "pigeon", "tracking_number": "x"}, follow_redirects=True).get_data(as_text=True)
    assert "Choose a carrier from the list." in html and "4 to 64 letters" in html
    assert fresh(db).scalar(select(Shipment.id)) is None


def test_a_pickup_order_is_handed_over_without_a_carrier(app, kernel, db, orders):
    _first, pickup = orders
    agent = signed_in(app, db)
    page = agent.get(f"/admin/orders/{pickup.id}", headers=EN).get_data(as_text=True)
    assert "Hand over" in page and 'name="tracking_number"' not in page
    agent.post(f"/admin/shipping/orders/{pickup.id}/ship", data={"csrf_token": admin_csrf(agent, "/admin/shipping")})
    assert fresh(db).get(Order, pickup.id).status == "shipped"
    assert "Handed over at the shop" in agent.get(f"/admin/orders/{pickup.id}", headers=EN).get_data(as_text=True)


def test_csv_export_has_a_bom_the_filters_and_no_formulas(app, kernel, db, member, orders):
    first, second = orders
    evil, *_ = shipping_order(kernel, db, member, "evil", recipient="=HYPERLINK(\"http://x\")")
    agent = signed_in(app, db)
    response = agent.get("/admin/shipping/export.csv?method=express", headers=EN)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Order number,Paid at,Delivery,Recipient,Phone")
    assert first.number in text and second.number not in text and "王小明" in text and "138 1234 5678" in text
    assert "'=HYPERLINK" in text and "Product A-q1 (A-q1) ×2" in text
    zh = agent.get("/admin/shipping/export.csv", headers={"Accept-Language": "zh-CN"}).data.decode("utf-8-sig")
    assert zh.splitlines()[0].startswith("订单号")


def test_xlsx_export_opens_with_openpyxl(app, kernel, db, member, orders):
    first, second = orders
    shipping_order(kernel, db, member, "evil", recipient="=1+1")
    agent = signed_in(app, db)
    response = agent.get("/admin/shipping/export.xlsx", headers=EN)
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["Order number", "Paid at", "Delivery"]
    numbers = [r[0] for r in rows[1:]]
    assert numbers[:2] == [first.number, second.number] and len(numbers) == 3
    assert rows[3][3] == "=1+1" and sheet.cell(row=4, column=4).data_type == "s"  # text, not a formula


def test_print_views_render_for_a_selection(app, db, orders):
    first, second = orders
    agent = signed_in(app, db)
    a4 = agent.get(f"/admin/shipping/print?ids={first.id}&ids={second.id}", headers=EN)
    html = a4.get_data(as_text=True)
    assert a4.status_code == 200 and "print-a4.css" in html and "Packing slip" in html
    assert first.number in html and second.number in html and "王小明" in html
    assert "<script>" not in html and 'src="/static/print.js"' in html
    label = agent.get(f"/admin/shipping/print?ids={first.id}&layout=label", headers=EN).get_data(as_text=True)
    assert "print-label.css" in label and first.number in label and second.number not in label
    css = app.test_client().get("/static/print-label.css").get_data(as_text=True)
    assert "size: 100mm 150mm" in css
    assert "size: A4" in app.test_client().get("/static/print-a4.css").get_data(as_text=True)
    assert agent.get("/admin/shipping/print?ids=abc").status_code == 302


def test_batched_progress_agrees_with_the_service(kernel, db, member):
    from siyu.core import after_sales, to_ship
    from siyu.core.fulfilment import progress

    orders = [shipping_order(kernel, db, member, f"batch{i}")[0] for i in range(3)]
    ship_order(kernel, db, orders[0], carrier_code="sf", tracking_number="SF6000001", lines={orders[0].lines[0].id: 1})
    after_sales.request_after_sale(kernel, db, orders[1], member, line_id=orders[1].lines[1].id, kind="refund_only",
                                   reason="changed_mind")
    orders = [fresh(db).get(Order, o.id) for o in orders]
    assert to_ship.progress_many(db, orders) == {o.id: progress(db, o) for o in orders}
    parcels = to_ship.parcels(db, orders)
    assert [[qty for _line, qty in p.lines] for p in parcels] == [[1, 1], [2], [2, 1]]
