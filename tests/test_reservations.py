"""Stock held by unpaid orders: caps per member and per browser, and expiry without cron.

The attack these stop: one member placed 99 + 99 + 99 + 3 units in four unpaid orders and
held all 300 units of a product for 30 minutes, or for good when ``expire-orders`` was not
run from cron. The race of concurrent checkouts under a cap is in ``test_reservations_pg.py``.
"""
import re
import uuid
from datetime import timedelta

import pytest
from backoffice_helpers import admin_csrf, make_staff, staff_login
from conftest import TOKEN, add_to_cart, checkout, fresh, login, make_product
from sqlalchemy import func, select, update

from siyu.core import settings
from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import ValidationError
from siyu.core.members import sign_up
from siyu.core.models import Order, OrderLine, Payment, Product
from siyu.core.orders import cancel_order, confirm_manual_payment, place_order
from siyu.core.reservations import UnpaidLimitReached
from siyu.core.shop_settings import update_shop_settings
from siyu.storefront.testing import give_address

EN = {"Accept-Language": "en"}


def buy(kernel, db, member, product, quantity=1, token=None, visitor=None):
    return place_order(kernel, db, member=member, items={product.id: quantity}, payment_method="manual",
                       checkout_token=token or f"tok-{uuid.uuid4().hex}",
                       visitor_id=visitor)


def orders_of(db, member):
    return fresh(db).scalar(select(func.count(Order.id)).where(Order.member_id == member.id))


def stock(db, product):
    return fresh(db).scalar(select(Product.stock).where(Product.id == product.id))


def set_caps(db, orders=None, units=None):
    with write_transaction(db):
        if orders is not None:
            settings.put(db, "core", "unpaid_orders_cap", orders)
        if units is not None:
            settings.put(db, "core", "unpaid_units_cap", units)


def overdue(db, *orders):
    """Let the reservation of ``orders`` run out, as 30 minutes would."""
    with write_transaction(db):
        db.execute(update(Order).where(Order.id.in_([o.id for o in orders]))
                   .values(expires_at=utcnow() - timedelta(minutes=1)))


def test_the_hoarding_attack_holds_at_most_the_caps(kernel, db, member):
    product = make_product(db, "TEA", stock=300)
    for quantity in (99, 99, 99, 3):  # the reported attack, with the default caps (3 orders, 50 units)
        try:
            buy(kernel, db, member, product, quantity)
        except UnpaidLimitReached:
            pass
    assert stock(db, product) == 297  # only the order of 3 went through
    for _ in range(5):  # many small orders: three at most
        try:
            buy(kernel, db, member, product, 10)
        except UnpaidLimitReached:
            pass
    assert orders_of(db, member) == 3 and stock(db, product) == 300 - 3 - 20


def test_unpaid_orders_per_member_are_capped_and_paying_or_cancelling_frees_a_place(kernel, db, member):
    product = make_product(db, "TEA", stock=100)
    first, second, _third = (buy(kernel, db, member, product) for _ in range(3))
    with pytest.raises(UnpaidLimitReached) as refused:
        buy(kernel, db, member, product)
    assert refused.value.status == 409 and "unpaid_orders" in refused.value.fields
    assert orders_of(db, member) == 3 and stock(db, product) == 97  # nothing written
    cancel_order(kernel, db, first, "customer")
    fourth = buy(kernel, db, member, product)
    with write_transaction(db):
        db.add(Payment(order_id=second.id, provider="manual", reference="m-2", amount=second.total,
                       currency="CNY"))
    confirm_manual_payment(kernel, db, second)
    buy(kernel, db, member, product)  # a paid order does not count
    with pytest.raises(UnpaidLimitReached):
        buy(kernel, db, member, product)
    assert fourth.status == "placed" and stock(db, product) == 96


def test_units_in_unpaid_orders_per_member_are_capped(kernel, db, member):
    product = make_product(db, "TEA", stock=300)
    with pytest.raises(UnpaidLimitReached) as refused:
        buy(kernel, db, member, product, 51)  # one order above the cap
    assert "unpaid_units" in refused.value.fields
    buy(kernel, db, member, product, 45)
    with pytest.raises(UnpaidLimitReached):
        buy(kernel, db, member, product, 6)
    buy(kernel, db, member, product, 5)
    assert stock(db, product) == 250
    other = make_product(db, "CUP", stock=10)  # units count across products
    with pytest.raises(UnpaidLimitReached):
        buy(kernel, db, member, other, 1)


def test_a_double_submit_at_the_cap_returns_the_first_order(kernel, db, member):
    product = make_product(db, "TEA", stock=10)
    buy(kernel, db, member, product)
    buy(kernel, db, member, product)
    third = buy(kernel, db, member, product, token="same-form")
    assert buy(kernel, db, member, product, token="same-form").id == third.id


def test_unpaid_orders_per_browser_are_capped_across_accounts(kernel, db, member):
    product = make_product(db, "TEA", stock=100)
    other = sign_up(kernel, db, email="other@example.com", password="correct-horse")
    buy(kernel, db, member, product, 20, visitor="browser-one-0001")
    buy(kernel, db, other, product, 20, visitor="browser-one-0001")
    with pytest.raises(UnpaidLimitReached) as refused:  # 40 + 20 > 50 units on one browser
        buy(kernel, db, other, product, 20, visitor="browser-one-0001")
    assert "unpaid_units" in refused.value.fields
    buy(kernel, db, other, product, 10, visitor="browser-one-0001")
    with pytest.raises(UnpaidLimitReached) as refused:  # three orders on that browser already
        buy(kernel, db, other, product, 1, visitor="browser-one-0001")
    assert "unpaid_orders" in refused.value.fields
    buy(kernel, db, other, product, 1, visitor="browser-two-0002")  # his own cap still has room
    assert stock(db, product) == 100 - 51


def test_overdue_orders_are_released_when_another_shopper_checks_out(kernel, db, member):
    """No cron and no worker: the next checkout of the product gives the stock back first."""
    product = make_product(db, "LAST", stock=5)
    hoard = buy(kernel, db, member, product, 5)
    assert stock(db, product) == 0
    overdue(db, hoard)
    other = sign_up(kernel, db, email="other@example.com", password="correct-horse")
    order = buy(kernel, db, other, product, 2)
    assert order.status == "placed" and stock(db, product) == 3
    hoard = fresh(db).get(Order, hoard.id)
    assert (hoard.status, hoard.cancel_reason) == ("cancelled", "expired")


def test_a_members_overdue_orders_do_not_count_against_his_caps(kernel, db, member):
    product = make_product(db, "TEA", stock=100)
    old = [buy(kernel, db, member, product, 10) for _ in range(3)]
    overdue(db, *old)
    buy(kernel, db, member, product, 50)
    assert stock(db, product) == 50
    assert {o.status for o in fresh(db).scalars(select(Order).where(Order.id.in_([o.id for o in old])))} == \
        {"cancelled"}


def test_a_sold_out_page_and_the_cart_release_overdue_orders(app, kernel, db, member):
    product = make_product(db, "LAST", stock=2)
    overdue(db, buy(kernel, db, member, product, 2))
    give_address(db, sign_up(kernel, db, email="other@example.com", password="correct-horse"))
    client = app.test_client()
    login(client, "other@example.com")
    page = client.get(f"/p/{product.id}", headers=EN).get_data(as_text=True)
    assert "Add to cart" in page and "Sold out" not in page
    overdue(db, buy(kernel, db, member, product, 2))  # sold out again, and overdue again
    assert add_to_cart(client, product.id, 2).status_code == 302
    assert checkout(client).status_code == 302
    assert stock(db, product) == 0 and orders_of(db, member) == 2


def test_checkout_page_refusal_leads_to_the_orders(member_client, kernel, db, member):
    product = make_product(db, "TEA", stock=10)
    set_caps(db, orders=1)
    buy(kernel, db, member, product)
    add_to_cart(member_client, product.id)
    member_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    refused = checkout(member_client)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "/account/orders" in html and "Pay or cancel one first" in html
    assert orders_of(db, member) == 1


def test_the_refusal_as_a_json_problem(member_client, kernel, db, member):
    product = make_product(db, "TEA", stock=10)
    set_caps(db, orders=1)
    buy(kernel, db, member, product)
    add_to_cart(member_client, product.id)
    page = member_client.get("/checkout").get_data(as_text=True)
    token = TOKEN.search(page)
    data = {"payment_method": "manual", "csrf_token": token.group(1) or token.group(2),
            "checkout_token": re.search(r'name="checkout_token" type="hidden" value="([^"]+)"', page).group(1)}
    refused = member_client.post("/checkout", data=data, headers={"Accept": "application/json", **EN})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert "Pay or cancel one first" in body["title"] and "unpaid_orders" in body["errors"]


BASE = {"shop_name": "Tea", "currency": "CNY", "timezone": "Asia/Shanghai", "default_locale": "zh_CN"}


@pytest.mark.parametrize("key, value", [
    ("unpaid_orders_cap", -1), ("unpaid_orders_cap", 0), ("unpaid_orders_cap", 101),
    ("unpaid_units_cap", -5), ("unpaid_units_cap", 0), ("unpaid_units_cap", 10_001),
    ("unpaid_units_cap", "12"), ("unpaid_orders_cap", True), ("unpaid_orders_cap", 2 ** 40),
])
def test_caps_out_of_range_are_refused_with_field_errors(db, key, value):
    with pytest.raises(ValidationError) as refused:
        update_shop_settings(db, {**BASE, key: value})
    assert list(refused.value.fields) == [key]
    assert settings.get_all(fresh(db), "core")[key] in (3, 50)  # unchanged defaults


def test_caps_are_edited_in_the_back_office(client, kernel, db, member):
    staff_login(client, make_staff(db, "owner"))
    page = client.get("/admin/settings", headers=EN).get_data(as_text=True)
    assert "Unpaid orders per shopper" in page and 'value="3"' in page and 'value="50"' in page
    token = admin_csrf(client, "/admin/settings")
    form = {**BASE, "csrf_token": token}
    for bad in ({"unpaid_orders_cap": "-1"}, {"unpaid_units_cap": "100000"}, {"unpaid_orders_cap": "many"}):
        response = client.post("/admin/settings", data={**form, "unpaid_units_cap": "50",
                                                        "unpaid_orders_cap": "3", **bad}, headers=EN)
        assert response.status_code == 422, bad
        assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert client.post("/admin/settings", data={**form, "unpaid_orders_cap": "1", "unpaid_units_cap": "7"}
                       ).status_code == 302
    assert {k: v for k, v in settings.get_all(fresh(db), "core").items() if k.startswith("unpaid")} == \
        {"unpaid_orders_cap": 1, "unpaid_units_cap": 7}
    assert client.post("/admin/settings", data=form).status_code == 302  # a form without them keeps them
    assert settings.get_all(fresh(db), "core")["unpaid_units_cap"] == 7
    product = make_product(db, "TEA", stock=100)
    with pytest.raises(UnpaidLimitReached):
        buy(kernel, db, member, product, 8)
    buy(kernel, db, member, product, 7)
    with pytest.raises(UnpaidLimitReached):
        buy(kernel, db, member, product, 1)


def test_the_worker_expires_unpaid_orders_on_its_schedule(kernel, db, member):
    from siyu.core import jobs

    task = jobs.queue(kernel).siyu_tasks["expire_unpaid_orders"]
    assert task.task_class.validate_datetime  # a periodic task: the consumer runs it every minute
    product = make_product(db, "TEA", stock=5)
    overdue(db, buy(kernel, db, member, product, 5))
    task.call_local()
    assert stock(db, product) == 5
    assert fresh(db).scalar(select(func.count(OrderLine.id))) == 1


def test_a_bank_transfer_holds_its_stock_for_days_not_the_card_minutes(kernel, db, member):
    """The money of a transfer arrives in days: its order must not lapse after 30 minutes."""
    product = make_product(db, "TRANSFER", stock=5)
    transfer = fresh(db).get(Order, buy(kernel, db, member, product).id)
    held = transfer.expires_at - transfer.placed_at
    assert held == timedelta(minutes=kernel.config["MANUAL_RESERVATION_MINUTES"]) >= timedelta(days=3)
    assert held > timedelta(minutes=kernel.config["RESERVATION_MINUTES"])
