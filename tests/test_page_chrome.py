"""What every storefront page carries: plugin stylesheets and nav links (registered once,
rendered once per worker), the signed-in member read with the chat badge in one statement,
and the product page's cached copy with live stock."""
from __future__ import annotations

from sqlalchemy import event, update

from siyu.core import hookimpl, settings
from siyu.core.db import write_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Product
from siyu.storefront.extensions import limiter

from conftest import login, make_product

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


class Chrome:
    @hookimpl
    def register_stylesheets(self, register):
        register("static", "favicon.svg")  # any static file: the link is what is checked

    @hookimpl
    def register_nav_links(self, register):
        register("account.orders", _l("My orders"), signed_in=True, order=5, css_class="plugin-orders")
        register("account.login", _l("Log in"), signed_in=False, order=5, css_class="plugin-login")
        register("catalog.home", "Everyone <home>", signed_in=None, order=1)


def test_plugin_stylesheets_and_nav_links_follow_sign_in_and_locale(client, member, register_plugin):
    register_plugin(Chrome(), name="chrome-test")
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/favicon.svg">' in html
    assert 'class="plugin-login">Log in</a>' in html and "plugin-orders" not in html
    assert "Everyone &lt;home&gt;</a>" in html, "labels are escaped"
    assert html.index("Everyone &lt;home&gt;") < html.index("plugin-login"), "sorted by order"
    assert 'class="plugin-login">登录</a>' in client.get("/", headers=ZH).get_data(as_text=True)

    login(client)
    html = client.get("/", headers=EN).get_data(as_text=True)
    assert 'class="plugin-orders">My orders</a>' in html and "plugin-login" not in html
    assert 'class="plugin-orders">我的订单</a>' in client.get("/", headers=ZH).get_data(as_text=True)


def test_a_plugin_registered_later_shows_on_the_next_page(client, register_plugin):
    assert "plugin-login" not in client.get("/").get_data(as_text=True)
    register_plugin(Chrome(), name="chrome-test")
    assert "plugin-login" in client.get("/").get_data(as_text=True)


def test_a_signed_in_page_reads_the_member_and_the_badge_in_one_statement(app, client, member, products):
    login(client)
    client.get("/")  # the list, the shop settings and the chrome are cached from here
    statements = []
    engine = app.extensions["siyu"].db.engine

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert "/account/logout" in client.get("/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1 and "conversations" in selects[0] and "members" in selects[0], statements


def test_the_product_page_shows_live_stock_from_a_cached_copy(client, db):
    product = make_product(db, "LEAF", stock=10)
    with write_transaction(db):
        settings.bump_catalog_revision(db)
    page = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    assert "Product LEAF" in page and "Only" not in page and 'max="10"' in page

    with write_transaction(db):  # orders take stock without touching the catalog revision
        db.execute(update(Product).where(Product.id == product.id).values(stock=3))
    page = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    assert "Only 3 left." in page and 'max="3"' in page

    with write_transaction(db):
        db.execute(update(Product).where(Product.id == product.id).values(stock=0))
    page = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    assert "Sold out" in page and "/cart/add" not in page

    with write_transaction(db):
        db.execute(update(Product).where(Product.id == product.id).values(active=False))
    assert client.get(f"/p/{product.id}").status_code == 404, "a deactivated product is gone at once"
    assert client.get("/p/999999").status_code == 404


def test_the_cached_product_follows_the_catalog_revision(app, client, db):
    from siyu.storefront.context import invalidate_settings

    product = make_product(db, "CUP")
    assert "Product CUP" in client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    with write_transaction(db):
        db.get(Product, product.id).title_en = "Celadon cup"
        settings.bump_catalog_revision(db)
    with app.test_request_context():
        invalidate_settings()  # what another worker sees once the settings' TTL runs out
    assert "Celadon cup" in client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)


def test_rate_limits_need_no_check_before_every_request(app):
    """Decorated routes check their own limits; the app-wide check is dropped when no
    default or application limit exists (the sign-in limit itself is tested in test_security)."""
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])


def test_a_default_limit_keeps_the_check(siyu_config, tmp_path):
    from siyu.storefront import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                      "RATELIMIT_DEFAULT": "1000/hour"}, instance_path=str(tmp_path))
    try:
        assert limiter._check_request_limit in app.before_request_funcs.get(None, [])
    finally:
        limiter.limit_manager.set_default_limits([])
        app.extensions["siyu"].db.dispose()
