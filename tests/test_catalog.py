from conftest import make_product

from siyu.core.db import write_transaction


def test_home_lists_active_products_in_position_order(client, db):
    make_product(db, "B", position=2)
    make_product(db, "A", position=1)
    make_product(db, "HIDDEN", active=False)
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html.index("Product A") < html.index("Product B")
    assert "Product HIDDEN" not in html


def test_empty_catalog_has_a_friendly_empty_state(client):
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert "Nothing on the shelves yet" in response.get_data(as_text=True)


def test_price_sorts_and_unknown_sort_falls_back(client, db):
    make_product(db, "CHEAP", price=100, position=2)
    make_product(db, "DEAR", price=9000, position=1)
    asc = client.get("/?sort=price_asc", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert asc.index("Product CHEAP") < asc.index("Product DEAR")
    desc = client.get("/?sort=price_desc", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert desc.index("Product DEAR") < desc.index("Product CHEAP")
    odd = client.get("/?sort=<script>", headers={"Accept-Language": "en"})
    assert odd.status_code == 200 and "<script>" not in odd.get_data(as_text=True)


def test_product_page_and_missing_products(client, db):
    product = make_product(db, "TEA", price=16800)
    html = client.get(f"/p/{product.id}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "商品 TEA" in html and "¥168.00" in html
    assert client.get("/p/999999").status_code == 404
    with write_transaction(db):
        db.get(type(product), product.id).active = False
    assert client.get(f"/p/{product.id}").status_code == 404


def test_unknown_route_is_a_clear_404(client):
    response = client.get("/nope", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "We could not find that page." in response.get_data(as_text=True)
