"""Delivery at checkout: what the cart needs, the address book, pickup, the shipping fee and
provinces not served, refused before payment."""
import pytest
from conftest import add_to_cart, checkout, fresh, login, make_product
from sqlalchemy import select

from siyu.core.db import write_transaction
from siyu.core.errors import ValidationError
from siyu.core.members import sign_up
from siyu.core.models import Order, Product
from siyu.core.shipping_fees import update_delivery_settings, validate
from siyu.storefront.testing import give_address

RULES = {"shipping_fee": 1000, "free_shipping_over": 20000, "province_surcharges": {"540000": 2000},
         "unserved_provinces": ["710000"], "auto_complete_days": 10, "after_sale_days": 15,
         "express_enabled": True, "pickup_enabled": True,
         "pickup_locations": [{"name": "西湖门店", "address": "杭州市西湖区文三路 90 号", "hours": "10:00–20:00"}]}


@pytest.fixture
def rules(db):
    return update_delivery_settings(db, RULES)


def orders(db):
    fresh(db)
    return db.scalars(select(Order).order_by(Order.id)).all()


def fee_line(order):
    return [a.amount for a in order.adjustments if a.code == "shipping"]


def test_express_checkout_copies_the_address_and_charges_the_flat_fee(member_client, member, db, rules):
    product = make_product(db, "TEA", price=5000, stock=5)
    add_to_cart(member_client, product.id, 2)
    assert "10.00" in member_client.get("/cart/").get_data(as_text=True)  # the fee shows on the cart
    page = member_client.get("/checkout").get_data(as_text=True)
    assert "王小明" in page and "Place order" in page or "提交订单" in page
    assert checkout(member_client).status_code == 302
    (order,) = orders(db)
    assert (order.delivery_method, order.delivery.recipient, order.delivery.phone) == ("express", "王小明", "+8613812345678")
    assert order.delivery.region_text() == "浙江省 杭州市 西湖区"
    assert fee_line(order) == [1000] and order.total == 11000
    page = member_client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "文三路 90 号 501" in page and "10.00" in page


def test_free_above_the_threshold_and_surcharges_for_remote_provinces(kernel, member_client, member, db, rules):
    product = make_product(db, "TEA", price=10000, stock=5)
    tibet = give_address(db, member, province_code="540000", city_code="540100", district_code="540102")
    add_to_cart(member_client, product.id, 2)
    assert checkout(member_client, extra={"address_id": str(tibet.id)}).status_code == 302
    (order,) = orders(db)
    assert fee_line(order) == [2000], "free shipping waives the flat fee, not the surcharge"
    assert order.delivery.province_name == "西藏自治区"


def test_a_province_not_served_is_refused_before_payment(member_client, member, db, rules):
    product = make_product(db, "TEA", price=5000, stock=5)
    taipei = give_address(db, member, province_code="710000", city_code="710100", district_code="710101")
    add_to_cart(member_client, product.id, 1)
    page = member_client.get(f"/checkout?address_id={taipei.id}", headers={"Accept-Language": "en"})
    assert "we do not deliver to 台湾省" in page.get_data(as_text=True)
    response = checkout(member_client, extra={"address_id": str(taipei.id)})
    assert response.status_code == 422 and orders(db) == []
    assert db.get(Product, product.id).stock == 5


def test_goods_that_ship_need_an_address(kernel, app, db, rules):
    sign_up(kernel, db, email="new@example.com", password="password-123")
    client = app.test_client()
    login(client, "new@example.com", "password-123")
    add_to_cart(client, make_product(db, "TEA", stock=5).id, 1)
    assert "/account/addresses/new" in client.get("/checkout").get_data(as_text=True)
    assert checkout(client, extra={"delivery_method": "express"}).status_code == 422
    assert checkout(client, extra={"address_id": "999"}).status_code == 422
    assert orders(db) == []


def test_someone_elses_address_is_not_accepted(kernel, member_client, member, db, rules):
    other = sign_up(kernel, db, email="o@example.com", password="password-123")
    theirs = give_address(db, other, recipient="别人")
    add_to_cart(member_client, make_product(db, "TEA", stock=5).id, 1)
    assert checkout(member_client, extra={"address_id": str(theirs.id)}).status_code == 422
    assert orders(db) == []


def test_pickup_at_a_shop_location_costs_nothing(member_client, member, db, rules):
    add_to_cart(member_client, make_product(db, "TEA", price=5000, stock=5).id, 1)
    page = member_client.get("/checkout?delivery_method=pickup").get_data(as_text=True)
    assert "西湖门店" in page and "10:00–20:00" in page
    assert checkout(member_client, extra={"delivery_method": "pickup", "pickup_code": "1"}).status_code == 302
    (order,) = orders(db)
    assert (order.delivery_method, order.delivery.pickup_name, fee_line(order)) == ("pickup", "西湖门店", [])
    add_to_cart(member_client, order.lines[0].product_id, 1)
    assert checkout(member_client, extra={"delivery_method": "pickup", "pickup_code": "9"}).status_code == 422
    assert len(orders(db)) == 1


def test_pickup_is_refused_when_the_shop_offers_none(member_client, member, db):
    add_to_cart(member_client, make_product(db, "TEA", stock=5).id, 1)
    assert checkout(member_client, extra={"delivery_method": "pickup"}).status_code == 422
    assert orders(db) == []


def test_virtual_products_need_no_delivery(kernel, app, db, rules):
    sign_up(kernel, db, email="v@example.com", password="password-123")
    with write_transaction(db):
        card = Product(sku="CARD", title_zh="会员卡", title_en="Member card", price=9900, currency="CNY", stock=5,
                       requires_shipping=False)
        db.add(card)
    client = app.test_client()
    login(client, "v@example.com", "password-123")
    add_to_cart(client, card.id, 1)
    assert "virtual products" in client.get("/checkout", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert checkout(client).status_code == 302
    (order,) = orders(db)
    assert (order.delivery_method, order.total, fee_line(order)) == ("none", 9900, [])
    add_to_cart(client, card.id, 1)
    assert checkout(client, extra={"delivery_method": "express"}).status_code == 422, "nothing to deliver"


def test_delivery_settings_are_validated():
    with pytest.raises(ValidationError) as caught:
        validate({**RULES, "shipping_fee": -1, "free_shipping_over": "lots", "auto_complete_days": 0,
                  "province_surcharges": {"540000": "x"}, "unserved_provinces": ["999999"],
                  "pickup_locations": [{"name": "", "address": "somewhere"}]})
    assert set(caught.value.fields) == {"shipping_fee", "free_shipping_over", "auto_complete_days",
                                        "surcharge_540000", "unserved_provinces", "pickup_locations"}
    clean = validate({**RULES, "province_surcharges": {"540000": "2000", "650000": ""}})
    assert clean["province_surcharges"] == {"540000": 2000}
    assert clean["pickup_locations"][0]["code"] == "1"
