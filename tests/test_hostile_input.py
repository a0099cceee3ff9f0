"""Hostile input never gets a 5xx: every route of the URL map — storefront, back office, API
and every installed plugin — walked anonymously, as a shopper, as the owner and with the
owner's API token, with out-of-range integers, NUL bytes, lone surrogates, non-finite and huge
amounts and 100,000-deep JSON in each path, query, form and JSON parameter
(``siyu.storefront.testing_hostile``). Runs on SQLite and, with
``SIYU_TEST_DATABASE=postgresql``, on PostgreSQL, which refuses more of these values.
"""
import pytest
from backoffice_helpers import admin_csrf, bearer, make_staff, paid_order, placed_order, staff_login
from chat_helpers import json_headers
from conftest import csrf, login, make_product

from siyu.core.members import sign_up
from siyu.core.plugins import installed_entry_points
from siyu.storefront.testing_hostile import HostileWalk


@pytest.fixture
def siyu_config():
    return {"PLUGINS": "*"}


def _shop(app, kernel, db):
    member = sign_up(kernel, db, email="buyer@example.com", password="correct-horse", name="Buyer")
    tea = make_product(db, "TEA", price=5000, stock=50)
    make_product(db, "CUP", price=1200, stock=50)
    placed = placed_order(kernel, db, member, tea, "h-placed")
    paid = paid_order(kernel, db, member, tea, "h-paid")
    owner = make_staff(db, "owner")
    return member, tea, placed, paid, owner


def _area(prefix: str):
    return lambda rule: rule.rule.startswith(prefix)


def _storefront(rule) -> bool:
    return not rule.rule.startswith(("/admin", "/api/"))


@pytest.mark.parametrize("siyu_config", [{"PLUGINS": []}, {"PLUGINS": "*"}], ids=["core", "every plugin"])
def test_hostile_input_on_every_route_gets_a_4xx(app, kernel, db):
    member, tea, placed, paid, owner = _shop(app, kernel, db)
    shopper = app.test_client()
    login(shopper)
    shopper_token = json_headers(shopper)["X-CSRFToken"]  # opens the chat: conversation 1
    benign = {"product_id": tea.id, "order_id": paid.id, "number": paid.number, "member_id": member.id,
              "staff_id": owner.id, "key": "main", "code": "en", "name": "curation", "filename": "style.css"}
    walk = HostileWalk(app, benign)

    # The API first: the back-office walk may revoke a token (with an id it finds).
    api = app.test_client()
    walk.run(api, headers=bearer(db, owner), only=_area("/api/"), json_csrf=False)

    anonymous = app.test_client()
    walk.run(anonymous, csrf_token=csrf(anonymous, "/account/login"),
             only=lambda r: _storefront(r) or r.rule == "/admin/login")

    walk.run(shopper, csrf_token=shopper_token,
             only=lambda r: _storefront(r) and not r.endpoint.endswith("logout"))

    staff = staff_login(app.test_client(), owner)
    walk.run(staff, csrf_token=admin_csrf(staff),
             only=lambda r: r.rule.startswith("/admin") and not r.endpoint.endswith("logout"))

    assert not walk.failures, walk.report()
    plugins_on = [ep.name for ep in installed_entry_points() if kernel.pm.get_plugin(ep.name)]
    # The walk really covered the app: about 2,500 requests for the core, 4,000 with every plugin.
    assert walk.requests > (3500 if len(plugins_on) >= 6 else 2000), walk.requests


DEEP = "[" * 100_000 + "]" * 100_000


def test_the_requests_reported_as_500_answer_4xx(app, kernel, db):
    """Each request the hardening review saw answer 500 (on PostgreSQL), one by one."""
    member, tea, placed, paid, owner = _shop(app, kernel, db)
    enabled = {ep.name for ep in installed_entry_points() if kernel.pm.get_plugin(ep.name)}
    answers = {}

    anonymous = app.test_client()
    token = csrf(anonymous, "/account/login")
    answers["GET /p/2147483648"] = anonymous.get("/p/2147483648")
    answers["login, NUL in the email"] = anonymous.post("/account/login", data={
        "email": "a\x00@example.com", "password": "correct-horse", "csrf_token": token})
    answers["sign-up, NUL in the name"] = anonymous.post("/account/signup", data={
        "email": "new@example.com", "password": "correct-horse", "name": "a\x00b", "csrf_token": token})
    answers["sign-up, NUL in the email"] = anonymous.post("/account/signup", data={
        "email": "new\x00@example.com", "password": "correct-horse", "csrf_token": token})
    answers["POST /cart/add product_id=2147483648"] = anonymous.post("/cart/add", data={
        "product_id": "2147483648", "quantity": "1", "csrf_token": token})
    if "curation" in enabled:
        answers["GET /c/a%00"] = anonymous.get("/c/a%00")

    shopper = app.test_client()
    login(shopper)
    headers = json_headers(shopper)
    answers["GET /orders/SY%00"] = shopper.get("/orders/SY%00")
    answers["chat, NUL"] = shopper.post("/chat/messages", json={"text": "a\x00b"}, headers=headers)
    answers["chat, lone surrogate"] = shopper.post("/chat/messages", data='{"text": "\\ud800"}',
                                                   content_type="application/json", headers=headers)
    answers["chat, 100,000-deep JSON"] = shopper.post("/chat/messages", data=DEEP, content_type="application/json",
                                                      headers=headers)
    if "checkin" in enabled:
        answers["check-in make-up, deep JSON"] = shopper.post("/checkin/makeup", data=DEEP,
                                                              content_type="application/json", headers=headers)

    staff = staff_login(app.test_client(), owner)
    token = admin_csrf(staff)
    for page in ("orders", "members", "products"):
        answers[f"GET /admin/{page}?q=a%00b"] = staff.get(f"/admin/{page}?q=a%00b")
    for amount in ("Infinity", "1e999999"):
        answers[f"refund {amount}"] = staff.post(f"/admin/orders/{paid.id}/refund", data={
            "amount": amount, "reason": "x", "idempotency_key": "k-" + amount, "csrf_token": token})
        answers[f"product price {amount}"] = staff.post("/admin/products/new", data={
            "sku": "NEW", "title_zh": "新", "title_en": "New", "price": amount, "currency": "CNY",
            "csrf_token": token})
        if "coupons" in enabled:
            answers[f"coupon amount {amount}"] = staff.post("/admin/coupons/new", data={
                "name": "Tea", "kind": "fixed", "amount": amount, "scope": "all", "csrf_token": token})
    if "coupons" in enabled:
        answers["coupon quantity 2147483648"] = staff.post("/admin/coupons/new", data={
            "name": "Tea", "kind": "fixed", "amount": "5", "quantity": "2147483648", "scope": "all",
            "csrf_token": token})
    if "curation" in enabled:
        auth = bearer(db, owner)
        answers["curation API product_id 2147483648"] = staff.post(
            "/api/v1/curation/catalogs/main/items", json={"product_id": 2147483648}, headers=auth)
        answers["curation API deep JSON"] = staff.post("/api/v1/curation/catalogs/main/items", data=DEEP,
                                                       content_type="application/json", headers=auth)

    wrong = {what: r.status_code for what, r in answers.items() if not 400 <= r.status_code < 500}
    assert not wrong, wrong
    assert all("\x00" not in r.get_data(as_text=True) for r in answers.values())


EN = {"Accept-Language": "en"}
BIDI = "Tea \u202egnp.exe"  # the back office would show "Tea exe.png"
BIDI_REFUSED = "Remove the text-direction control characters."


@pytest.mark.parametrize("control", [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]])
def test_the_name_check_refuses_every_bidirectional_control(control):
    from siyu.core.validation import name_problem

    assert str(name_problem(f"Li{control}Hua")) == BIDI_REFUSED
    assert name_problem("李华 Li Hua (VIP) ←→") is None


PRODUCT = {"sku": "BIDI", "price": "1", "title_zh": "茶", "title_en": "Tea"}
#: (plugin or None, who, the page with the form, the form's action, the name field, other fields)
NAME_FORMS = [
    (None, "anonymous", "/account/signup", "/account/signup", "name",
     {"email": "bidi@example.com", "password": "correct-horse"}),
    (None, "owner", "/admin/products/new", "/admin/products/new", "title_zh", PRODUCT),
    (None, "owner", "/admin/products/new", "/admin/products/new", "title_en", PRODUCT),
    (None, "owner", "/admin/staff", "/admin/staff", "name",
     {"email": "bidi@shop.cn", "password": "a-long-staff-password-9"}),
    (None, "owner", "/admin/tokens", "/admin/tokens", "name", {}),
    ("coupons", "owner", "/admin/coupons/new", "/admin/coupons/new", "name", {"amount": "5"}),
    ("qr_channels", "owner", "/admin/channels/new", "/admin/channels/new", "name", {}),
    ("crm_tags", "owner", "/admin/crm/tags", "/admin/crm/tags", "name", {}),
    ("crm_tags", "owner", "/admin/crm/tags", "/admin/crm/groups", "name", {}),
    ("curation", "owner", "/admin/curation/", "/admin/curation/catalogs", "title", {"key": "bidi"}),
    ("distribution", "owner", "/admin/distribution/lessons/new", "/admin/distribution/lessons/new", "title",
     {"body": "Read me"}),
]


@pytest.mark.parametrize("plugin, who, page, action, field, other", NAME_FORMS,
                         ids=[f"{a}:{f}" for _p, _w, _pg, a, f, _o in NAME_FORMS])
def test_names_refuse_bidirectional_controls_with_a_field_error(app, kernel, db, plugin, who, page, action,
                                                                 field, other):
    from siyu.storefront.testing_hostile import page_forms

    if plugin and not kernel.pm.get_plugin(plugin):
        pytest.skip(f"{plugin} is not installed")
    client = app.test_client()
    if who == "owner":
        staff_login(client, make_staff(db, "owner"))
    fields = page_forms(client.get(page, headers={"Accept-Language": "en"}), page)[action]
    response = client.post(action, data={**fields, **other, field: BIDI}, headers={"Accept-Language": "en"},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert BIDI_REFUSED in html, (response.status_code, html[:2000])
    assert "\u202e" not in html.replace(f'value="{BIDI}"', ""), "the name is shown only in the form's field"


def test_the_api_refuses_a_bidirectional_product_title(app, db):
    owner = make_staff(db, "owner")
    response = app.test_client().post("/api/v1/products", headers={**bearer(db, owner), **EN}, json={
        "sku": "BIDI", "title_zh": BIDI, "title_en": "Tea", "price": 100, "currency": "CNY"})
    assert response.status_code == 422 and response.json["errors"]["title_zh"] == BIDI_REFUSED
