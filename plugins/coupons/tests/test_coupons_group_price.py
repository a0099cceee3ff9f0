"""Coupons and another plugin's price that excludes them (a group buy's 拼团价): a coupon leaves
that line out, is not suggested for it and is refused when chosen for it alone, and applies as
before when the price allows stacking."""
from __future__ import annotations

import pytest
from coupon_helpers import make_template
from sqlalchemy import func, select

from siyu.plugin import Adjustment, Order, ValidationError, hookimpl, place_order, quote, write_transaction
from siyu.plugin.testing import fresh, make_product
from siyu_coupons.claims import claim
from siyu_coupons.models import Coupon


class GroupPrice:
    """A group buy's price for one product (what such a plugin declares)."""

    def __init__(self, sku, price, stacking=False):
        self.sku, self.price, self.stacking = sku, price, stacking

    @hookimpl
    def cart_adjustments(self, cart, stage):
        line = cart.line_for(self.sku)
        if stage != "item" or line is None:
            return None
        rules = {} if self.stacking else {"exclusive": True, "excludes": ("member_price", "coupon")}
        return [Adjustment("group_price", "Group price", source="group_buy", sku=line.sku, kind="group_price",
                           unit_price=self.price, **rules)]


@pytest.fixture
def coupon(db, member):
    template = make_template(db, name="¥5 off", amount=500)
    with write_transaction(db):
        return claim(db, template, member.id, source="page")


def coupons_on(cart):
    return [(a.code, a.amount) for a in cart.adjustments if a.source == "coupons"]


def test_a_coupon_is_not_suggested_for_a_group_price_line(kernel, db, member, coupon, register_plugin):
    tea = make_product(db, "TEA", price=3900)
    register_plugin(GroupPrice("TEA", 2900))
    cart = quote(kernel, db, member, {tea.id: 1})
    assert cart.total == 2900 and coupons_on(cart) == []


def test_a_chosen_coupon_is_refused_when_only_group_price_lines_remain(kernel, db, member, coupon, register_plugin):
    tea = make_product(db, "TEA", price=3900)
    register_plugin(GroupPrice("TEA", 2900))
    with pytest.raises(ValidationError) as info:
        place_order(kernel, db, member=member, items={tea.id: 1}, payment_method="manual", checkout_token="g-1",
                    inputs={"coupon_id": str(coupon.id)})
    assert "Cannot be combined with the special prices in your cart" in str(info.value.message)
    fresh(db)
    assert db.scalar(select(func.count(Order.id))) == 0
    assert db.get(Coupon, coupon.id).status == "available"


def test_a_coupon_counts_only_the_other_lines(kernel, db, member, register_plugin):
    tea, cup = make_product(db, "TEA", price=3900), make_product(db, "CUP", price=2000)
    register_plugin(GroupPrice("TEA", 2900))
    template = make_template(db, name="10 %", kind="percent", amount=0, percent_bp=1000)
    with write_transaction(db):
        claim(db, template, member.id, source="page")
    cart = quote(kernel, db, member, {tea.id: 1, cup.id: 1})
    assert coupons_on(cart) == [("coupon", -200)]  # 10 % of the cup only
    assert cart.total == 2900 + 2000 - 200


def test_when_the_owner_allows_stacking_the_coupon_applies(kernel, db, member, coupon, register_plugin):
    tea = make_product(db, "TEA", price=3900)
    register_plugin(GroupPrice("TEA", 2900, stacking=True))
    order = place_order(kernel, db, member=member, items={tea.id: 1}, payment_method="manual",
                        checkout_token="g-2", inputs={"coupon_id": str(coupon.id)})
    assert order.total == 2900 - 500
    fresh(db)
    assert db.get(Coupon, coupon.id).status == "reserved"
