"""Money properties of the commission arithmetic (Hypothesis)."""
from fractions import Fraction

from hypothesis import given, settings, strategies as st

from siyu_distribution.commission import Line, net_lines, reversal_target, tier_commissions

amounts = st.integers(min_value=0, max_value=5_000_000)
bps = st.integers(min_value=0, max_value=10000)


@st.composite
def orders(draw):
    n = draw(st.integers(1, 6))
    lines = [Line(draw(st.sampled_from([None, 1, 2, 3])), draw(amounts)) for _ in range(n)]
    items = sum(line.total for line in lines)
    discount = -draw(st.integers(0, items))
    redemption = -draw(st.integers(0, items + discount))
    fee = draw(st.integers(0, 2000))
    adjustments = [("order", discount), ("redemption", redemption), ("fee", fee)]
    total = items + discount + redemption + fee
    depth = draw(st.integers(1, 3))
    rates = [tuple(draw(bps) for _ in range(3)) for _ in range(depth)]
    overrides = draw(st.dictionaries(st.sampled_from([1, 2, 3]), st.tuples(bps, bps, bps), max_size=3))
    return lines, adjustments, total, fee, rates, overrides


@settings(max_examples=400, deadline=None)
@given(orders())
def test_tier_commissions_never_exceed_the_net(order):
    lines, adjustments, total, fee, rates, overrides = order
    nets = net_lines(lines, adjustments, total)
    assert sum(nets) == total - fee  # the paid amount after discounts, without the fee
    assert all(n >= 0 for n in nets)
    earned = tier_commissions(nets, lines, rates, overrides)
    assert len(earned) == len(rates) and all(e >= 0 for e in earned)
    assert sum(earned) <= sum(nets) <= total


@settings(max_examples=400, deadline=None)
@given(orders())
def test_rounding_never_creates_money(order):
    lines, adjustments, total, _fee, rates, overrides = order
    nets = net_lines(lines, adjustments, total)
    earned = tier_commissions(nets, lines, rates, overrides)
    # Exact (rational) commission with the same cumulative cap: rounding stays within half a
    # minor unit per line, and never adds more than that in total.
    exact = Fraction(0)
    for net, line in zip(nets, lines):
        cumulative = 0
        for t in range(len(rates)):
            rate = overrides[line.product_id][t] if line.product_id in overrides else rates[t][t]
            cumulative = min(10000, cumulative + rate)
        exact += Fraction(net * cumulative, 10000)
    assert abs(sum(earned) - exact) <= Fraction(len(lines), 2)


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 10_000_000), st.integers(0, 2_000_000),
       st.lists(st.integers(1, 10_000_000), min_size=1, max_size=8))
def test_refunds_reverse_proportionally_and_a_full_refund_nets_to_zero(total, accrued, parts):
    # Successive partial refunds, cut to the order total, then the rest.
    refunds, left = [], total
    for part in parts:
        if left <= 1:
            break
        amount = min(part, left - 1)
        refunds.append(amount)
        left -= amount
    refunds.append(left)
    refunded, reversed_ = 0, 0
    for amount in refunds:
        refunded += amount
        due = reversal_target(accrued, refunded, total) - reversed_
        assert due >= 0  # a refund never gives commission back
        reversed_ += due
        # proportional: within half a unit of accrued × refunded / total
        assert abs(Fraction(reversed_) - Fraction(accrued * refunded, total)) <= Fraction(1, 2)
        assert reversed_ <= accrued
    assert refunded == total and reversed_ == accrued  # nets the order to zero
