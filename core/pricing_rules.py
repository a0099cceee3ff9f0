"""How the engine chooses among the adjustments proposed in one pricing stage.

1. Each proposal is checked, and an ``item`` one is fitted to its line: the units it covers
   (``max_quantity``) and, with ``unit_price``, its amount. One that does not combine with
   what earlier stages applied (either side's ``excludes``) is dropped: on its line for an
   ``item`` one; for a cart-wide one, a cart-wide adjustment or something on every line
   (with only some lines, a discount is capped at the others' total when it applies).
2. ``excludes``, in the stage's order (priority, source, code): a proposal whose kind an
   adjustment kept before it for the same line (``item``) or the cart excludes is dropped;
   a kept one whose kind the proposal excludes is dropped in its favour. So a one-way
   exclusion holds whatever the order, and of two that exclude each other the first wins.
   (An adjustment dropped here stays dropped, even when its excluder then loses step 3.)
3. ``exclusive``: of the exclusive proposals left for one line (``item``) or the cart, the
   one best for the shopper (the lowest amount once clamped) applies; ties go to the first
   in the stage's order. The others are dropped.

Dropped proposals go to ``PricedCart.dropped`` with ``dropped_reason`` and ``dropped_by``,
so the choice can be shown and checked (``on_order_placed`` receives the cart).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from siyu.core.pricing import Adjustment, PricedCart, PricedLine


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check(adj: Adjustment, stage: str) -> None:
    """Refuse what the engine cannot apply: a programming error of the plugin, not a price."""
    if not _is_int(adj.amount):
        raise TypeError(f"adjustment {adj.code!r} amount must be an int of minor units")
    if isinstance(adj.excludes, str):
        adj.excludes = (adj.excludes,)
    adj.excludes = tuple(str(kind) for kind in adj.excludes or ())
    for name in ("unit_price", "max_quantity"):
        value = getattr(adj, name)
        if value is None:
            continue
        if stage != "item":
            raise ValueError(f"adjustment {adj.code!r}: {name} is for the item stage only")
        if not _is_int(value) or value < 0:
            raise TypeError(f"adjustment {adj.code!r} {name} must be an int ≥ 0")


def cover_units(line: PricedLine, adj: Adjustment) -> None:
    """Fit an ``item`` adjustment to the units it covers (idempotent: from the product's price)."""
    units = line.quantity if adj.max_quantity is None else min(line.quantity, adj.max_quantity)
    adj.quantity = units
    if adj.unit_price is not None:
        adj.amount = (adj.unit_price - line.unit_price) * units
    elif adj.max_quantity is not None and adj.amount < 0:
        adj.amount = max(adj.amount, -line.unit_price * units)


def drop(cart: PricedCart, adj: Adjustment, reason: str, by: Adjustment | None = None) -> None:
    adj.dropped_reason, adj.dropped_by = reason, by
    cart.dropped.append(adj)


def _clash(applied: Iterable[Adjustment], adj: Adjustment) -> Adjustment | None:
    """The first of ``applied`` that ``adj`` does not combine with: one that excludes its kind,
    or one of a kind it excludes."""
    return next((a for a in applied if (adj.kind and adj.kind in a.excludes)
                 or (a.kind and a.kind in adj.excludes)), None)


def conflict(cart: PricedCart, adj: Adjustment, stage: str) -> tuple[bool, Adjustment | None]:
    """Whether what applied before rules ``adj`` out, and which adjustment does: on its line
    (``item``); for a cart-wide one, a cart-wide adjustment, or something on every line."""
    if stage == "item":
        line = cart.line_for(adj.sku or "")
        by = _clash(line.adjustments, adj) if line is not None else None
        return by is not None, by
    by = _clash([a for a in cart.adjustments if a.stage != "item"], adj)
    if by is not None:
        return True, by
    clashes = [_clash(line.adjustments, adj) for line in cart.lines]
    if clashes and all(c is not None for c in clashes):
        return True, clashes[0]
    return False, None


def room(cart: PricedCart, adj: Adjustment, stage: str) -> int:
    """The most a discount may take: its line's total (``item``); else the cart's total, and no
    more than the lines it combines with are worth (a group price's line keeps a coupon off)."""
    if stage == "item":
        line = cart.line_for(adj.sku or "")
        return line.total if line is not None else 0
    open_lines = [line for line in cart.lines if _clash(line.adjustments, adj) is None]
    if len(open_lines) < len(cart.lines):
        return min(cart.total, sum(line.total for line in open_lines))
    return cart.total


def _target(adj: Adjustment, stage: str) -> str | None:
    return adj.sku if stage == "item" else None


def resolve(cart: PricedCart, proposed: list[Adjustment], stage: str) -> list[Adjustment]:
    """The proposals of ``stage`` (in the stage's order) that apply, in that order."""
    candidates = []
    for adj in proposed:
        check(adj, stage)
        adj.stage = stage
        if stage == "item":
            line = cart.line_for(adj.sku or "")
            if line is None:
                drop(cart, adj, "no_line")
                continue
            cover_units(line, adj)
        ruled_out, by = conflict(cart, adj, stage)
        if ruled_out:  # by what applied before (a line's group price keeps coupons off)
            drop(cart, adj, "excluded", by)
            continue
        candidates.append(adj)
    kept = _apply_excludes(cart, candidates, stage)
    losers = {id(adj) for adj in _contest(cart, kept, stage)}
    return [adj for adj in kept if id(adj) not in losers]


def _apply_excludes(cart: PricedCart, candidates: list[Adjustment], stage: str) -> list[Adjustment]:
    kept: list[Adjustment] = []
    for adj in candidates:
        mine = [k for k in kept if _target(k, stage) == _target(adj, stage)]
        blocker = next((k for k in mine if adj.kind and adj.kind in k.excludes), None)
        if blocker is not None:
            drop(cart, adj, "excluded", blocker)
            continue
        for other in mine:
            if other.kind and other.kind in adj.excludes:
                kept = [k for k in kept if k is not other]
                drop(cart, other, "excluded", adj)
        kept.append(adj)
    return kept


def _contest(cart: PricedCart, kept: list[Adjustment], stage: str) -> list[Adjustment]:
    """Exclusive proposals that lose to a better one for the same line or cart."""
    groups: dict[str | None, list[Adjustment]] = {}
    for adj in kept:
        if adj.exclusive:
            groups.setdefault(_target(adj, stage), []).append(adj)
    losers = []
    for target, rivals in groups.items():
        if len(rivals) < 2:
            continue
        # min() keeps the first of equals: the stage's order breaks ties.
        winner = min(rivals, key=lambda a: max(a.amount, -room(cart, a, stage)))
        for adj in rivals:
            if adj is not winner:
                drop(cart, adj, "exclusive", winner)
                losers.append(adj)
    return losers
