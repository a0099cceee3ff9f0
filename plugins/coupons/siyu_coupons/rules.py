"""The discount arithmetic, kept free of the database so it can be proven on its own.

Every amount is integer minor units. A discount never exceeds the eligible subtotal (so no
total goes below zero), percentages round half up exactly (``percent_of``), and a cap or a
minimum spend is applied the same way for every kind.
"""
from __future__ import annotations

from dataclasses import dataclass

from siyu.plugin import percent_of


@dataclass(frozen=True)
class Rule:
    kind: str  # fixed | percent | threshold
    amount: int = 0
    percent_bp: int = 0
    max_discount: int | None = None
    min_spend: int = 0
    repeat: bool = False

    @classmethod
    def of(cls, template) -> "Rule":
        return cls(template.kind, template.amount, template.percent_bp, template.max_discount,
                   template.min_spend, template.repeat)


def discount(rule: Rule, eligible: int) -> int:
    """What ``rule`` takes off an eligible subtotal: 0 when the minimum spend is not met."""
    if eligible <= 0 or eligible < rule.min_spend:
        return 0
    if rule.kind == "percent":
        off = percent_of(eligible, rule.percent_bp)
    elif rule.kind == "threshold":
        times = eligible // rule.min_spend if rule.repeat and rule.min_spend > 0 else 1
        off = rule.amount * times
    else:
        off = rule.amount
    if rule.max_discount is not None:
        off = min(off, rule.max_discount)
    return max(0, min(off, eligible))


def shortfall(rule: Rule, eligible: int) -> int:
    """How much more eligible spend the minimum needs (0 when it is met)."""
    return max(0, rule.min_spend - eligible)
