"""Back office: create and edit coupons (owners), figures, QR codes, access by role, widget."""
from coupon_helpers import AGENT_PW, make_template
from sqlalchemy import func, select

from siyu.plugin import confirm_manual_payment, Order, place_order, write_transaction
from siyu.plugin.testing import csrf_token, fresh, make_product, staff_login
from siyu_coupons.claims import claim
from siyu_coupons.models import CouponTemplate, TemplateProduct

EN = {"Accept-Language": "en"}


def form(client, path, **values):
    data = {"name": "Spring", "kind": "fixed", "amount": "10", "percent": "", "max_discount": "",
            "min_spend": "", "per_member_limit": "1", "scope": "all", "with_member_price": "y",
            "active": "y", "csrf_token": csrf_token(client, path)}
    data.update(values)
    return client.post(path, data=data, headers=EN)


def test_owner_creates_a_percentage_coupon_in_major_units(owner_client, db):
    response = form(owner_client, "/admin/coupons/new", name="12.5% off", kind="percent", amount="",
                    percent="12.5", max_discount="30", min_spend="100", quantity="50", valid_days="7",
                    valid_until="2031-05-01", code="SPRING")
    assert response.status_code == 302
    template = fresh(db).scalar(select(CouponTemplate))
    assert (template.code, template.percent_bp, template.max_discount, template.min_spend, template.quantity,
            template.valid_days) == ("SPRING", 1250, 3000, 10000, 50, 7)
    # the end date is the end of that day in the shop's time zone (Asia/Shanghai)
    assert template.valid_until.isoformat() == "2031-05-01T16:00:00+00:00"
    page = owner_client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "12.5% off" in page and "/coupon/SPRING" in page and "<svg" in page


def test_bad_input_is_refused_with_field_errors_and_nothing_written(owner_client, db):
    response = form(owner_client, "/admin/coupons/new", kind="threshold", amount="50", min_spend="20")
    assert response.status_code == 422
    assert "The saving cannot be more than the spend it needs." in response.get_data(as_text=True)
    assert form(owner_client, "/admin/coupons/new", amount="ten").status_code == 422
    assert form(owner_client, "/admin/coupons/new", scope="products").status_code == 422
    assert fresh(db).scalar(select(func.count(CouponTemplate.id))) == 0


def test_scope_to_chosen_products(owner_client, db):
    product = make_product(db)
    assert form(owner_client, "/admin/coupons/new", scope="products",
                product_ids=[str(product.id)]).status_code == 302
    assert fresh(db).scalar(select(TemplateProduct.product_id)) == product.id


def test_the_offer_is_frozen_once_issued(owner_client, db, member):
    template = make_template(db, name="Frozen")
    with write_transaction(db):
        claim(db, template, member.id, source="page")
    path = f"/admin/coupons/{template.id}"
    refused = form(owner_client, path, name="Frozen", amount="20")
    assert refused.status_code == 422 and "The offer cannot change" in refused.get_data(as_text=True)
    assert form(owner_client, path, name="Renamed", quantity="5").status_code == 302
    fresh(db)
    assert (db.get(CouponTemplate, template.id).name, db.get(CouponTemplate, template.id).amount) == ("Renamed", 1000)
    too_few = form(owner_client, path, name="Renamed", quantity="0")
    assert too_few.status_code == 422


def test_an_issued_percentage_coupon_keeps_its_edit_form_working(owner_client, db, member):
    template = make_template(db, name="Pct", kind="percent", amount=0, percent_bp=1500, max_discount=2000)
    with write_transaction(db):
        claim(db, template, member.id, source="page")
    page = owner_client.get(f"/admin/coupons/{template.id}", headers=EN).get_data(as_text=True)
    assert 'value="15"' in page and 'value="20.00"' in page
    response = form(owner_client, f"/admin/coupons/{template.id}", name="Pct renamed", kind="percent", amount="",
                    percent="15", max_discount="20.00")
    assert response.status_code == 302
    assert fresh(db).get(CouponTemplate, template.id).name == "Pct renamed"


def test_figures_count_issued_used_and_revenue(owner_client, kernel, db, member):
    product = make_product(db, price=5000)
    template = make_template(db, name="Counted", amount=1000, quantity=10)
    with write_transaction(db):
        coupon = claim(db, template, member.id, source="chat")
    order = place_order(kernel, db, member=member, items={product.id: 1}, payment_method="manual",
                        checkout_token="t-1", inputs={"coupon_id": str(coupon.id)})
    with write_transaction(db):
        kernel.provider("manual").start(kernel, db, order)
    confirm_manual_payment(kernel, db, fresh(db).get(Order, order.id))
    html = owner_client.get("/admin/coupons", headers=EN).get_data(as_text=True)
    assert "Counted" in html and "1 / 10" in html and "100.0%" in html and "40.00" in html
    dashboard = owner_client.get("/admin/", headers=EN).get_data(as_text=True)
    assert "Coupons, last 30 days" in dashboard and "Revenue on orders with a coupon" in dashboard


def test_qr_codes_for_posters(owner_client, db):
    template = make_template(db, code="QR1")
    svg = owner_client.get(f"/admin/coupons/{template.id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"/coupon/QR1" in svg.data
    png = owner_client.get(f"/admin/coupons/{template.id}/qr.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")


def test_delete_only_what_nobody_holds(owner_client, db, member):
    unused = make_template(db, name="Unused")
    held = make_template(db, name="Held")
    with write_transaction(db):
        claim(db, held, member.id, source="page")
    token = csrf_token(owner_client, f"/admin/coupons/{unused.id}")
    assert owner_client.post(f"/admin/coupons/{unused.id}/delete", data={"csrf_token": token}).status_code == 302
    page = owner_client.post(f"/admin/coupons/{held.id}/delete", data={"csrf_token": token}, headers=EN,
                             follow_redirects=True).get_data(as_text=True)
    assert "deactivate it instead" in page
    assert [t.name for t in fresh(db).scalars(select(CouponTemplate))] == ["Held"]


def test_agents_see_and_print_but_do_not_edit(client, agent, db):
    template = make_template(db)
    staff_login(client, "agent@shop.cn", AGENT_PW)
    assert client.get("/admin/coupons").status_code == 200
    assert client.get(f"/admin/coupons/{template.id}").status_code == 200
    assert client.get(f"/admin/coupons/{template.id}/qr.svg").status_code == 200
    assert client.get("/admin/coupons/new").status_code == 403
    token = csrf_token(client, f"/admin/coupons/{template.id}")
    assert client.post(f"/admin/coupons/{template.id}", data={"csrf_token": token, "name": "x"}).status_code == 403
    assert client.post(f"/admin/coupons/{template.id}/delete", data={"csrf_token": token}).status_code == 403


def test_shoppers_and_visitors_cannot_open_the_back_office(client, db):
    assert client.get("/admin/coupons").status_code == 302
    assert client.get("/admin/coupons/new").status_code == 302


def test_empty_list_is_friendly(owner_client):
    html = owner_client.get("/admin/coupons", headers=EN).get_data(as_text=True)
    assert "No coupons yet" in html and "New coupon" in html
