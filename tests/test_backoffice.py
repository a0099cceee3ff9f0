"""Back office pages: products and images, orders, members and plugin panels, settings,
staff and API tokens."""
import io

import pytest
from backoffice_helpers import admin_csrf, make_staff, shop, staff_login
from conftest import fresh
from sqlalchemy import func, select

from siyu.core import hookimpl
from siyu.core.models import ApiToken, Order, Product, ProductImage, StaffUser
from siyu.core.settings import get_all

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EN = {"Accept-Language": "en"}


@pytest.fixture
def owner_client(client, db):
    return staff_login(client, make_staff(db, "owner"))


def test_create_edit_and_deactivate_a_product(owner_client, db):
    token = admin_csrf(owner_client, "/admin/products/new")
    data = {"csrf_token": token, "sku": "OOLONG-1", "title_zh": "乌龙", "title_en": "Oolong",
            "description_zh": "", "description_en": "", "price": "128.50", "currency": "CNY",
            "stock": "12", "position": "1", "active": "y"}
    response = owner_client.post("/admin/products/new", data=data)
    assert response.status_code == 302
    product = fresh(db).scalar(select(Product).where(Product.sku == "OOLONG-1"))
    assert product.price == 12850 and product.stock == 12 and product.active
    # a bad price and a taken SKU are field errors, nothing is written
    bad = owner_client.post("/admin/products/new", data={**data, "price": "1.234"})
    assert bad.status_code == 422 and "12.50" in bad.get_data(as_text=True)
    taken = owner_client.post("/admin/products/new", data={**data, "price": "1"})
    assert taken.status_code == 422
    assert fresh(db).scalar(select(func.count(Product.id))) == 1
    edit = owner_client.post(f"/admin/products/{product.id}", data={**data, "price": "99", "stock": "3"})
    assert edit.status_code == 302
    assert fresh(db).get(Product, product.id).price == 9900
    owner_client.post(f"/admin/products/{product.id}/active", data={"csrf_token": token, "active": "0"})
    assert not fresh(db).get(Product, product.id).active
    assert owner_client.get(f"/p/{product.id}").status_code == 404


def test_image_upload_checks_content_and_size(owner_client, db, app):
    db_product = shop_product(db)
    token = admin_csrf(owner_client, f"/admin/products/{db_product.id}")
    url = f"/admin/products/{db_product.id}/images"

    def upload(content, name="x.png"):
        return owner_client.post(url, data={"csrf_token": token, "alt": "tea",
                                            "image": (io.BytesIO(content), name)},
                                 content_type="multipart/form-data", headers=EN, follow_redirects=True)

    assert "PNG, JPEG, WebP or GIF" in upload(b"<svg onload=alert(1)>", "evil.png").get_data(as_text=True)
    assert "at most 5 MB" in upload(b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024)).get_data(as_text=True)
    assert fresh(db).scalar(select(func.count(ProductImage.id))) == 0
    page = upload(PNG).get_data(as_text=True)
    image = fresh(db).scalar(select(ProductImage))
    assert image.path.startswith("media/products/") and image.path.endswith(".png")
    assert "evil" not in image.path
    served = owner_client.get("/" + image.path)
    assert served.status_code == 200 and served.data == PNG
    assert image.path in page
    path = image.path
    owner_client.post(f"{url}/{image.id}/delete", data={"csrf_token": token})
    assert fresh(db).scalar(select(func.count(ProductImage.id))) == 0
    assert owner_client.get("/" + path).status_code == 404


def shop_product(db):
    from conftest import make_product

    return make_product(db, "IMG-1")


def test_orders_list_filters_and_paginates(owner_client, kernel, db):
    s = shop(kernel, db)
    html = owner_client.get("/admin/orders?status=placed", headers=EN).get_data(as_text=True)
    assert s["placed"].number in html and s["paid"].number not in html
    html = owner_client.get("/admin/orders?q=b@example.com").get_data(as_text=True)
    assert s["b_paid"].number in html and s["paid"].number not in html
    assert "No orders match" in owner_client.get("/admin/orders?from=2001-01-01&to=2001-01-02",
                                                 headers=EN).get_data(as_text=True)
    assert owner_client.get("/admin/orders?page=999&from=nonsense").status_code == 200


def test_mark_paid_and_cancel_from_the_order_page(owner_client, kernel, db):
    s = shop(kernel, db)
    token = admin_csrf(owner_client, f"/admin/orders/{s['placed'].id}")
    assert owner_client.post(f"/admin/orders/{s['placed'].id}/mark-paid", data={"csrf_token": token}).status_code == 302
    assert fresh(db).get(Order, s["placed"].id).status == "paid"
    # cancelling a paid order is refused with a message, not a 500
    page = owner_client.post(f"/admin/orders/{s['placed'].id}/cancel", data={"csrf_token": token},
                             headers=EN, follow_redirects=True)
    assert "Only an unpaid order can be cancelled." in page.get_data(as_text=True)
    other = shop_order(kernel, db, s)
    owner_client.post(f"/admin/orders/{other.id}/cancel", data={"csrf_token": token})
    assert fresh(db).get(Order, other.id).status == "cancelled"
    assert owner_client.post(f"/admin/orders/{other.id}/cancel").status_code == 400  # no CSRF token


def shop_order(kernel, db, s):
    from backoffice_helpers import placed_order

    return placed_order(kernel, db, s["b"], s["cup"], "b-placed")


class Panel:
    @hookimpl
    def admin_member_panel(self, member, session, staff):
        from markupsafe import Markup

        return Markup("<p class='tagpanel'>tags of %s</p>") % member.email


class BrokenPanel:
    @hookimpl
    def admin_member_panel(self, member):
        raise RuntimeError("panel down")


def test_member_search_and_page_with_plugin_panels(owner_client, kernel, db, register_plugin):
    s = shop(kernel, db)
    register_plugin(Panel(), "panel")
    register_plugin(BrokenPanel(), "broken")
    html = owner_client.get("/admin/members?q=alice").get_data(as_text=True)
    assert "a@example.com" in html and "b@example.com" not in html
    page = owner_client.get(f"/admin/members/{s['a'].id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "tags of a@example.com" in html and s["paid"].number in html and s["b_paid"].number not in html


def test_shop_settings(owner_client, db, client):
    token = admin_csrf(owner_client, "/admin/settings")
    data = {"csrf_token": token, "shop_name": "茶小铺", "currency": "CNY", "timezone": "Asia/Shanghai",
            "default_locale": "en"}
    bad = owner_client.post("/admin/settings", data={**data, "timezone": "Mars/Olympus"})
    assert bad.status_code == 422
    assert owner_client.post("/admin/settings", data=data).status_code == 302
    values = get_all(fresh(db), "core")
    assert values["shop_name"] == "茶小铺" and values["default_locale"] == "en"
    assert "茶小铺" in owner_client.get("/admin/settings").get_data(as_text=True)


def test_staff_accounts_and_deactivation(owner_client, db, app):
    token = admin_csrf(owner_client, "/admin/staff")
    weak = owner_client.post("/admin/staff", data={"csrf_token": token, "email": "new@shop.cn", "name": "N",
                                                    "role": "agent", "password": "short"})
    assert weak.status_code == 422
    ok = owner_client.post("/admin/staff", data={"csrf_token": token, "email": "new@shop.cn", "name": "N",
                                                  "role": "agent", "password": "long-enough-pass-77"})
    assert ok.status_code == 302
    agent = fresh(db).scalar(select(StaffUser).where(StaffUser.email == "new@shop.cn"))
    agent_client = app.test_client()
    login = agent_client.post("/admin/login", data={"csrf_token": admin_csrf(agent_client, "/admin/login"),
                                                     "email": "new@shop.cn", "password": "long-enough-pass-77"})
    assert login.status_code == 302 and agent_client.get("/admin/").status_code == 200
    owner_client.post(f"/admin/staff/{agent.id}/active", data={"csrf_token": token, "active": "0"})
    assert agent_client.get("/admin/").status_code == 302  # signed out everywhere
    me = fresh(db).scalar(select(StaffUser).where(StaffUser.role == "owner"))
    owner_client.post(f"/admin/staff/{me.id}/active", data={"csrf_token": token, "active": "0"})
    assert fresh(db).get(StaffUser, me.id).active


def test_api_token_is_shown_once_and_stored_hashed(client, db):
    agent = make_staff(db, "agent")
    staff_login(client, agent)
    token = admin_csrf(client, "/admin/tokens")
    too_much = client.post("/admin/tokens", data={"csrf_token": token, "name": "ci", "role": "owner"})
    assert too_much.status_code == 422
    page = client.post("/admin/tokens", data={"csrf_token": token, "name": "ci", "role": "agent"})
    html = page.get_data(as_text=True)
    import re

    secret = re.search(r'<code class="secret">(siyu_[^<]+)</code>', html).group(1)
    row = fresh(db).scalar(select(ApiToken))
    assert row.token_hash != secret and secret not in client.get("/admin/tokens").get_data(as_text=True)
    assert client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    client.post(f"/admin/tokens/{row.id}/revoke", data={"csrf_token": token})
    assert client.get("/api/v1/products", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_agent_menu_hides_owner_pages(client, db):
    staff_login(client, make_staff(db, "agent"))
    html = client.get("/admin/", headers=EN).get_data(as_text=True)
    assert "/admin/orders" in html and "/admin/members" in html
    assert "/admin/settings" not in html and "/admin/plugins" not in html and "/admin/staff" not in html


def test_staff_login_is_rate_limited(tmp_path):
    from siyu.storefront import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "k", "SECURE_COOKIES": False,
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "RATELIMIT_ENABLED": True},
                     instance_path=str(tmp_path))
    from siyu.core import migrate

    migrate.upgrade(app.extensions["siyu"])
    client = app.test_client()
    codes = []
    for i in range(7):  # a different address each time: the per-address limit, not the account lock
        codes.append(client.post("/admin/login", data={"csrf_token": admin_csrf(client, "/admin/login"),
                                                       "email": f"x{i}@shop.cn", "password": "wrong-password!"}).status_code)
    assert codes[:5] == [401] * 5 and codes[-1] == 429
    app.extensions["siyu"].db.dispose()


def test_pages_are_usable_on_a_phone(owner_client, kernel, db):
    shop(kernel, db)
    for path in ("/admin/orders", "/admin/members", "/admin/products"):
        html = owner_client.get(path).get_data(as_text=True)
        assert 'name="viewport"' in html and 'class="table-scroll"' in html
