"""The shopper's pages: address book (with and without JS), confirm receipt, after-sales
with photos, the return's tracking number, automatic completion on read, delivery settings."""
from datetime import timedelta

from backoffice_helpers import admin_csrf, make_staff, staff_login
from conftest import csrf, fresh, login
from fulfilment_helpers import two_line_order
from sqlalchemy import func, select

from siyu.core.db import utcnow, write_transaction
from siyu.core.fulfilment import ship_order
from siyu.core.fulfilment_settings import fulfilment_settings
from siyu.core.members import sign_up
from siyu.core.models import AfterSale, MemberAddress, Order

EN = {"Accept-Language": "en"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
GOOD = {"recipient": "李雷", "phone": "139 0000 1111", "province_code": "440000", "city_code": "440300",
        "district_code": "440305", "street": "科技园南路 1 号"}


def test_address_book_add_with_field_errors_edit_default_delete(member_client, member, db):
    token = csrf(member_client, "/account/addresses/new")
    bad = member_client.post("/account/addresses/new", headers=EN, data={
        **GOOD, "phone": "12345", "province_code": "990000", "street": "x" * 201, "csrf_token": token})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'aria-invalid="true"' in html
    assert "11-digit mainland mobile" in html and "Unknown province" in html and "At most 200 characters" in html
    missing = member_client.post("/account/addresses/new", headers=EN, data={
        **GOOD, "district_code": "", "csrf_token": token})
    assert missing.status_code == 422 and "Choose a district in 深圳市" in missing.get_data(as_text=True)
    ok = member_client.post("/account/addresses/new", data={**GOOD, "is_default": "1", "csrf_token": token})
    assert ok.status_code == 302
    new = fresh(db).scalar(select(MemberAddress).where(MemberAddress.recipient == "李雷"))
    assert new.is_default and new.phone == "+8613900001111" and new.district_name == "南山区"
    listing = member_client.get("/account/addresses").get_data(as_text=True)
    assert listing.index("李雷") < listing.index("王小明"), "the default comes first"
    assert "139 0000 1111" in listing
    edit = member_client.post(f"/account/addresses/{new.id}/edit", data={**GOOD, "street": "深南大道 9 号",
                                                                        "csrf_token": token})
    assert edit.status_code == 302 and fresh(db).get(MemberAddress, new.id).street == "深南大道 9 号"
    older = db.scalar(select(MemberAddress).where(MemberAddress.recipient == "王小明"))
    member_client.post(f"/account/addresses/{older.id}/default", data={"csrf_token": token})
    assert fresh(db).get(MemberAddress, older.id).is_default
    member_client.post(f"/account/addresses/{older.id}/delete", data={"csrf_token": token})
    assert fresh(db).get(MemberAddress, new.id).is_default
    assert db.scalar(select(func.count(MemberAddress.id))) == 1


def test_without_javascript_the_form_offers_the_next_level(member_client):
    token = csrf(member_client, "/account/addresses/new")
    page = member_client.post("/account/addresses/new", data={
        "province_code": "440000", "action": "refresh", "csrf_token": token}).get_data(as_text=True)
    assert 'value="440300"' in page and "深圳市" in page and "南山区" not in page
    page = member_client.post("/account/addresses/new", data={
        "province_code": "440000", "city_code": "440300", "action": "refresh", "csrf_token": token}).get_data(as_text=True)
    assert "南山区" in page


def test_region_lists_for_the_selects(client):
    cities = client.get("/account/addresses/regions/440000.json").get_json()
    assert ["440300", "深圳市"] in cities
    assert ["440305", "南山区"] in client.get("/account/addresses/regions/440000/440300.json").get_json()
    assert client.get("/account/addresses/regions/810000.json").get_json() == [["810000", "香港特别行政区"]]
    assert len(client.get("/account/addresses/regions/810000/810000.json").get_json()) == 18
    assert client.get("/account/addresses/regions/999999.json").status_code == 404
    assert client.get("/account/addresses/regions/440000/110100.json").status_code == 404


def test_another_members_address_pages_are_not_found(kernel, app, member, db):
    theirs = db.scalar(select(MemberAddress))
    sign_up(kernel, db, email="x@example.com", password="password-123")
    other = app.test_client()
    login(other, "x@example.com", "password-123")
    token = csrf(other, "/account/addresses")
    assert other.get(f"/account/addresses/{theirs.id}/edit").status_code == 404
    assert other.post(f"/account/addresses/{theirs.id}/delete", data={"csrf_token": token}).status_code == 404
    assert other.post(f"/account/addresses/{theirs.id}/default", data={"csrf_token": token}).status_code == 404
    assert fresh(db).get(MemberAddress, theirs.id) is not None


def test_timeline_tracking_link_and_confirm_receipt(kernel, member_client, member, db):
    order, *_ = two_line_order(kernel, db, member)
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1234567890")
    page = member_client.get(f"/orders/{order.number}", headers=EN).get_data(as_text=True)
    assert "Shipped with SF Express" in page
    assert 'href="https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF1234567890"' in page
    assert "Confirm receipt" in page
    assert member_client.post(f"/orders/{order.number}/receipt").status_code == 400, "CSRF"
    token = csrf(member_client, f"/orders/{order.number}")
    assert member_client.post(f"/orders/{order.number}/receipt", data={"csrf_token": token}).status_code == 302
    assert fresh(db).get(Order, order.id).status == "completed"
    assert member_client.post(f"/orders/{order.number}/receipt", data={"csrf_token": token}).status_code == 409


def test_orders_complete_when_their_owner_looks_after_the_days(kernel, member_client, member, db):
    order, *_ = two_line_order(kernel, db, member)
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1234567890")
    with write_transaction(db):
        db.get(Order, order.id).shipped_at = utcnow() - timedelta(days=11)
    member_client.get("/account/orders")
    assert fresh(db).get(Order, order.id).status == "completed"


def test_after_sales_request_with_photos_then_return_tracking(kernel, app, member_client, member, db):
    order, *_ = two_line_order(kernel, db, member)
    line = order.lines[0]
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1234567890")
    url = f"/orders/{order.number}/after-sales/new?line={line.id}"
    token = csrf(member_client, url)
    too_much = member_client.post(url, headers=EN, data={"kind": "return_refund", "reason": "damaged",
                                                         "amount": "60.01", "csrf_token": token})
    assert too_much.status_code == 422 and "between 1 and 6000" in too_much.get_data(as_text=True)
    import io

    response = member_client.post(url, content_type="multipart/form-data", data={
        "kind": "return_refund", "reason": "damaged", "note": "杯子裂了", "quantity": "1", "csrf_token": token,
        "photos": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png")]})
    assert response.status_code == 302
    request = fresh(db).scalar(select(AfterSale))
    assert (request.amount, request.quantity, len(request.photos)) == (3000, 1, 2)
    page = member_client.get(f"/orders/{order.number}", headers=EN).get_data(as_text=True)
    assert "Awaiting the shop&#39;s reply" in page and "杯子裂了" in page
    photo = member_client.get(f"/orders/{order.number}/after-sales/{request.id}/photos/1")
    assert photo.status_code == 200 and photo.data == PNG and "no-store" in photo.headers["Cache-Control"]
    assert app.test_client().get(f"/orders/{order.number}/after-sales/{request.id}/photos/1").status_code in (302, 401)
    from siyu.core import after_sales

    after_sales.approve(kernel, db, request)
    member_client.post(f"/orders/{order.number}/after-sales/{request.id}/return", data={
        "return_carrier": "zto", "return_tracking_number": "ZT778899", "csrf_token": token})
    request = fresh(db).get(AfterSale, request.id)
    assert (request.state, request.return_tracking_number) == ("returned", "ZT778899")


def test_three_photos_of_five_mb_fit_one_request_and_more_gets_a_clear_page(kernel, app, member_client, member,
                                                                           db):
    import io

    from siyu.core.media import MAX_IMAGE_BYTES

    order, *_ = two_line_order(kernel, db, member)
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1234567890")
    url = f"/orders/{order.number}/after-sales/new?line={order.lines[0].id}"
    token = csrf(member_client, url)
    big = PNG + b"\0" * (MAX_IMAGE_BYTES - len(PNG))  # exactly 5 MB each: 15 MB in all, above MAX_CONTENT_LENGTH
    assert 3 * len(big) > app.config["MAX_CONTENT_LENGTH"]
    form = {"kind": "return_refund", "reason": "damaged", "quantity": "1", "csrf_token": token}
    response = member_client.post(url, content_type="multipart/form-data", headers=EN, data={
        **form, "photos": [(io.BytesIO(big), f"{n}.png") for n in "abc"]})
    assert response.status_code == 302
    assert len(fresh(db).scalar(select(AfterSale)).photos) == 3
    # Four photos of 5 MB are more than any request may carry: the shop's page, saying why.
    other = order.lines[1]
    url = f"/orders/{order.number}/after-sales/new?line={other.id}"
    response = member_client.post(url, content_type="multipart/form-data", headers=EN, data={
        **form, "photos": [(io.BytesIO(big), f"{n}.png") for n in "abcd"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "Photos may be at most 5 MB each, and at most 3 of them." in page and "</html>" in page
    assert fresh(db).scalar(select(func.count(AfterSale.id))) == 1
    # Elsewhere the shop's usual limit still holds.
    request_id = fresh(db).scalar(select(AfterSale.id))
    response = member_client.post(f"/orders/{order.number}/after-sales/{request_id}/return", headers=EN,
                                  content_type="multipart/form-data", data={
                                      "csrf_token": token, "f": (io.BytesIO(big + big), "x.png")})
    assert response.status_code == 413 and "The upload is too large." in response.get_data(as_text=True)


def test_owner_edits_delivery_settings_with_field_errors(app, db):
    client = staff_login(app.test_client(), make_staff(db, "owner"))
    token = admin_csrf(client, "/admin/delivery")
    bad = client.post("/admin/delivery", data={"csrf_token": token, "shipping_fee": "ten", "auto_complete_days": "0",
                                               "after_sale_days": "15", "pickup_enabled": "1"})
    assert bad.status_code == 422
    good = client.post("/admin/delivery", data={
        "csrf_token": token, "express_enabled": "1", "shipping_fee": "8", "free_shipping_over": "99",
        "surcharge_540000": "20", "unserved_710000": "1", "auto_complete_days": "7", "after_sale_days": "15",
        "pickup_enabled": "1", "name_0": "西湖门店", "address_0": "文三路 90 号", "hours_0": "10:00–20:00"})
    assert good.status_code == 302
    values = fulfilment_settings(fresh(db))
    assert (values["shipping_fee"], values["free_shipping_over"], values["province_surcharges"],
            values["unserved_provinces"], values["auto_complete_days"]) == (800, 9900, {"540000": 2000},
                                                                            ["710000"], 7)
    assert values["pickup_locations"][0]["name"] == "西湖门店"
    agent = staff_login(app.test_client(), make_staff(db, "agent"))
    assert agent.get("/admin/delivery").status_code == 403


def test_owners_mark_products_virtual_in_the_back_office_and_the_api(app, db):
    from backoffice_helpers import bearer

    from siyu.core.models import Product

    owner = make_staff(db, "owner")
    client = staff_login(app.test_client(), owner)
    token = admin_csrf(client, "/admin/products/new")
    data = {"sku": "CARD-1", "title_zh": "礼品卡", "title_en": "Gift card", "price": "99", "currency": "CNY",
            "stock": "10", "position": "0", "active": "y", "csrf_token": token}  # requires_shipping unticked
    assert client.post("/admin/products/new", data=data).status_code == 302
    assert fresh(db).scalar(select(Product.requires_shipping).where(Product.sku == "CARD-1")) is False
    api = app.test_client()
    body = {"sku": "TEA-9", "title_zh": "茶", "title_en": "Tea", "price": 100, "currency": "CNY"}
    created = api.post("/api/v1/products", json=body, headers=bearer(db, owner))
    assert created.status_code == 201 and created.json["requires_shipping"] is True
    patched = api.patch(f"/api/v1/products/{created.json['id']}", json={"requires_shipping": False},
                        headers=bearer(db, owner))
    assert patched.status_code == 200 and patched.json["requires_shipping"] is False
