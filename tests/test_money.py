from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siyu.core.money import allocate, format_money, parse_major, percent_of, to_decimal


def test_percent_rounds_half_up_exactly():
    assert percent_of(1000, 1250) == 125       # 12.5 % of 10.00
    assert percent_of(5, 5000) == 3            # 2.5 fen rounds up to 3
    assert percent_of(3, 5000) == 2            # 1.5 → 2
    assert percent_of(1, 4999) == 0            # 0.4999 → 0
    with pytest.raises(ValueError):
        percent_of(-1, 100)


@given(st.integers(0, 10**9), st.integers(0, 10000))
def test_percent_matches_decimal_half_up(amount, bp):
    expected = (Decimal(amount) * bp / 10000).quantize(Decimal(1), rounding="ROUND_HALF_UP")
    assert percent_of(amount, bp) == int(expected)


@given(st.integers(-10**9, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_allocate_never_creates_or_loses_money(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    if sum(weights):
        for part, weight in zip(parts, weights):
            exact = Decimal(total) * weight / sum(weights)
            assert abs(Decimal(part) - exact) < 1


def test_parse_and_format():
    assert parse_major("12.50", "CNY") == 1250
    assert parse_major("100", "JPY") == 100
    with pytest.raises(ValueError):
        parse_major("1.005", "CNY")
    assert to_decimal(1250, "CNY") == Decimal("12.50")
    assert format_money(1250, "CNY", "zh_CN") == "¥12.50"
    assert format_money(1250, "USD", "en") == "$12.50"
