from datetime import timedelta

import pytest
from conftest import add_to_cart, checkout, fresh, make_product
from sqlalchemy import func, select

from siyu.core import hookimpl
from siyu.core.db import utcnow, write_transaction
from siyu.core.models import Order, OrderLine, Payment, Product
from siyu.core.orders import confirm_manual_payment, expire_unpaid


def count(db, model):
    fresh(db)
    return db.scalar(select(func.count()).select_from(model))


def stock(db, product_id):
    fresh(db)
    return db.scalar(select(Product.stock).where(Product.id == product_id))


def test_checkout_requires_login(client, products):
    add_to_cart(client, products[0].id)
    response = client.get("/checkout")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_empty_cart_goes_back_to_the_cart(member_client):
    response = member_client.get("/checkout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart/")


def test_manual_checkout_places_order_reserves_stock_and_clears_cart(member_client, products, db):
    add_to_cart(member_client, products[0].id, 3)
    response = checkout(member_client)
    assert response.status_code == 302
    number = response.headers["Location"].rsplit("/", 1)[-1]
    order = db.scalar(select(Order).where(Order.number == number))
    assert order.status == "placed" and order.total == 3000 and order.payment_method == "manual"
    assert [(line.sku, line.quantity, line.total) for line in order.lines] == [("SKU-0", 3, 3000)]
    assert stock(db, products[0].id) == 7
    assert db.scalar(select(Payment.status).where(Payment.order_id == order.id)) == "pending"
    with member_client.session_transaction() as session:
        assert session["cart"] == {}
    page = member_client.get(f"/orders/{number}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Awaiting payment" in page and "bank transfer" in page


def test_double_submit_places_one_order(member_client, products, db):
    add_to_cart(member_client, products[0].id, 1)
    first = checkout(member_client, token="same-token-123")
    add_to_cart(member_client, products[0].id, 1)  # the cart was cleared; a retry re-sends the form
    second = checkout(member_client, token="same-token-123")
    assert first.headers["Location"] == second.headers["Location"]
    assert count(db, Order) == 1
    assert stock(db, products[0].id) == 9


def test_out_of_stock_is_refused_and_writes_nothing(member_client, db):
    product = make_product(db, "LAST", stock=1)
    add_to_cart(member_client, product.id, 1)
    with write_transaction(db):
        db.get(Product, product.id).stock = 0
    response = checkout(member_client)
    assert response.status_code == 409
    assert count(db, Order) == 0 and count(db, OrderLine) == 0
    assert stock(db, product.id) == 0


def test_unknown_payment_method_is_refused(member_client, products, db):
    add_to_cart(member_client, products[0].id)
    response = checkout(member_client, payment_method="bitcoin")
    assert response.status_code == 422
    assert count(db, Order) == 0


def test_stripe_is_not_offered_without_keys(member_client, products):
    add_to_cart(member_client, products[0].id)
    html = member_client.get("/checkout").get_data(as_text=True)
    assert 'value="manual"' in html and 'value="stripe"' not in html


def test_cancel_releases_stock_and_runs_hook(member_client, products, db, register_plugin):
    cancelled = []

    class Listener:
        @hookimpl
        def on_order_cancelled(self, order, reason):
            cancelled.append((order.number, reason))

    register_plugin(Listener())
    add_to_cart(member_client, products[0].id, 4)
    number = checkout(member_client).headers["Location"].rsplit("/", 1)[-1]
    assert stock(db, products[0].id) == 6
    page = member_client.get(f"/orders/{number}")
    from conftest import TOKEN
    token = TOKEN.search(page.get_data(as_text=True))
    response = member_client.post(f"/orders/{number}/cancel", data={"csrf_token": token.group(1) or token.group(2)})
    assert response.status_code == 302
    assert stock(db, products[0].id) == 10
    assert cancelled == [(number, "customer")]
    again = member_client.post(f"/orders/{number}/cancel", data={"csrf_token": token.group(1) or token.group(2)})
    assert again.status_code == 409 and stock(db, products[0].id) == 10


def test_plugin_failing_in_order_placed_aborts_everything(member_client, products, db, register_plugin):
    class Broken:
        @hookimpl
        def on_order_placed(self, order):
            raise RuntimeError("boom")

    register_plugin(Broken(), name="broken-plugin")
    add_to_cart(member_client, products[0].id, 2)
    response = checkout(member_client)
    assert response.status_code == 409
    assert "broken-plugin" in response.get_data(as_text=True)
    assert count(db, Order) == 0 and stock(db, products[0].id) == 10


def test_manual_payment_confirmation_runs_paid_hook_once(app, member_client, products, db, kernel, register_plugin):
    paid = []

    class Listener:
        @hookimpl
        def on_order_paid(self, order, payment):
            paid.append((order.number, payment.provider))

    register_plugin(Listener())
    add_to_cart(member_client, products[0].id)
    number = checkout(member_client).headers["Location"].rsplit("/", 1)[-1]
    order = db.scalar(select(Order).where(Order.number == number))
    confirm_manual_payment(kernel, db, order)
    with pytest.raises(Exception):
        confirm_manual_payment(kernel, db, order)
    assert paid == [(number, "manual")]
    fresh(db)
    assert db.get(Order, order.id).status == "paid"


def test_expired_orders_release_stock(member_client, products, db, kernel):
    add_to_cart(member_client, products[1].id, 2)
    checkout(member_client)
    assert stock(db, products[1].id) == 8
    term = kernel.config["MANUAL_RESERVATION_MINUTES"]  # a bank transfer holds its stock for days
    assert expire_unpaid(kernel, db, now=utcnow() + timedelta(minutes=5)) == 0
    assert expire_unpaid(kernel, db, now=utcnow() + timedelta(minutes=term - 1)) == 0
    assert expire_unpaid(kernel, db, now=utcnow() + timedelta(minutes=term + 1)) == 1
    assert stock(db, products[1].id) == 10


def test_another_members_order_is_not_found(client, member_client, products, kernel, db):
    add_to_cart(member_client, products[0].id)
    number = checkout(member_client).headers["Location"].rsplit("/", 1)[-1]
    member_client.post("/account/logout", data={"csrf_token": __import__("conftest").csrf(member_client, "/")})
    from siyu.core.members import sign_up
    from conftest import login
    sign_up(kernel, db, email="other@example.com", password="other-password")
    login(member_client, "other@example.com", "other-password")
    assert member_client.get(f"/orders/{number}").status_code == 404
    assert member_client.get(f"/orders/{number}/status.json").status_code == 404


def test_an_order_discounted_to_zero_is_paid_at_once(member_client, products, db, register_plugin):
    from siyu.core.pricing import Adjustment

    class FullDiscount:
        @hookimpl
        def cart_adjustments(self, cart, stage):
            if stage == "order":
                return [Adjustment("gift", "Gift", -cart.total, source="test")]

    register_plugin(FullDiscount())
    add_to_cart(member_client, products[0].id)
    response = checkout(member_client, payment_method="manual")
    number = response.headers["Location"].rsplit("/", 1)[-1]
    fresh(db)
    order = db.scalar(select(Order).where(Order.number == number))
    assert order.total == 0 and order.status == "paid"
    assert [(a.code, a.amount) for a in order.adjustments] == [("gift", -1000)]
    assert db.scalar(select(Payment.provider).where(Payment.order_id == order.id)) == "free"
