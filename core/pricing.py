"""The pricing engine: a cart priced from adjustments that plugins contribute by stage.

Prices come from the database only; a client never sends one. Each stage sees the running
totals of the stages before it. Discounts are clamped so no line and no total goes below
zero, and every adjustment that survives is kept as a line on the order.

Adjustments say what they are (``kind``) and what they combine with (``exclusive``,
``excludes``), so a stage's proposals are resolved before they apply
(``siyu.core.pricing_rules``): the decision is deterministic and every proposal the engine
did not apply is kept in ``PricedCart.dropped`` with the reason. Without these declarations
everything stacks, as it always did.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy.orm import Session

from siyu.core.hooks import call_in_transaction
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.errors import ValidationError
from siyu.core.models import Member, Product

#: Stages in the order they apply.
STAGES = ("item", "order", "redemption", "fee")
MAX_QUANTITY = 99


@dataclass
class Adjustment:
    """One change to a cart's price. ``amount`` is minor units, negative for a discount.

    What the engine reads besides the amount (the defaults keep the old behaviour: it stacks):

    - ``kind``: what it is (``member_price``, ``group_price``, ``coupon``, ``points``,
      ``shipping``…), for other plugins and for ``excludes``. ``code`` stays the plugin's own.
    - ``exclusive``: of the exclusive adjustments proposed in one stage for one line (``item``)
      or for the cart (other stages), only the one best for the shopper applies (the lowest
      amount once clamped; ties by priority, source, code); the others are dropped.
    - ``excludes``: kinds it does not combine with. Proposals of those kinds for its line
      (``item``) or the cart are dropped in its stage, and later stages leave its line alone:
      a cart-wide adjustment of an excluded kind is dropped when no line accepts it, and a
      discount is capped at the total of the lines that do (``PricedLine.accepts``). It is
      dropped itself when an adjustment of an excluded kind applied in an earlier stage.
    - ``unit_price`` (``item``): the price of a unit of the line; the engine sets ``amount``
      to the difference from the product's price, for the units it covers.
    - ``max_quantity`` (``item``): at most this many units of the line get this price or
      discount; the rest stay at the regular price. Give ``amount`` for those units (or use
      ``unit_price``); a discount is capped at what they are worth.

    The engine fills in ``stage``, ``quantity`` (the units an ``item`` adjustment covers),
    and, for a proposal it did not apply, ``dropped_reason`` (``exclusive``, ``excluded``,
    ``no_line``) and ``dropped_by`` (the adjustment that won or excluded it).
    """

    code: str
    label: str
    amount: int = 0
    source: str = ""
    #: For the ``item`` stage: the line it applies to.
    sku: str | None = None
    #: Within a stage, lower applies first; ties break on (source, code).
    priority: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    stage: str = ""
    kind: str = ""
    exclusive: bool = False
    excludes: tuple[str, ...] = ()
    unit_price: int | None = None
    max_quantity: int | None = None
    quantity: int | None = None
    dropped_reason: str = ""
    dropped_by: Adjustment | None = field(default=None, repr=False, compare=False)

    @property
    def key(self) -> str:
        """``source:code``, how logs and ``dropped_by`` name an adjustment."""
        return f"{self.source}:{self.code}"


@dataclass
class PricedLine:
    product: Product
    quantity: int
    unit_price: int
    subtotal: int
    total: int
    #: The ``item`` adjustments applied to this line, in order.
    adjustments: list[Adjustment] = field(default_factory=list)
    #: Kinds its adjustments exclude (``Adjustment.excludes``).
    excluded: set[str] = field(default_factory=set)

    @property
    def sku(self) -> str:
        return self.product.sku

    def accepts(self, kind: str) -> bool:
        """May an adjustment of ``kind`` change this line? (No adjustment on it excludes ``kind``.)"""
        return not kind or kind not in self.excluded


@dataclass
class PricedCart:
    currency: str
    lines: list[PricedLine]
    inputs: Mapping[str, str] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    #: Proposals the engine did not apply, each with ``dropped_reason`` and ``dropped_by``.
    dropped: list[Adjustment] = field(default_factory=list)
    #: Kinds excluded for the whole cart by the cart-wide adjustments applied so far.
    excluded: set[str] = field(default_factory=set)

    @property
    def subtotal(self) -> int:
        return sum(line.subtotal for line in self.lines)

    @property
    def items_total(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def total(self) -> int:
        return self.items_total + sum(a.amount for a in self.adjustments if a.stage != "item")

    @property
    def adjustment_total(self) -> int:
        return self.total - self.subtotal

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def line_for(self, sku: str) -> PricedLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

    def accepts(self, kind: str) -> bool:
        """May a cart-wide adjustment of ``kind`` apply? Not when one excluded it for the cart,
        nor when every line excludes it."""
        if not kind:
            return True
        return kind not in self.excluded and (not self.lines or any(ln.accepts(kind) for ln in self.lines))


def validate_quantities(items: Mapping[Any, Any]) -> dict[int, int]:
    """Turn raw ``{product_id: quantity}`` into ints, refusing anything out of range."""
    clean: dict[int, int] = {}
    errors: dict[str, str] = {}
    for raw_id, raw_qty in items.items():
        try:
            product_id, quantity = int(raw_id), int(raw_qty)
        except (TypeError, ValueError):
            errors[str(raw_id)] = _l("not a number")
            continue
        if not 1 <= quantity <= MAX_QUANTITY:
            errors[str(product_id)] = _l("quantity must be between 1 and %(max)d", max=MAX_QUANTITY)
            continue
        clean[product_id] = quantity
    if errors:
        raise ValidationError(_l("Some quantities are not valid."), fields=errors)
    return clean


def price_cart(
    kernel: Any,
    session: Session,
    products: list[tuple[Product, int]],
    member: Member | None,
    inputs: Mapping[str, str] | None = None,
) -> PricedCart:
    """Price ``(product, quantity)`` pairs for ``member``; all products share one currency."""
    from siyu.core.pricing_rules import resolve

    currencies = {product.currency for product, _ in products}
    if len(currencies) > 1:
        raise ValidationError(_l("A cart can hold products of one currency only."))
    currency = currencies.pop() if currencies else "CNY"
    lines = [
        PricedLine(product, qty, product.price, product.price * qty, product.price * qty)
        for product, qty in products
    ]
    cart = PricedCart(currency=currency, lines=lines, inputs=dict(inputs or {}))
    for stage in STAGES:
        # Fail closed: a broken pricing plugin is a clear error naming it, never a wrong price.
        results = call_in_transaction(kernel.pm, "cart_adjustments", kernel=kernel, cart=cart, stage=stage, session=session,
                                      member=member)
        proposed = [adj for group in results for adj in (group or ())]
        proposed.sort(key=lambda a: (a.priority, a.source, a.code))
        for adj in resolve(cart, proposed, stage):
            apply_adjustment(cart, adj, stage)
    return cart


def apply_adjustment(cart: PricedCart, adj: Adjustment, stage: str) -> None:
    """Apply one adjustment to ``cart`` as the engine does: an ``item`` one covers its units
    (``unit_price``, ``max_quantity``); one that does not combine with what applied before
    (``excludes``) is dropped; a discount is clamped so no line and no total goes below zero
    (and a cart-wide one to the lines it combines with); a zero adjustment is dropped.
    Choosing among the proposals of one stage (``exclusive``, ``excludes``) is
    ``price_cart``'s. For tests that price by hand."""
    from siyu.core.pricing_rules import check, conflict, cover_units, drop, room

    check(adj, stage)
    adj.stage = stage
    line = cart.line_for(adj.sku or "") if stage == "item" else None
    if stage == "item":
        if line is None:
            drop(cart, adj, "no_line")
            return
        cover_units(line, adj)
    ruled_out, by = conflict(cart, adj, stage)
    if ruled_out:
        drop(cart, adj, "excluded", by)
        return
    if adj.amount < 0 or line is not None:
        adj.amount = max(adj.amount, -room(cart, adj, stage))
    if adj.amount == 0:
        return
    if line is not None:
        line.total += adj.amount
        line.adjustments.append(adj)
        line.excluded.update(adj.excludes)
    else:
        cart.excluded.update(adj.excludes)
    cart.adjustments.append(adj)


#: Where a cart is priced, for ``pricing_inputs``: the cart page, the checkout page, the order.
WHERE = ("cart", "checkout", "order")


def gather_inputs(kernel: Any, session: Session, member: Member | None, quantities: Mapping[int, int],
                  inputs: Mapping[str, str] | None, where: str,
                  browser: Mapping[str, Any] | None = None) -> dict[str, str]:
    """``inputs`` with what plugins contribute through ``pricing_inputs`` underneath: the caller's
    own inputs (the checkout form, the shopper's choices) win, and of two plugins giving one key
    the first implementation called wins."""
    from types import MappingProxyType

    given = dict(inputs or {})
    results = call_in_transaction(
        kernel.pm, "pricing_inputs", kernel=kernel, session=session, member=member,
        items=MappingProxyType(dict(quantities)), inputs=MappingProxyType(given), where=where,
        browser=MappingProxyType(dict(browser or {})))
    merged: dict[str, str] = {}
    for contributed in results:
        for key, value in (contributed or {}).items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"pricing_inputs must give strings, not {key!r}: {value!r}")
            merged.setdefault(key, value)
    return {**merged, **given}
