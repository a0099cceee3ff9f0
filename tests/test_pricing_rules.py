"""Pricing a plugin can reason about: what an adjustment is, what it combines with, how many
units it covers, and inputs contributed before pricing. Engine only (no app, no database)."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pricing import product, shop

from siyu.core import hookimpl
from siyu.core.plugins import make_plugin_manager
from siyu.core.pricing import Adjustment, PricedCart, PricedLine, apply_adjustment, gather_inputs, price_cart

TEA = 3900  # the product's price; a gold member pays 90 % (3510), the group 2900


class MemberPrice:
    """Like the bundled crm_tags member price: exclusive, of kind ``member_price``."""

    def __init__(self, percent=90, declared=True):
        self.percent, self.declared = percent, declared

    @hookimpl
    def cart_adjustments(self, cart, stage):
        if stage != "item":
            return None
        extra = {"kind": "member_price", "exclusive": True} if self.declared else {}
        return [Adjustment("member_price", "Gold price", -(line.total - line.total * self.percent // 100),
                           source="crm_tags", sku=line.sku, **extra) for line in cart.lines]


class GroupPrice:
    """A group buy's price (拼团价) for one SKU; exclusive with member prices and coupons
    unless the owner allows stacking."""

    def __init__(self, sku="S1", price=2900, limit=None, stacking=False, declared=True):
        self.sku, self.price, self.limit, self.stacking, self.declared = sku, price, limit, stacking, declared

    @hookimpl
    def cart_adjustments(self, cart, stage):
        line = cart.line_for(self.sku)
        if stage != "item" or line is None:
            return None
        if not self.declared:  # how a plugin had to write it before: an amount, stacking
            return [Adjustment("group_price", "Group price", (self.price - line.unit_price) * line.quantity,
                               source="group_buy", sku=self.sku)]
        rules = {} if self.stacking else {"exclusive": True, "excludes": ("member_price", "coupon")}
        return [Adjustment("group_price", "Group price", source="group_buy", sku=self.sku, kind="group_price",
                           unit_price=self.price, max_quantity=self.limit, **rules)]


class NaiveCoupon:
    """A coupon that does not look at the lines: the engine still keeps it off excluded ones."""

    def __init__(self, amount):
        self.amount = amount

    @hookimpl
    def cart_adjustments(self, stage):
        if stage == "order":
            return [Adjustment("coupon", "Coupon", -self.amount, source="coupons", kind="coupon")]


def priced(*plugins, items=((1, 1),)):
    pm = make_plugin_manager(extra_plugins=list(plugins))
    return price_cart(shop(pm), None, [(product(pid, TEA), qty) for pid, qty in items], None)


def summary(cart):
    return [(a.source, a.code, a.amount) for a in cart.adjustments]


def test_a_member_price_and_a_group_price_give_the_group_price_not_both():
    cart = priced(MemberPrice(), GroupPrice())
    assert cart.total == 2900  # not 3900 - 390 - 1000 = 2510
    assert summary(cart) == [("group_buy", "group_price", -1000)]
    [member] = cart.dropped
    assert (member.code, member.dropped_reason, member.dropped_by.code) == ("member_price", "excluded", "group_price")


def test_undeclared_adjustments_still_stack_as_before():
    assert priced(MemberPrice(declared=False), GroupPrice(declared=False)).total == 2510
    assert priced(MemberPrice(), GroupPrice(declared=False)).total == 2510  # an old plugin stacks


def test_two_exclusive_prices_compete_and_the_lower_applies():
    class FlashSale:
        def __init__(self, price):
            self.price = price

        @hookimpl
        def cart_adjustments(self, cart, stage):
            if stage == "item":
                return [Adjustment("flash", "Flash sale", source="flash", sku="S1", kind="flash_price",
                                   exclusive=True, unit_price=self.price)]

    cart = priced(MemberPrice(), FlashSale(3000))
    assert cart.total == 3000 and [a.code for a in cart.dropped] == ["member_price"]
    assert cart.dropped[0].dropped_reason == "exclusive" and cart.dropped[0].dropped_by.code == "flash"
    cart = priced(MemberPrice(), FlashSale(3600))
    assert cart.total == 3510 and cart.dropped[0].code == "flash"


def test_an_exclusion_holds_even_when_the_excluded_price_is_lower():
    # 70 % of 3900 = 2730 < 2900: the group buy said its price does not combine with member prices.
    cart = priced(MemberPrice(percent=70), GroupPrice())
    assert cart.total == 2900 and cart.dropped[0].dropped_reason == "excluded"


def test_a_group_price_keeps_coupons_off_its_line():
    only_group = priced(GroupPrice(), NaiveCoupon(500))
    assert only_group.total == 2900 and summary(only_group) == [("group_buy", "group_price", -1000)]
    assert only_group.dropped[0].code == "coupon" and only_group.dropped[0].dropped_by.code == "group_price"
    assert not only_group.lines[0].accepts("coupon") and only_group.lines[0].accepts("points")
    # With another line, the coupon takes at most what the lines that accept it are worth.
    mixed = priced(GroupPrice(), NaiveCoupon(10**6), items=((1, 1), (2, 1)))
    assert summary(mixed)[-1] == ("coupons", "coupon", -TEA) and mixed.total == 2900


def test_when_the_owner_allows_stacking_everything_applies():
    cart = priced(MemberPrice(), GroupPrice(stacking=True), NaiveCoupon(500))
    assert cart.total == 3900 - 390 - 1000 - 500 and cart.dropped == []


def test_at_most_n_units_at_the_group_price_the_rest_at_the_regular_price():
    cart = priced(GroupPrice(limit=2), items=((1, 5),))
    assert cart.lines[0].total == 2 * 2900 + 3 * TEA
    assert cart.adjustments[0].quantity == 2 and cart.adjustments[0].amount == -2000
    assert priced(GroupPrice(limit=2), items=((1, 1),)).total == 2900
    assert priced(GroupPrice(limit=0), items=((1, 3),)).total == 3 * TEA


def test_an_amount_for_n_units_is_capped_at_their_worth():
    cart = PricedCart("CNY", [PricedLine(product(1, TEA), 3, TEA, 3 * TEA, 3 * TEA)])
    apply_adjustment(cart, Adjustment("free_one", "One free", -10 * TEA, sku="S1", max_quantity=1), "item")
    assert cart.total == 2 * TEA and cart.adjustments[0].quantity == 1


def test_mutual_exclusions_go_to_the_first_in_the_stage_order():
    class Two:
        @hookimpl
        def cart_adjustments(self, stage):
            if stage == "order":
                return [Adjustment("b", "B", -200, source="z", kind="b", excludes=("a",), priority=1),
                        Adjustment("a", "A", -100, source="y", kind="a", excludes=("b",))]

    cart = priced(Two())
    assert summary(cart) == [("y", "a", -100)] and cart.dropped[0].dropped_by.code == "a"


def test_the_decision_does_not_depend_on_registration_order():
    plugins = [MemberPrice(), GroupPrice(limit=1), NaiveCoupon(300)]
    results = set()
    for seed in range(6):
        random.Random(seed).shuffle(plugins)
        cart = priced(*plugins, items=((1, 2), (2, 1)))
        results.add((cart.total, tuple(summary(cart)), tuple((a.code, a.dropped_reason) for a in cart.dropped)))
    assert len(results) == 1


def test_a_wrapper_sees_the_other_proposals_of_its_stage():
    class ExtraAfterMember:
        """5 % more off a line, computed from the member price proposed for it."""

        @hookimpl(wrapper=True)
        def cart_adjustments(self, cart, stage):
            proposals = yield
            if stage != "item":
                return proposals
            member = [a for group in proposals for a in (group or ()) if a.kind == "member_price"]
            extra = [Adjustment("extra", "Extra 5 %", -((cart.line_for(a.sku).total + a.amount) // 20),
                                source="extra", sku=a.sku) for a in member]
            return [*proposals, extra]

    assert summary(priced(MemberPrice(), ExtraAfterMember())) == [
        ("crm_tags", "member_price", -390), ("extra", "extra", -175)]


def test_declarations_are_checked():
    class Bad:
        def __init__(self, at, **fields):
            self.at, self.fields = at, fields

        @hookimpl
        def cart_adjustments(self, stage):
            if stage == self.at:
                return [Adjustment("x", "X", -1, sku="S1", **self.fields)]

    with pytest.raises(ValueError, match="item stage only"):
        priced(Bad("order", unit_price=100))
    with pytest.raises(TypeError, match="max_quantity"):
        priced(Bad("item", max_quantity=-1))
    one = Adjustment("x", "X", -1, kind="a", excludes="coupon")
    apply_adjustment(PricedCart("CNY", []), one, "order")
    assert one.excludes == ("coupon",)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**5), st.integers(1, 9)), min_size=1, max_size=4),
       st.lists(st.tuples(st.sampled_from(["item", "order", "redemption"]), st.integers(-10**5, 500),
                          st.booleans(), st.sampled_from(["", "a", "b"]), st.sampled_from([(), ("a",), ("b",)]),
                          st.one_of(st.none(), st.integers(0, 5))), max_size=8))
def test_totals_hold_whatever_is_declared(lines, proposals):
    class Random:
        @hookimpl
        def cart_adjustments(self, cart, stage):
            return [Adjustment(f"c{i}", "x", amount, source="r", sku=f"S{i % len(lines) + 1}", kind=kind,
                               exclusive=exclusive, excludes=excludes,
                               max_quantity=limit if stage == "item" else None)
                    for i, (at, amount, exclusive, kind, excludes, limit) in enumerate(proposals) if at == stage]

    pm = make_plugin_manager(extra_plugins=[Random()])
    cart = price_cart(shop(pm), None, [(product(i + 1, p), q) for i, (p, q) in enumerate(lines)], None)
    assert cart.total >= 0 and all(line.total >= 0 for line in cart.lines)
    assert cart.subtotal + sum(a.amount for a in cart.adjustments) == cart.total
    assert {id(a) for a in cart.adjustments}.isdisjoint(id(a) for a in cart.dropped)
    wide = [a for a in cart.adjustments if a.stage != "item"]
    for group in [line.adjustments for line in cart.lines] + [wide]:
        # Nothing applied is excluded by another applied one of its line (or of the cart)...
        assert not [(a.code, b.code) for a in group for b in group if a is not b and a.kind and a.kind in b.excludes]
        # ...and one exclusive adjustment at most per line, or per stage of the cart.
        exclusive = [(a.stage, a.sku if a.stage == "item" else None) for a in group if a.exclusive]
        assert len(exclusive) == len(set(exclusive))


def test_plugins_contribute_inputs_and_the_callers_own_win():
    class Join:
        @hookimpl
        def pricing_inputs(self, browser, where, items):
            assert where == "cart" and dict(items) == {1: 2}
            return {"group_buy.group": str(browser["group"]), "coupon_id": "7"}

    class Late:
        @hookimpl(trylast=True)
        def pricing_inputs(self):
            return {"group_buy.group": "99", "late.flag": "y"}

    pm = make_plugin_manager(extra_plugins=[Join(), Late()])
    inputs = gather_inputs(shop(pm), None, None, {1: 2}, {"coupon_id": ""}, "cart", {"group": 42})
    assert inputs == {"group_buy.group": "42", "late.flag": "y", "coupon_id": ""}

    class NotText:
        @hookimpl
        def pricing_inputs(self):
            return {"n": 1}

    with pytest.raises(TypeError, match="strings"):
        gather_inputs(shop(make_plugin_manager(extra_plugins=[NotText()])), None, None, {}, None, "order")
