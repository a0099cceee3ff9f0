"""Money: integer minor units plus an ISO 4217 code. No floats anywhere.

Rounding is explicit: ``percent_of`` rounds half up on exact integers, ``allocate``
splits an amount in proportion to weights by the largest-remainder method so the parts
always add up to the whole (no cent is created or lost).
"""
from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency

from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l

#: Minor-unit exponent per currency; anything unknown is treated as 2.
EXPONENTS = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "TWD": 2, "JPY": 0, "KRW": 0}
SUPPORTED_CURRENCIES = tuple(sorted(EXPONENTS))

#: Largest amount we accept anywhere (10 million units of the major currency, in minor units
#: of a 2-decimal currency): far above any real order, far below integer overflow.
MAX_AMOUNT = 1_000_000_000
_AMOUNT = re.compile(r"[+-]?(?:[0-9]{1,16}(?:\.[0-9]{0,16})?|\.[0-9]{1,16})")


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), 2)


def to_decimal(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


class AmountError(ValidationError, ValueError):
    """Text that is not an amount of money. Also a ``ValueError``, as it always was."""


def parse_major(text: str, currency: str, field: str = "amount") -> int:
    """Parse a major-unit string such as ``"12.50"`` into minor units (see ``parse_decimal``)."""
    return parse_decimal(text, exponent(currency), field)


def parse_decimal(text: str, places: int, field: str = "amount") -> int:
    """Decimal text such as ``"12.50"`` as a whole number of ``10**-places`` units (1250).

    Refuses, with an ``AmountError`` naming ``field``: anything but plain decimal digits (so no
    ``Infinity``, ``NaN`` or ``1e999999``), more than ``places`` decimals, and more than
    ``MAX_AMOUNT`` units either way.
    """
    raw = str(text).strip()
    if not _AMOUNT.fullmatch(raw):
        raise AmountError(_l("Enter an amount such as 12.50."), fields={field: _l("Enter an amount such as 12.50.")})
    units = Decimal(raw).scaleb(places)
    if abs(units) > MAX_AMOUNT:
        message = _l("Enter an amount of at most %(max)s.", max=Decimal(MAX_AMOUNT).scaleb(-places))
        raise AmountError(message, fields={field: message})
    if units != units.to_integral_value():
        message = _l("Use at most %(n)d decimals.", n=places) if places else _l("Use whole numbers only.")
        raise AmountError(message, fields={field: message})
    return int(units)


@lru_cache(maxsize=8192)  # Babel's formatting is slow and a shop shows the same prices again and again
def format_money(amount: int, currency: str, locale: str = "zh_CN") -> str:
    return format_currency(to_decimal(amount, currency), currency, locale=locale)


def percent_of(amount: int, basis_points: int) -> int:
    """``amount × basis_points / 10000`` rounded half up, in exact integer arithmetic."""
    if amount < 0 or basis_points < 0:
        raise ValueError("percent_of takes non-negative values")
    return (amount * basis_points * 2 + 10000) // 20000


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``; the parts sum exactly to ``total``."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum == 0:
        parts = [0] * len(weights)
        parts[0] = total
        return parts
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    raw = [magnitude * w for w in weights]
    parts = [r // weight_sum for r in raw]
    remainder = magnitude - sum(parts)
    # Hand the leftover units to the largest remainders (ties: earliest first).
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] % weight_sum), i))
    for i in order[:remainder]:
        parts[i] += 1
    return [sign * p for p in parts]
