"""CSRF on every state-changing route, found by walking the URL map with every installed
plugin enabled: the only routes that take a POST without a token are the signature-checked
webhook and the Bearer-token API (which never reads a cookie). Security headers on the
storefront, the back office and the API; every cookie HttpOnly, Secure and SameSite.
"""
import pytest
from backoffice_helpers import OWNER_PW, make_staff, staff_login
from conftest import login, make_product

from siyu.core import migrate
from siyu.core.plugins import installed_entry_points
from siyu.storefront import create_app

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_REFUSAL = "was not sent by this shop"
EN = {"Accept-Language": "en"}


@pytest.fixture
def siyu_config():
    return {"PLUGINS": "*", "WTF_CSRF_ENABLED": True}


def dummy_path(rule) -> str:
    values = {name: 1 if type(conv).__name__ in ("IntegerConverter", "NumberConverter") else "x"
              for name, conv in rule._converters.items()}
    return rule.build(values, append_unknown=False)[1]


def unsafe_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & UNSAFE):
            yield rule, method


def test_every_state_changing_route_needs_a_csrf_token_except_the_signed_and_token_ones(app, db, member):
    client = app.test_client()
    login_client = app.test_client()
    login(login_client)  # signed in: refused for the missing token, not for being anonymous
    exempt, checked = set(), 0
    for rule, method in unsafe_routes(app):
        for who in (client, login_client):
            response = who.open(dummy_path(rule), method=method, data={"x": "1"}, headers=EN)
            body = response.get_data(as_text=True)
            if not (response.status_code == 400 and CSRF_REFUSAL in body):
                exempt.add((method, rule.endpoint))
        checked += 1
    api = {(m, r.endpoint) for r, m in unsafe_routes(app) if r.rule.startswith("/api/v1/")}
    assert exempt == {("POST", "webhooks.notification")} | api
    # The walk really covered the app: the core alone has about 40 such routes, with every
    # bundled plugin about 80.
    plugins_on = [ep.name for ep in installed_entry_points() if app.extensions["siyu"].pm.get_plugin(ep.name)]
    assert checked >= (60 if len(plugins_on) >= 6 else 30), checked


def test_the_api_never_takes_a_cookie_for_authentication(app, db):
    client = app.test_client()
    staff_login(client, make_staff(db, "owner"))
    for rule, method in unsafe_routes(app):
        if rule.rule.startswith("/api/v1/"):
            response = client.open(dummy_path(rule), method=method, json={})
            assert response.status_code == 401, (method, rule.rule, response.status_code)


def test_security_headers_on_storefront_back_office_and_api(app, db):
    product = make_product(db, "HDR")
    client = app.test_client()
    for path in ("/", f"/p/{product.id}", "/account/login", "/admin/login", "/api/v1/openapi.json",
                 "/api/v1/orders", "/no-such-page", "/webhooks/stripe"):
        response = client.open(path, method="POST" if path.startswith("/webhooks") else "GET")
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert "default-src 'self'" in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert "camera=()" in headers["Permissions-Policy"], path


def test_every_cookie_is_httponly_secure_and_samesite(tmp_path, monkeypatch):
    monkeypatch.delenv("SIYU_SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "PLUGINS": "*", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False}, instance_path=str(tmp_path / "inst"))
    migrate.upgrade(app.extensions["siyu"])
    session = app.extensions["siyu"].db.Session()
    from siyu.core.members import sign_up

    sign_up(app.extensions["siyu"], session, email="buyer@example.com", password="correct-horse")
    owner = make_staff(session, "owner")
    client = app.test_client()
    cookies = []
    base = "https://shop.test"
    cookies += client.get("/?ref=x", base_url=base).headers.getlist("Set-Cookie")
    cookies += client.post("/account/login", base_url=base, data={
        "email": "buyer@example.com", "password": "correct-horse"}).headers.getlist("Set-Cookie")
    staff = client.post("/admin/login", base_url=base, data={"email": owner.email, "password": OWNER_PW})
    cookies += staff.headers.getlist("Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"siyu_vid", "siyu_session"} <= names, names
    for cookie in cookies:
        flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite"} <= flags, cookie
    staff_cookies = [c for c in cookies if c.startswith("siyu_staff=")]
    assert staff_cookies and all("SameSite=Strict" in c and "Path=/admin" in c for c in staff_cookies), cookies
    session.close()
    app.extensions["siyu"].db.dispose()
