import os
import stat

import pytest
from conftest import csrf

from siyu.storefront import create_app


@pytest.fixture
def siyu_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.mark.parametrize("path,data", [
    ("/cart/add", {"product_id": "1", "quantity": "1"}),
    ("/cart/update", {}),
    ("/account/login", {"email": "a@b.cn", "password": "x"}),
    ("/account/signup", {"email": "a@b.cn", "password": "long-enough"}),
    ("/account/logout", {}),
    ("/checkout", {"payment_method": "manual", "checkout_token": "x"}),
])
def test_forms_without_csrf_token_are_refused(client, products, member, path, data):
    response = client.post(path, data=data, headers={"Accept-Language": "en"})
    assert response.status_code in (400, 302)  # checkout redirects anonymous users to login first
    if response.status_code == 400:
        assert "expired" in response.get_data(as_text=True)


def test_csrf_exempt_set_is_exactly_the_signed_webhook(app):
    from siyu.storefront.extensions import csrf as ext

    exempt = {name for name in ext._exempt_views}
    assert exempt == {"siyu.storefront.views.webhooks.notification"}


def test_security_headers(client):
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_production_cookies_are_secure_and_secret_key_is_generated(tmp_path, monkeypatch):
    monkeypatch.delenv("SIYU_SECRET_KEY", raising=False)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, instance_path=str(tmp_path / "inst"))
    key_file = tmp_path / "inst" / "secret_key"
    assert not (tmp_path / "inst").exists(), "building the app writes nothing: the key comes on first use"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    from siyu.core import migrate
    migrate.upgrade(app.extensions["siyu"])
    response = app.test_client().get("/account/login", base_url="https://shop.test")
    assert key_file.exists() and len(key_file.read_text().strip()) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert app.config["SECRET_KEY"] == key_file.read_text().strip()
    assert "max-age" in response.headers["Strict-Transport-Security"]
    cookie = response.headers.get("Set-Cookie", "")
    assert "siyu_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    again = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, instance_path=str(tmp_path / "inst"))
    again.test_client().get("/account/login", base_url="https://shop.test")
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_passwords_are_hashed(db, member):
    assert member.password_hash != "correct-horse" and member.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_login_is_rate_limited(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'rl.db'}", "SECRET_KEY": "k",
                      "SECURE_COOKIES": False}, instance_path=str(tmp_path / "i"))
    from siyu.core import migrate
    migrate.upgrade(app.extensions["siyu"])
    client = app.test_client()
    codes = []
    for i in range(12):  # a different address each time: the per-address limit, not the account lock
        token = csrf(client, "/account/login")
        codes.append(client.post("/account/login", data={"email": f"x{i}@y.cn", "password": "nope-nope",
                                                         "csrf_token": token}).status_code)
    assert codes[:10] == [401] * 10 and codes[-1] == 429


def test_open_redirects_are_refused(member_client):
    token = csrf(member_client, "/account/login")
    member_client.post("/account/logout", data={"csrf_token": token})
    token = csrf(member_client, "/account/login")
    response = member_client.post("/account/login?next=https://evil.example/x",
                                  data={"email": "buyer@example.com", "password": "correct-horse",
                                        "csrf_token": token})
    assert response.headers["Location"] == "/"
    assert member_client.get("/locale/en?next=//evil.example").headers["Location"] == "/"


def test_signup_errors_are_clear_and_write_nothing(client, db):
    from sqlalchemy import func, select

    from siyu.core.models import Member
    token = csrf(client, "/account/signup")
    response = client.post("/account/signup", data={"email": "not-an-email", "password": "short",
                                                    "csrf_token": token}, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter a valid email address." in html or "Field must be" in html
    assert db.scalar(select(func.count()).select_from(Member)) == 0


def test_message_text_is_escaped(client, db):
    from conftest import make_product
    from siyu.core.db import write_transaction
    product = make_product(db, "XSS")
    with write_transaction(db):
        db.get(type(product), product.id).title_en = "<script>alert(1)</script>"
    html = client.get(f"/p/{product.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
