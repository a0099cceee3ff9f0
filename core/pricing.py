"""The pricing engine: a cart priced from adjustments that plugins contribute by stage.

Prices come from the database only; a client never sends one. Each stage sees the running
totals of the stages before it. Discounts are clamped so no line and no total goes below
zero, and every adjustment that survives is kept as a line on the order.
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
    """One change to a cart's price. ``amount`` is minor units, negative for a discount."""

    code: str
    label: str
    amount: int
    source: str = ""
    #: For the ``item`` stage: the line it applies to.
    sku: str | None = None
    #: Within a stage, lower applies first; ties break on (source, code).
    priority: int = 0
    data: dict[str, Any] = field(default_factory=dict)
    stage: str = ""


@dataclass
class PricedLine:
    product: Product
    quantity: int
    unit_price: int
    subtotal: int
    total: int

    @property
    def sku(self) -> str:
        return self.product.sku


@dataclass
class PricedCart:
    currency: str
    lines: list[PricedLine]
    inputs: Mapping[str, str] = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)

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
        for adj in proposed:
            apply_adjustment(cart, adj, stage)
    return cart


def apply_adjustment(cart: PricedCart, adj: Adjustment, stage: str) -> None:
    """Apply one adjustment to ``cart`` as the engine does: a discount is clamped so no line and
    no total goes below zero; a zero adjustment is dropped. For tests that price by hand."""
    if not isinstance(adj.amount, int) or isinstance(adj.amount, bool):
        raise TypeError(f"adjustment {adj.code!r} amount must be an int of minor units")
    adj.stage = stage
    if stage == "item":
        line = cart.line_for(adj.sku or "")
        if line is None:
            return
        adj.amount = max(adj.amount, -line.total)
        line.total += adj.amount
    elif adj.amount < 0:
        adj.amount = max(adj.amount, -cart.total)
    if adj.amount != 0:
        cart.adjustments.append(adj)
