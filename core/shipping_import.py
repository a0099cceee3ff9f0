"""Bulk shipping from a spreadsheet: one row per parcel, order number → carrier → tracking
number. Each row ships in its own transaction through ``fulfilment.ship_order``, so a bad
row is reported (by its line number, with the reason) while the good rows still apply, and
importing the same file again changes nothing: the same carrier and tracking number for
the same order is the parcel already recorded (``unchanged``).

The columns are found by their header (English or Chinese, as the export writes them), or
are the first three when the file has no header.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.core import fulfilment
from siyu.core.carriers import carriers as shop_carriers
from siyu.core.carriers import find_carrier
from siyu.core.errors import SiyuError, ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Order

SHIPPED, UNCHANGED, REFUSED = "shipped", "unchanged", "refused"
#: Header names per column, compared without case or spaces.
HEADERS = {
    "order": ("order", "ordernumber", "order_number", "order no", "订单号", "订单编号"),
    "carrier": ("carrier", "carriercode", "carrier_code", "快递公司", "物流公司", "快递", "承运商"),
    "tracking": ("tracking", "trackingnumber", "tracking_number", "快递单号", "运单号", "物流单号"),
}


@dataclass
class RowResult:
    line: int
    order_number: str
    carrier: str
    tracking_number: str
    outcome: str
    message: Any = ""
    order_id: int | None = None


def _norm(text: str) -> str:
    return "".join(str(text).casefold().split())


def _columns(first: Sequence[str]) -> dict[str, int] | None:
    """Column index per field when ``first`` is a header row, else None."""
    found = {}
    for index, cell in enumerate(first):
        for name, aliases in HEADERS.items():
            if name not in found and _norm(cell) in {_norm(a) for a in aliases}:
                found[name] = index
    return found if len(found) == len(HEADERS) else None


def _reason(exc: SiyuError) -> str:
    if isinstance(exc, ValidationError) and exc.fields:
        return "; ".join(str(message) for message in exc.fields.values())
    return str(exc.message)


def import_rows(kernel, session: Session, rows: list[tuple[int, list[str]]], staff_id: int | None = None
                ) -> list[RowResult]:
    """Ship every row of ``rows`` (from ``shipping_files.read_rows``); one result per data row."""
    if not rows:
        return []
    columns = _columns(rows[0][1])
    data = rows[1:] if columns is not None else rows
    columns = columns or {"order": 0, "carrier": 1, "tracking": 2}
    known = shop_carriers(session)
    results = []
    for line, cells in data:
        def cell(name):
            index = columns[name]
            return cells[index].strip() if index < len(cells) else ""
        result = RowResult(line, cell("order").upper(), cell("carrier"), cell("tracking"), REFUSED)
        results.append(result)
        missing = [label for name, label in (("order", _l("order number")), ("carrier", _l("carrier")),
                                             ("tracking", _l("tracking number"))) if not cell(name)]
        if missing:
            result.message = _l("Missing: %(fields)s.", fields=", ".join(str(m) for m in missing))
            continue
        order = session.scalar(select(Order).where(Order.number == result.order_number))
        if order is None:
            result.message = _l("No order has this number.")
            continue
        result.order_id = order.id
        found = find_carrier(known, result.carrier)
        if found is None and order.delivery_method != fulfilment.PICKUP:
            result.message = _l("Unknown carrier: use a code or a name from the carrier list.")
            continue
        try:
            _shipment, created = fulfilment.ship_order(
                kernel, session, order, carrier_code=found["code"] if found else fulfilment.PICKUP,
                tracking_number=result.tracking_number, staff_id=staff_id)
        except SiyuError as exc:  # rolled back: the next row starts clean
            result.message = _reason(exc)
            continue
        result.outcome = SHIPPED if created else UNCHANGED
        result.message = "" if created else _l("Already recorded with this tracking number.")
    return results


def summary(results: list[RowResult]) -> dict[str, int]:
    counts = {SHIPPED: 0, UNCHANGED: 0, REFUSED: 0}
    for result in results:
        counts[result.outcome] += 1
    return counts
