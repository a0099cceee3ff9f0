"""Error pages are made without the database, always carry the security headers, and a database
outage answers 503 with ``Retry-After``; the shop serves normally as soon as the database is back.

Before: after a failed query the error handler read the locale and the shop's settings (and
the signed-in member) in the aborted transaction, raised again, and the answer was the
server's bare 500 with no security headers; with PostgreSQL stopped every request got that.

The database is made to fail from the engine's ``before_cursor_execute`` event (as
``tests/test_faults.py`` fails its COMMITs). On PostgreSQL the failing statement first runs
one that the server refuses, so the session's transaction is really left aborted: any later
statement but ROLLBACK fails there. ``down`` keeps every later statement and the ROLLBACK
failing too, as when the server is gone. Each test runs on SQLite and on PostgreSQL.
"""
import pytest
from backoffice_helpers import bearer, make_staff
from conftest import TOKEN, add_to_cart, login, make_product
from fault_helpers import failing_database, statements
from flask import Blueprint
from sqlalchemy import text

from siyu.core import hookimpl
from siyu.core import settings as core_settings
from siyu.core.db import write_transaction
from siyu.core.members import sign_up
from siyu.storefront.context import db as request_db

BUSY_ZH = "店铺现在有点忙，请稍后再试。"
BUSY_EN = "The shop is busy right now. Please try again in a moment."
BROKEN_ZH = "出了点问题，请重试。"


boom = Blueprint("boom", __name__)


@boom.get("/boom")
def unexpected():
    request_db().execute(text("SELECT 1"))  # a transaction is open on the request's session
    raise RuntimeError("an unexpected bug")


@boom.get("/boom-db")
def failed_statement():
    # A statement the database refuses (NOT NULL): on PostgreSQL the transaction is aborted.
    request_db().execute(text("INSERT INTO products (sku) VALUES (NULL)"))
    return "unreachable"


class BoomPlugin:
    __name__ = "boom"

    @hookimpl
    def register_blueprints(self, register):
        register(boom)

    @hookimpl
    def cart_adjustments(self, session, stage):
        session.execute(text("SELECT 'pricing plugin reads'"))  # as a member-price plugin would
        return None


@pytest.fixture
def siyu_config():
    # As in production: an unexpected exception is answered by the app's 500 page instead of
    # being raised into the test (which TESTING does by default).
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def siyu_plugins():
    return [BoomPlugin()]


@pytest.fixture(params=["default", "postgresql"])
def shop(request):
    """The suite's database (SQLite unless SIYU_TEST_DATABASE says otherwise), then PostgreSQL."""
    application = request.getfixturevalue("app" if request.param == "default" else "pg_app")
    session = application.extensions["siyu"].db.Session()
    sign_up(application.extensions["siyu"], session, email="buyer@example.com", password="correct-horse",
            name="Buyer")
    product = make_product(session, "ERR-1")
    application.product_id = product.id
    application.owner_token = bearer(session, make_staff(session, "owner"))
    session.close()
    yield application


def assert_error_page(response, status, text, lang="zh-Hans-CN"):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    # The shop's page (its layout and link home), in the shop's language, not a bare message.
    assert f'<html lang="{lang}">' in html and text in html, html[:600]
    assert 'class="card error"' in html and 'href="/"' in html


@pytest.mark.parametrize("down", [False, True], ids=["aborted-transaction", "server-down"])
def test_a_database_failure_answers_503_with_the_error_page_and_no_further_query(shop, down):
    client = shop.test_client()
    with failing_database(shop, down=down) as fault:
        response = client.get("/")
    assert_error_page(response, 503, BUSY_ZH)
    assert response.headers["Retry-After"] == "5"
    assert fault.failed and fault.after_failure == [], "the error page touched the database"
    assert "private" not in response.headers.get("Cache-Control", ""), "an anonymous page"


@pytest.mark.parametrize("down", [False, True], ids=["aborted-transaction", "server-down"])
def test_a_signed_in_shopper_gets_the_503_page_kept_private(shop, down):
    client = shop.test_client()
    login(client)
    for skip in (0, 1):  # the member's own row, or a later statement of the page
        with failing_database(shop, skip=skip, down=down) as fault:
            response = client.get("/account/orders")
        assert_error_page(response, 503, BUSY_ZH)
        assert response.headers["Retry-After"] == "5"
        assert response.headers["Cache-Control"] == "private, no-store"
        assert fault.after_failure == []
        assert client.get("/account/orders").status_code == 200, "still signed in once the database is back"


@pytest.mark.parametrize("down", [False, True], ids=["aborted-transaction", "server-down"])
def test_the_api_and_a_form_post_answer_503_problems_and_pages(shop, down):
    client = shop.test_client()
    with failing_database(shop, down=down) as fault:
        api = client.get("/api/v1/products", headers=shop.owner_token)
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    assert api.headers["Retry-After"] == "5" and api.get_json()["status"] == 503
    assert "default-src 'self'" in api.headers["Content-Security-Policy"]
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert fault.after_failure == []
    login(client)
    match = TOKEN.search(client.get(f"/p/{shop.product_id}").get_data(as_text=True))
    token = match.group(1) or match.group(2)
    with failing_database(shop, down=down) as fault:
        post = client.post("/cart/add", data={"product_id": shop.product_id, "quantity": 1, "csrf_token": token})
    assert_error_page(post, 503, BUSY_ZH)
    assert fault.after_failure == []


def test_the_shop_serves_normally_right_after_an_outage(shop):
    client = shop.test_client()
    login(client)
    with failing_database(shop, down=True):
        for path in ("/", "/account/orders", f"/p/{shop.product_id}", "/cart/"):
            assert client.get(path).status_code == 503, path
    for path in ("/", "/account/orders", f"/p/{shop.product_id}", "/cart/"):
        assert client.get(path).status_code == 200, path


def test_an_outage_page_speaks_the_language_the_worker_last_read(shop):
    """Without the database the page falls back to what this worker read last, else the
    defaults: a shop whose default language is English keeps English error pages."""
    session = shop.extensions["siyu"].db.Session()
    with write_transaction(session):
        core_settings.put(session, "core", "default_locale", "en")
    session.close()
    client = shop.test_client()
    product = f"/p/{shop.product_id}"  # reads the stock live: it needs the database
    assert client.get(product).status_code == 200  # this worker reads the shop's settings
    with failing_database(shop, down=True):
        assert_error_page(client.get(product), 503, BUSY_EN, lang="en")
    with shop.app_context():  # a worker that never read them (just started) uses the defaults
        shop.extensions.pop("siyu_settings_cache", None)
    with failing_database(shop, down=True):
        assert_error_page(client.get(product), 503, BUSY_ZH)


def test_an_unexpected_exception_renders_the_500_page_without_the_database(shop):
    client = shop.test_client()
    with statements(shop) as seen:
        response = client.get("/boom")
    assert_error_page(response, 500, BROKEN_ZH)
    assert seen == ["SELECT 1"], "nothing but the view's own statement"
    login(client)
    with statements(shop) as seen:
        response = client.get("/boom")
    assert_error_page(response, 500, BROKEN_ZH)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert seen == ["SELECT 1"], "the member is not loaded for the page"
    assert client.get("/").status_code == 200


def test_a_refused_statement_in_a_view_renders_the_500_page(shop):
    """The failed query leaves PostgreSQL's transaction aborted: the error page must neither
    read in it nor fail with it."""
    client = shop.test_client()
    with statements(shop) as seen:
        response = client.get("/boom-db")
    assert_error_page(response, 500, BROKEN_ZH)
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO products"), seen
    assert client.get("/").status_code == 200


def test_a_404_is_rendered_without_the_database(shop):
    client = shop.test_client()
    with statements(shop) as seen:
        response = client.get("/no-such-page")
    assert_error_page(response, 404, "找不到该页面。")
    assert seen == []
    with statements(shop) as seen:
        english = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert_error_page(english, 404, "We could not find that page.", lang="en")
    assert seen == []


@pytest.mark.parametrize("down", [False, True], ids=["aborted-transaction", "server-down"])
def test_an_outage_inside_a_plugins_transactional_hook_is_a_503_not_the_plugins_fault(shop, down):
    """Before: the cart answered 409 "the change could not be completed: <plugin> failed"."""
    client = shop.test_client()
    add_to_cart(client, shop.product_id)
    assert client.get("/cart/").status_code == 200
    with failing_database(shop, down=down, match="pricing plugin reads") as fault:
        response = client.get("/cart/")
    assert fault.failed
    assert_error_page(response, 503, BUSY_ZH)
    assert response.headers["Retry-After"] == "5"
    assert client.get("/cart/").status_code == 200


def test_a_page_that_cannot_be_rendered_becomes_a_plain_page_with_the_headers(app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the template is broken")

    monkeypatch.setattr("siyu.storefront.errors._render_page", broken)
    response = app.test_client().get("/no-such-page")
    assert response.status_code == 404 and "<h1>" in response.get_data(as_text=True)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_after_request_function_failing_on_an_error_page_leaves_the_headers(app):
    def explode(response):
        if response.status_code >= 400:
            raise RuntimeError("a plugin's after_request failed")
        return response

    app.after_request_funcs.setdefault(None, []).append(explode)  # runs before the headers' own
    try:
        response = app.test_client().get("/no-such-page")
    finally:
        app.after_request_funcs[None].remove(explode)
    assert response.status_code == 500
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert BROKEN_ZH in response.get_data(as_text=True)
