from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.core import hookimpl
from siyu.core.models import Product
from siyu.core.plugins import make_plugin_manager
from siyu.core.pricing import Adjustment, price_cart


def shop(pm):
    """What the engine reads of a kernel: its plugin manager."""
    return SimpleNamespace(pm=pm)


def product(pid, price, sku=None):
    return Product(id=pid, sku=sku or f"S{pid}", title_zh="t", title_en="t", price=price,
                   currency="CNY", stock=10, active=True)


class MemberPrice:
    """10 % off every line at the item stage."""

    @hookimpl
    def cart_adjustments(self, cart, stage):
        if stage == "item":
            return [Adjustment("member", "Member price", -(line.total // 10), source="t", sku=line.sku)
                    for line in cart.lines]


class Coupon:
    def __init__(self, amount):
        self.amount = amount

    @hookimpl
    def cart_adjustments(self, cart, stage):
        if stage == "order":
            return [Adjustment("coupon", "Coupon", -self.amount, source="coupon")]


class Shipping:
    @hookimpl
    def cart_adjustments(self, stage):
        if stage == "fee":
            return [Adjustment("ship", "Shipping", 800, source="ship")]


def test_stages_apply_in_order_and_are_kept_as_lines():
    pm = make_plugin_manager(extra_plugins=[MemberPrice(), Coupon(500), Shipping()])
    cart = price_cart(shop(pm), None, [(product(1, 10000), 2), (product(2, 3000), 1)], None)
    assert cart.subtotal == 23000
    assert [line.total for line in cart.lines] == [18000, 2700]
    assert [(a.stage, a.code, a.amount) for a in cart.adjustments] == [
        ("item", "member", -2000), ("item", "member", -300), ("order", "coupon", -500), ("fee", "ship", 800)]
    assert cart.total == 18000 + 2700 - 500 + 800
    assert cart.adjustment_total == cart.total - cart.subtotal


def test_discount_is_clamped_at_zero():
    pm = make_plugin_manager(extra_plugins=[Coupon(10**6)])
    cart = price_cart(shop(pm), None, [(product(1, 999), 1)], None)
    assert cart.total == 0
    assert cart.adjustments[0].amount == -999


@settings(max_examples=200, deadline=None)
@given(prices=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 99)), min_size=1, max_size=8),
       coupon=st.integers(0, 10**8))
def test_total_never_below_zero_and_sums_hold(prices, coupon):
    pm = make_plugin_manager(extra_plugins=[MemberPrice(), Coupon(coupon)])
    items = [(product(i + 1, p), q) for i, (p, q) in enumerate(prices)]
    cart = price_cart(shop(pm), None, items, None)
    assert cart.total >= 0
    assert all(line.total >= 0 for line in cart.lines)
    assert cart.subtotal + sum(a.amount for a in cart.adjustments) == cart.total


def test_non_integer_amount_is_refused():
    class Floaty:
        @hookimpl
        def cart_adjustments(self, stage):
            if stage == "order":
                return [Adjustment("f", "Float", -1.5)]

    pm = make_plugin_manager(extra_plugins=[Floaty()])
    try:
        price_cart(shop(pm), None, [(product(1, 100), 1)], None)
    except TypeError as exc:
        assert "minor units" in str(exc)
    else:
        raise AssertionError("a float amount was accepted")
