"""Pages with personal data are never kept by a shared cache: every answer to a signed-in
shopper or staff member, every back-office page and every API answer carries
``Cache-Control: private, no-store``, core and plugin routes alike (found by walking the URL
map with every installed plugin enabled, no per-view code); anonymous catalog pages and static
files stay cacheable."""
import pytest
from backoffice_helpers import bearer, make_staff, paid_order, staff_login
from conftest import login, make_product

from siyu.core.plugins import installed_entry_points

EN = {"Accept-Language": "en"}


@pytest.fixture
def siyu_config():
    return {"PLUGINS": "*"}


def kept_private(response) -> bool:
    """``private, no-store``, or a policy the view chose that keeps shared caches out too
    (a distributor's poster download: ``private, max-age=300``)."""
    policy = (response.headers.get("Cache-Control") or "").lower()
    return policy == "private, no-store" or "private" in policy or "no-store" in policy


def walk(app, client, rules, values, headers=None):
    """GET every rule (path parameters from ``values``, else 1 or "x"); yields (path, response)."""
    for rule in rules:
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        if rule.endpoint == "media.file":
            continue
        args = {name: values.get(name, 1 if type(conv).__name__ in ("IntegerConverter", "NumberConverter") else "x")
                for name, conv in rule._converters.items()}
        path = rule.build(args, append_unknown=False)[1]
        yield path, client.get(path, headers={**EN, **(headers or {})})


def enabled_plugins(app):
    return [ep.name for ep in installed_entry_points() if app.extensions["siyu"].pm.get_plugin(ep.name)]


@pytest.fixture
def shop(app, kernel, db, member):
    product = make_product(db, "PRIV", price=1200, stock=20)
    order = paid_order(kernel, db, member, product, "priv-1")
    return {"product": product, "order": order, "values": {"number": order.number, "product_id": product.id,
                                                           "order_id": order.id, "member_id": member.id}}


def test_every_page_a_signed_in_shopper_opens_is_private(app, shop):
    client = app.test_client()
    login(client)
    rules = [r for r in app.url_map.iter_rules() if not r.rule.startswith(("/admin", "/api/"))]
    seen = {}
    for path, response in walk(app, client, rules, shop["values"]):
        seen[path] = response.status_code
        assert kept_private(response), (path, response.status_code, response.headers.get("Cache-Control"))
    # The walk reached the pages that show personal data, the plugins' among them.
    number = shop["order"].number
    expected = ["/account/orders", f"/orders/{number}", "/chat", "/account/password"]
    plugins = enabled_plugins(app)
    for name, pages in (("distribution", ["/distribution/"]), ("coupons", ["/account/coupons"]),
                        ("crm_tags", ["/account/member-card"]), ("checkin", ["/checkin"])):
        if name in plugins:
            expected += pages
    for path in expected:
        assert seen.get(path) == 200, (path, seen.get(path))
    assert len(seen) >= (25 if len(plugins) >= 6 else 12), len(seen)


def test_every_back_office_page_and_api_answer_is_private(app, db, shop):
    owner = make_staff(db, "owner")
    client = staff_login(app.test_client(), owner)
    admin = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin")]
    statuses = {}
    for path, response in walk(app, client, admin, shop["values"]):
        statuses[path] = response.status_code
        assert kept_private(response), (path, response.status_code, response.headers.get("Cache-Control"))
    assert statuses.get("/admin/orders") == 200 and statuses.get("/admin/members") == 200
    assert statuses.get(f"/admin/orders/{shop['order'].number}", statuses.get(f"/admin/orders/{shop['order'].id}")) == 200
    # Signed out, the back office's login page is private too (it is under /admin).
    assert app.test_client().get("/admin/login").headers["Cache-Control"] == "private, no-store"
    api = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")]
    token = bearer(db, owner)
    api_statuses = {}
    for path, response in walk(app, app.test_client(), api, shop["values"], headers=token):
        api_statuses[path] = response.status_code
        assert response.headers.get("Cache-Control") == "private, no-store", (path, response.status_code)
    assert api_statuses.get("/api/v1/orders") == 200
    assert app.test_client().get("/api/v1/orders").headers["Cache-Control"] == "private, no-store"  # 401


def test_anonymous_catalog_pages_and_static_files_stay_cacheable(app, client, db, shop):
    for path in ("/", f"/p/{shop['product'].id}"):
        response = client.get(path, headers=EN)
        assert response.status_code == 200, path
        policy = (response.headers.get("Cache-Control") or "").lower()
        assert "no-store" not in policy and "private" not in policy, (path, policy)
    login(client)
    css = client.get("/static/siyu.css")
    assert css.status_code == 200 and "no-store" not in (css.headers.get("Cache-Control") or "")
    assert client.get("/", headers=EN).headers["Cache-Control"] == "private, no-store"  # signed in now
