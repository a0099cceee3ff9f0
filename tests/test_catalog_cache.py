"""The home page's cached product list: fresh after a catalog revision, one entry per key."""
from __future__ import annotations

from siyu.core import hookimpl, settings
from siyu.core.db import write_transaction
from siyu.core.models import Product
from siyu.storefront.cache import fragment_cache
from siyu.storefront.context import invalidate_settings

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def add_product(db, sku, position=0):
    with write_transaction(db):
        product = Product(sku=sku, title_zh=f"商品 {sku}", title_en=f"Product {sku}",
                          description_zh="", description_en="", price=1200, currency="CNY",
                          stock=5, active=True, position=position)
        db.add(product)
        settings.bump_catalog_revision(db)
    return product


def forget_settings(app):
    """What another request sees once the shop settings' short TTL has run out."""
    with app.test_request_context():
        invalidate_settings()


def home(client, headers=EN, query=""):
    response = client.get("/" + query, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_changed_title_shows_once_the_catalog_revision_is_bumped(app, client, db):
    product = add_product(db, "TEA")
    assert "Product TEA" in home(client)

    with write_transaction(db):
        db.get(Product, product.id).title_en = "Spring Longjing"
    forget_settings(app)
    assert "Product TEA" in home(client), "the list is cached until the revision moves"

    with write_transaction(db):
        settings.bump_catalog_revision(db)
    forget_settings(app)
    html = home(client)
    assert "Spring Longjing" in html and "Product TEA" not in html


def test_each_locale_and_sort_gets_its_own_entry(app, client, db):
    add_product(db, "CUP", position=1)
    add_product(db, "POT", position=2)
    english = home(client, EN)
    chinese = home(client, ZH)
    assert "Product CUP" in english and "商品 CUP" not in english
    assert "商品 CUP" in chinese and "Product CUP" not in chinese
    assert home(client, EN) == english and home(client, ZH) == chinese

    newest = home(client, EN, "?sort=newest")
    assert newest.index("Product POT") < newest.index("Product CUP")
    with app.app_context():
        cache = fragment_cache()
        assert len(cache) == 3
        assert cache.hits == 2


def test_the_catalog_products_hook_stays_the_source_of_the_list(client, db, register_plugin):
    add_product(db, "KEEP", position=1)
    add_product(db, "DROP", position=2)
    assert "Product DROP" in home(client)

    class Curation:
        @hookimpl
        def catalog_products(self, session, sort):
            return [p for p in session.query(Product).order_by(Product.id) if p.sku == "KEEP"]

    register_plugin(Curation(), name="test-curated-listing")
    html = home(client)
    assert "Product KEEP" in html and "Product DROP" not in html


def test_an_empty_shop_then_a_first_product(app, client, db):
    assert "Nothing on the shelves yet" in home(client)
    add_product(db, "FIRST")
    forget_settings(app)
    html = home(client)
    assert "Product FIRST" in html and "Nothing on the shelves yet" not in html
