"""A third-party group buy (拼团), written on the public plugin API only, through the shop: its
price is exclusive with member prices and coupons unless the owner allows stacking, the cart
and checkout pages show the price the order is placed at, it limits the units at its price,
and it cancels its orders with its own reason."""
from __future__ import annotations

import pytest
from backoffice_helpers import make_staff, staff_login
from conftest import add_to_cart, checkout, fresh, make_product
from sqlalchemy import select
from test_pricing_rules import MemberPrice, NaiveCoupon

from siyu.plugin import Adjustment, Order, cancel_order, hookimpl, place_order, register_cancel_reason

JOINED = "group_buy"  # what the plugin's "join this group" page keeps in the browser session
INPUT = "group_buy.group"
register_cancel_reason("group_buy:failed", "The group did not fill in time")


class GroupBuy:
    def __init__(self, sku="TEA", price=2900, limit=None, stacking=False):
        self.sku, self.price, self.limit, self.stacking = sku, price, limit, stacking
        self.placed, self.cancelled = [], []

    @hookimpl
    def pricing_inputs(self, browser):
        return {INPUT: str(browser[JOINED])} if JOINED in browser else None

    @hookimpl
    def cart_adjustments(self, cart, stage):
        line = cart.line_for(self.sku)
        if stage != "item" or line is None or INPUT not in cart.inputs:
            return None
        rules = {} if self.stacking else {"exclusive": True, "excludes": ("member_price", "coupon")}
        return [Adjustment("group_price", "Group price", source="group_buy", sku=line.sku, kind="group_price",
                           unit_price=self.price, max_quantity=self.limit, data={"group": cart.inputs[INPUT]},
                           **rules)]

    @hookimpl
    def on_order_placed(self, order, cart):
        self.placed += [(a.quantity, a.amount) for a in cart.adjustments if a.source == "group_buy"]

    @hookimpl
    def on_order_cancelled(self, order, reason):
        self.cancelled.append(reason)


class Pages:
    """Where the cart was priced for a shopper."""

    def __init__(self):
        self.seen = []

    @hookimpl
    def pricing_inputs(self, where, inputs, browser):
        self.seen.append(where)
        assert all(isinstance(value, str) for value in inputs.values())
        if where != "order" or browser:  # the storefront's pages and checkout pass the browser session
            assert "cart" in browser and "_user_id" not in browser and "csrf_token" not in browser


@pytest.fixture
def tea(db):
    return make_product(db, "TEA", price=3900, stock=20)


def join(client, group=42):
    with client.session_transaction() as session:
        session[JOINED] = group


def placed(client, db):
    response = checkout(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    fresh(db)
    return db.scalar(select(Order).where(Order.number == response.headers["Location"].rsplit("/", 1)[-1]))


def test_the_pages_show_the_group_price_the_order_is_placed_at(member_client, db, tea, register_plugin):
    group_buy, pages = register_plugin(GroupBuy()), register_plugin(Pages())
    register_plugin(MemberPrice())
    register_plugin(NaiveCoupon(500))
    add_to_cart(member_client, tea.id)
    assert "¥30.10" in member_client.get("/cart/").get_data(as_text=True)  # 3510 member price - 500 coupon
    join(member_client)
    for page in ("/cart/", "/checkout"):
        html = member_client.get(page).get_data(as_text=True)
        assert "¥29.00" in html and "¥30.10" not in html and "¥25.10" not in html, page
    order = placed(member_client, db)
    assert order.total == 2900
    assert [(a.source, a.code, a.amount, a.data) for a in order.adjustments] == [
        ("group_buy", "group_price", -1000, {"group": "42"})]
    assert group_buy.placed == [(1, -1000)]
    assert {"cart", "checkout", "order"} <= set(pages.seen)


def test_when_the_owner_allows_stacking_member_price_and_coupon_apply_too(member_client, db, tea, register_plugin):
    register_plugin(GroupBuy(stacking=True))
    register_plugin(MemberPrice())
    register_plugin(NaiveCoupon(500))
    add_to_cart(member_client, tea.id)
    join(member_client)
    assert placed(member_client, db).total == 3900 - 390 - 1000 - 500


def test_at_most_n_units_at_the_group_price(member_client, db, tea, register_plugin):
    group_buy = register_plugin(GroupBuy(limit=1))
    add_to_cart(member_client, tea.id, 3)
    join(member_client)
    order = placed(member_client, db)
    assert order.total == 2900 + 2 * 3900 and order.lines[0].total == order.total
    assert group_buy.placed == [(1, -1000)]


def test_a_group_buy_cancels_its_orders_with_its_own_reason(kernel, db, client, member, tea, register_plugin):
    group_buy = register_plugin(GroupBuy())
    orders = [place_order(kernel, db, member=member, items={tea.id: 1}, payment_method="manual",
                          checkout_token=f"group-{i}", browser={JOINED: 7}) for i in range(3)]
    assert [o.total for o in orders] == [2900] * 3
    for wrong in ("Group failed", "group_buy:" + "x" * 30, "", None):
        with pytest.raises(ValueError):
            cancel_order(kernel, db, orders[0], wrong)
    fresh(db)
    assert db.get(Order, orders[0].id).status == "placed" and group_buy.cancelled == []
    cancel_order(kernel, db, orders[0], "group_buy:failed")
    cancel_order(kernel, db, orders[1], "group_buy:no-leader")  # no label registered: shown as it is
    cancel_order(kernel, db, orders[2], "expired")
    assert group_buy.cancelled == ["group_buy:failed", "group_buy:no-leader", "expired"]
    fresh(db)
    assert [db.get(Order, o.id).cancel_reason for o in orders] == ["group_buy:failed", "group_buy:no-leader", "expired"]
    staff_login(client, make_staff(db, "owner"))
    pages = [client.get(f"/admin/orders/{o.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
             for o in orders]
    assert "(The group did not fill in time)" in pages[0]
    assert "(group_buy:no-leader)" in pages[1]
    assert "(Not paid in time)" in pages[2]
