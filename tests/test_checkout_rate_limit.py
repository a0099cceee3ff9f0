"""Checkout is rate-limited per member (``CHECKOUT_RATE_LIMIT``), whatever address he uses."""
import pytest
from conftest import add_to_cart, checkout, login, make_product

from siyu.core.members import sign_up
from siyu.storefront.testing import give_address


@pytest.fixture
def siyu_config():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", "CHECKOUT_RATE_LIMIT": "3/minute"}


def test_checkouts_beyond_the_limit_get_429(app, db, member):
    product = make_product(db, "TEA", stock=100)
    client = app.test_client()
    login(client)
    codes = []
    for i in range(4):
        add_to_cart(client, product.id)
        codes.append(checkout(client, token=f"rate-{i}",
                              extra={} if i % 2 else {"payment_method": "bitcoin"}).status_code)
    assert codes == [422, 302, 422, 429]  # refused attempts count too
    assert client.get("/checkout").status_code == 200  # reading the page is not limited
    other = app.test_client()  # another member on the same address is not limited by him
    give_address(db, sign_up(app.extensions["siyu"], db, email="other@example.com", password="correct-horse"))
    login(other, "other@example.com")
    add_to_cart(other, product.id)
    assert checkout(other).status_code == 302


def test_the_limit_is_read_from_the_configuration(app, db, member):
    app.config["CHECKOUT_RATE_LIMIT"] = "1/minute"
    product = make_product(db, "TEA", stock=100)
    client = app.test_client()
    login(client)
    add_to_cart(client, product.id)
    assert checkout(client).status_code == 302
    add_to_cart(client, product.id)
    response = checkout(client, token="second")
    assert response.status_code == 429 and "Retry-After" in response.headers
