"""The discount arithmetic as properties (Hypothesis), and through the real pricing engine."""
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siyu.plugin import MAX_AMOUNT
from siyu.plugin import apply_adjustment as _apply, PricedCart, PricedLine
from siyu_coupons.rules import Rule, discount

amounts = st.integers(min_value=0, max_value=MAX_AMOUNT)
positive = st.integers(min_value=1, max_value=MAX_AMOUNT)
caps = st.none() | positive
rules = st.one_of(
    st.builds(Rule, kind=st.just("fixed"), amount=positive, max_discount=caps, min_spend=amounts),
    st.builds(Rule, kind=st.just("percent"), percent_bp=st.integers(1, 10000), max_discount=caps,
              min_spend=amounts),
    st.builds(Rule, kind=st.just("threshold"), amount=positive, max_discount=caps, min_spend=positive,
              repeat=st.booleans()),
)


@given(rules, amounts)
def test_discount_never_exceeds_the_eligible_subtotal_nor_the_cap(rule, eligible):
    off = discount(rule, eligible)
    assert 0 <= off <= eligible
    if rule.max_discount is not None:
        assert off <= rule.max_discount
    if eligible < rule.min_spend:
        assert off == 0


@given(st.integers(1, 10000), amounts)
def test_percentage_rounds_half_up_exactly(bp, eligible):
    exact = (Decimal(eligible) * bp / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert discount(Rule("percent", percent_bp=bp), eligible) == min(int(exact), eligible)


@given(positive, positive, amounts)
def test_threshold_once_or_for_every_x(save, spend, eligible):
    once = discount(Rule("threshold", amount=save, min_spend=spend), eligible)
    every = discount(Rule("threshold", amount=save, min_spend=spend, repeat=True), eligible)
    if eligible < spend:
        assert once == every == 0
    else:
        assert once == min(save, eligible)
        assert every == min(save * (eligible // spend), eligible)


def test_known_values():
    assert discount(Rule("percent", percent_bp=1500), 999) == 150  # 149.85 → 150
    assert discount(Rule("percent", percent_bp=1500), 3) == 0  # 0.45 → 0
    assert discount(Rule("percent", percent_bp=1250, max_discount=3000), 100000) == 3000
    assert discount(Rule("threshold", amount=2000, min_spend=10000), 9999) == 0
    assert discount(Rule("threshold", amount=2000, min_spend=10000, repeat=True), 35000) == 6000
    assert discount(Rule("fixed", amount=5000), 800) == 800


class _Product:
    def __init__(self, i, price):
        self.id, self.sku, self.price = i, f"S{i}", price


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=200)
@given(st.lists(st.tuples(st.integers(1, 100000), st.integers(1, 5), st.integers(0, 100000)), min_size=1,
                max_size=5), rules, st.integers(0, 300000))
def test_engine_total_never_below_zero(lines, rule, fee):
    """Member prices, then the coupon on what they left, then other discounts: total ≥ 0."""
    from siyu.plugin import Adjustment

    priced = [PricedLine(_Product(i, p), q, p, p * q, p * q) for i, (p, q, _m) in enumerate(lines)]
    cart = PricedCart("CNY", priced)
    for i, (_p, _q, member_off) in enumerate(lines):
        _apply(cart, Adjustment("member_price", "m", -member_off, sku=f"S{i}"), "item")
    eligible = cart.items_total
    off = discount(rule, eligible)
    assert off <= eligible
    _apply(cart, Adjustment("coupon", "c", -off, "coupons"), "order")
    _apply(cart, Adjustment("points", "p", -fee), "redemption")
    assert cart.total >= 0 and all(line.total >= 0 for line in cart.lines)
