"""Helpers for the back office's shipping tests: paid orders with a delivery address, staff."""
from __future__ import annotations

from backoffice_helpers import make_staff, staff_login
from fulfilment_helpers import two_line_order

from siyu.core.db import write_transaction
from siyu.core.models import OrderDelivery

EN = {"Accept-Language": "en"}


def deliver_to(db, order, recipient="王小明", phone="+8613812345678", street="文三路 90 号 501", method="express"):
    """Give a test order the delivery snapshot a storefront checkout writes."""
    with write_transaction(db):
        order = db.merge(order)
        order.delivery_method = method
        db.add(OrderDelivery(order_id=order.id, method=method, recipient=recipient, phone=phone,
                             province_code="330000", province_name="浙江省", city_code="330100",
                             city_name="杭州市", district_code="330106", district_name="西湖区", street=street,
                             pickup_code="1" if method == "pickup" else "",
                             pickup_name="西湖门店" if method == "pickup" else ""))
    return order


def shipping_order(kernel, db, member, token, **delivery):
    order, a, b = two_line_order(kernel, db, member, token=token)
    return deliver_to(db, order, **delivery), a, b


def signed_in(app, db, role="agent", email=None):
    return staff_login(app.test_client(), make_staff(db, role, email))
