import pytest
from conftest import add_to_cart, csrf


def test_add_update_and_remove(client, products):
    first = products[0]
    assert add_to_cart(client, first.id, 2).status_code == 302
    html = client.get("/cart/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Product SKU-0" in html and "¥20.00" in html
    token = csrf(client, "/cart/")
    client.post("/cart/update", data={f"qty-{first.id}": "0", "csrf_token": token})
    html = client.get("/cart/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your cart is empty." in html


@pytest.mark.parametrize("quantity", ["0", "-1", "100", "abc", "99999999999999999999"])
def test_bad_quantities_are_refused_without_changing_the_cart(client, products, quantity):
    token = csrf(client, f"/p/{products[0].id}")
    response = client.post("/cart/add", data={"product_id": products[0].id, "quantity": quantity,
                                              "csrf_token": token},
                           headers={"Accept": "application/json"})
    assert response.status_code in (400, 422)
    assert response.is_json and "title" in response.get_json()
    with client.session_transaction() as session:
        assert not session.get("cart")


def test_unknown_product_is_404(client, products):
    token = csrf(client, f"/p/{products[0].id}")
    response = client.post("/cart/add", data={"product_id": 424242, "quantity": 1, "csrf_token": token})
    assert response.status_code == 404


def test_client_sent_price_is_ignored(client, products):
    token = csrf(client, f"/p/{products[0].id}")
    client.post("/cart/add", data={"product_id": products[0].id, "quantity": 1, "price": 1,
                                   "csrf_token": token})
    html = client.get("/cart/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "¥10.00" in html and "¥0.01" not in html


def test_adding_more_than_stock_caps_at_stock(client, db):
    from conftest import make_product

    product = make_product(db, "FEW", stock=2)
    add_to_cart(client, product.id, 5)
    with client.session_transaction() as session:
        assert session["cart"] == {str(product.id): 2}


def test_tampered_cart_cookie_entries_are_dropped(client, products):
    with client.session_transaction() as session:
        session["cart"] = {str(products[0].id): 1, "evil": 5, "777777": 1, str(products[1].id): -3}
    response = client.get("/cart/", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Product SKU-0" in html and "Product SKU-1" not in html
    assert "no longer available" in html
