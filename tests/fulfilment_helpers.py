"""Helpers for the fulfilment tests: addresses, paid orders with several lines, a recorder."""
from __future__ import annotations

from backoffice_helpers import paid_order  # noqa: F401  (re-exported for the tests)
from conftest import make_product

from siyu.core import hookimpl
from siyu.core.db import write_transaction
from siyu.core.orders import confirm_manual_payment, place_order

ADDRESS = {"recipient": "王小明", "phone": "13812345678", "province_code": "330000", "city_code": "330100",
           "district_code": "330106", "street": "文三路 90 号 3 幢 501"}


def two_line_order(kernel, db, member, token="two", qty_a=2, qty_b=1, price_a=3000, price_b=5000):
    """A paid manual order with two shippable lines (A × qty_a, B × qty_b)."""
    a = make_product(db, f"A-{token}", price=price_a, stock=20)
    b = make_product(db, f"B-{token}", price=price_b, stock=20)
    order = place_order(kernel, db, member=member, items={a.id: qty_a, b.id: qty_b}, payment_method="manual",
                        checkout_token=token)
    with write_transaction(db):
        kernel.provider("manual").start(kernel, db, order)
    confirm_manual_payment(kernel, db, order)
    return order, a, b


class Recorder:
    """Records the fulfilment hooks as (hook, order number, detail)."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def on_order_shipped(self, order, shipment):
        self.calls.append(("shipped", order.number, shipment.tracking_number))

    @hookimpl
    def on_order_completed(self, order, how):
        self.calls.append(("completed", order.number, how))

    @hookimpl
    def on_after_sale_requested(self, order, after_sale):
        self.calls.append(("requested", order.number, after_sale.kind))

    @hookimpl
    def on_after_sale_decided(self, order, after_sale, decision):
        self.calls.append(("decided", order.number, decision))

    @hookimpl
    def on_order_refunded(self, order, refund):
        self.calls.append(("refunded", order.number, refund.amount))

    def named(self, hook):
        return [c for c in self.calls if c[0] == hook]
