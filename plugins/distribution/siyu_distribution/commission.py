"""Commission arithmetic, free of the database: what each tier earns on an order.

- The base is what the buyer paid for the goods: each line's total plus its share of the
  order- and redemption-stage discounts (split with ``allocate``), never fees such as
  shipping, and never more than the order's total.
- Rates are basis points per tier; a product may replace them, and a distributor level may
  replace the defaults for the distributor at that tier.
- Rounding is explicit and cannot create money: per line, tier ``t`` earns the half-up
  amount of the *cumulative* rate of tiers ``1..t`` minus that of tiers ``1..t-1``, with the
  cumulative rate capped at 100 %. So the tiers of a line add up to at most the line's net,
  and an order's commissions add up to at most its net.
- Reversals are cumulative too: after refunds totalling ``refunded`` of ``total``, a tier's
  reversed share is ``allocate(accrued, [refunded, total - refunded])[0]``; a full refund
  therefore reverses exactly what was accrued.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from siyu.plugin import allocate, percent_of

from siyu_distribution.models import MAX_TIERS

DISCOUNT_STAGES = ("order", "redemption")


@dataclass(frozen=True)
class Line:
    product_id: int | None
    total: int


def net_lines(lines: Sequence[Line], adjustments: Sequence[tuple[str, int]], order_total: int) -> list[int]:
    """Each line's paid amount after discounts; they add up to at most ``order_total``."""
    if not lines:
        return []
    totals = [max(0, line.total) for line in lines]
    discount = sum(amount for stage, amount in adjustments if stage in DISCOUNT_STAGES)
    shares = allocate(discount, totals) if sum(totals) else [0] * len(totals)
    nets = [max(0, t + s) for t, s in zip(totals, shares)]
    cap = max(0, order_total)
    if sum(nets) > cap:  # a discount booked in another stage: never pay on more than was paid
        nets = allocate(cap, nets) if sum(nets) else nets
    return nets


def tier_commissions(nets: Sequence[int], lines: Sequence[Line], tier_rates: Sequence[Sequence[int]],
                     product_rates: Mapping[int, Sequence[int]]) -> list[int]:
    """Commission per tier (index 0 is the seller).

    ``tier_rates[t]`` is the default rates tuple for the distributor at tier ``t`` (their
    level's rates); only its element ``t`` is used. ``product_rates`` replaces the rate of
    every tier for a product.
    """
    depth = min(len(tier_rates), MAX_TIERS)
    earned = [0] * depth
    for net, line in zip(nets, lines):
        override = product_rates.get(line.product_id) if line.product_id is not None else None
        cumulative_bps, cumulative_amount = 0, 0
        for t in range(depth):
            bps = (override[t] if override is not None and t < len(override)
                   else (tier_rates[t][t] if t < len(tier_rates[t]) else 0))
            cumulative_bps = min(10000, cumulative_bps + max(0, int(bps)))
            amount = percent_of(net, cumulative_bps)
            earned[t] += amount - cumulative_amount
            cumulative_amount = amount
    return earned


def reversal_target(accrued: int, refunded: int, total: int) -> int:
    """How much of ``accrued`` is reversed once ``refunded`` of ``total`` went back."""
    if total <= 0 or accrued <= 0:
        return 0
    refunded = max(0, min(refunded, total))
    return allocate(accrued, [refunded, total - refunded])[0]
