"""Fulfilment services: shipping by line, receipt, automatic completion, refunds on a
shipped order. (Address book: test_addresses.py; after-sales: test_after_sales.py.)"""
from datetime import timedelta

import pytest
from conftest import fresh, make_product
from fulfilment_helpers import Recorder, two_line_order

from siyu.core import settings
from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import InvalidTransition, NotFound, ValidationError
from siyu.core.fulfilment import complete_due, confirm_receipt, progress, ship_order
from siyu.core.fulfilment_settings import fulfilment_settings, tracking_url
from siyu.core.members import sign_up
from siyu.core.models import Order, Product
from siyu.core.orders import cancel_order, place_order
from siyu.core.refunds import refund_order


@pytest.fixture
def recorder(register_plugin):
    return register_plugin(Recorder(), name="recorder")


def test_partial_shipment_by_line_then_the_rest_ships_the_order(kernel, db, member, recorder):
    order, a, b = two_line_order(kernel, db, member)
    line_a, line_b = order.lines
    first, created = ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001",
                                lines={line_a.id: 1})
    assert created and fresh(db).get(Order, order.id).status == "paid"
    assert progress(db, order)[line_a.id].remaining == 1
    second, _ = ship_order(kernel, db, order, carrier_code="zto", tracking_number="ZT2000002")
    assert {(sl.order_line_id, sl.quantity) for sl in second.lines} == {(line_a.id, 1), (line_b.id, 1)}
    order = fresh(db).get(Order, order.id)
    assert order.status == "shipped" and order.shipped_at is not None
    assert [c[2] for c in recorder.named("shipped")] == ["SF1000001", "ZT2000002"]


def test_shipping_twice_is_refused_and_the_same_parcel_again_changes_nothing(kernel, db, member, recorder):
    order, *_ = two_line_order(kernel, db, member)
    shipment, _ = ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    again, created = ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    assert (again.id, created) == (shipment.id, False)
    with pytest.raises(InvalidTransition, match="already been shipped"):
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000009")
    assert len(recorder.named("shipped")) == 1


def test_quantities_beyond_what_is_left_and_unknown_carriers_are_refused(kernel, db, member):
    order, *_ = two_line_order(kernel, db, member)
    line_a = order.lines[0]
    with pytest.raises(ValidationError) as caught:
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001", lines={line_a.id: 3})
    assert str(line_a.id) in caught.value.fields
    with pytest.raises(ValidationError) as caught:
        ship_order(kernel, db, order, carrier_code="pigeon", tracking_number="x")
    assert set(caught.value.fields) == {"carrier_code", "tracking_number"}
    assert not fresh(db).get(Order, order.id).status == "shipped"


def test_unpaid_and_cancelled_orders_cannot_ship(kernel, db, member):
    product = make_product(db, "U", stock=5)
    order = place_order(kernel, db, member=member, items={product.id: 1}, payment_method="manual",
                        checkout_token="unpaid")
    with pytest.raises(InvalidTransition, match="not paid"):
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    cancel_order(kernel, db, order, "customer")
    with pytest.raises(InvalidTransition, match="cancelled or refunded"):
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")


def test_virtual_products_make_an_order_with_nothing_to_ship(kernel, db, member, recorder):
    with write_transaction(db):
        card = Product(sku="GIFT", title_zh="礼品卡", title_en="Gift card", price=10000, currency="CNY",
                       stock=10, requires_shipping=False)
        db.add(card)
    order = place_order(kernel, db, member=member, items={card.id: 1}, payment_method="manual",
                        checkout_token="virtual")
    assert order.delivery_method == "none" and order.lines[0].requires_shipping is False
    from siyu.core.orders import confirm_manual_payment

    with write_transaction(db):
        kernel.provider("manual").start(kernel, db, order)
    confirm_manual_payment(kernel, db, order)
    with pytest.raises(InvalidTransition, match="nothing to ship"):
        ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    confirm_receipt(kernel, db, order, member)
    assert fresh(db).get(Order, order.id).status == "completed"


def test_confirm_receipt_completes_once_and_only_for_the_owner(kernel, db, member, recorder):
    order, *_ = two_line_order(kernel, db, member)
    with pytest.raises(InvalidTransition):
        confirm_receipt(kernel, db, order, member)  # not shipped yet
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    other = sign_up(kernel, db, email="other@example.com", password="password-123")
    with pytest.raises(NotFound):
        confirm_receipt(kernel, db, order, other)
    confirm_receipt(kernel, db, order, member)
    with pytest.raises(InvalidTransition):
        confirm_receipt(kernel, db, order, member)
    order = fresh(db).get(Order, order.id)
    assert order.status == "completed" and order.completed_at is not None
    assert recorder.named("completed") == [("completed", order.number, "member")]


def test_orders_complete_by_themselves_after_the_configured_days(kernel, db, member, recorder):
    due, *_ = two_line_order(kernel, db, member, token="due")
    recent, *_ = two_line_order(kernel, db, member, token="recent")
    ship_order(kernel, db, due, carrier_code="sf", tracking_number="SF1000001")
    ship_order(kernel, db, recent, carrier_code="sf", tracking_number="SF1000002")
    with write_transaction(db):
        settings.put(db, "fulfilment", "auto_complete_days", 7)
        db.get(Order, due.id).shipped_at = utcnow() - timedelta(days=7, minutes=1)
        db.get(Order, recent.id).shipped_at = utcnow() - timedelta(days=6)
    assert complete_due(kernel, db) == 1
    assert complete_due(kernel, db) == 0
    assert fresh(db).get(Order, due.id).status == "completed"
    assert db.get(Order, recent.id).status == "shipped"
    assert recorder.named("completed") == [("completed", due.number, "auto")]


def test_the_worker_completes_due_orders_on_its_schedule(kernel, db, member, recorder):
    from siyu.core import jobs

    task = jobs.queue(kernel).siyu_tasks["complete_due_orders"]
    assert task.task_class.validate_datetime  # a periodic task: the consumer runs it every 30 minutes
    due, *_ = two_line_order(kernel, db, member, token="due")
    ship_order(kernel, db, due, carrier_code="sf", tracking_number="SF1000001")
    with write_transaction(db):
        db.get(Order, due.id).shipped_at = utcnow() - timedelta(days=11)
    assert task.call_local() == 1  # no shopper looked at the order: the schedule completes it
    assert fresh(db).get(Order, due.id).status == "completed"
    assert recorder.named("completed") == [("completed", due.number, "auto")]


def test_a_partial_refund_keeps_a_shipped_order_shipped_and_a_full_one_ends_it(kernel, db, member):
    order, *_ = two_line_order(kernel, db, member)
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    refund_order(kernel, db, fresh(db).get(Order, order.id), 1000, "part")
    order = fresh(db).get(Order, order.id)
    assert (order.status, order.refunded_amount, order.is_paid) == ("shipped", 1000, True)
    refund_order(kernel, db, order, order.total - 1000, "rest")
    order = fresh(db).get(Order, order.id)
    assert order.status == "refunded"
    with pytest.raises(InvalidTransition):
        confirm_receipt(kernel, db, order, member)


def test_a_partially_refunded_order_still_ships(kernel, db, member):
    order, *_ = two_line_order(kernel, db, member)
    refund_order(kernel, db, order, 500, "goodwill")
    assert fresh(db).get(Order, order.id).status == "partially_refunded"
    ship_order(kernel, db, order, carrier_code="sf", tracking_number="SF1000001")
    assert fresh(db).get(Order, order.id).status == "shipped"


def test_tracking_links_come_from_the_carrier_list(db):
    values = fulfilment_settings(db)
    assert tracking_url(values, "sf", "SF 1/2") == "https://www.sf-express.com/chn/sc/waybill/waybill-detail/SF%201%2F2"
    assert tracking_url(values, "pickup", "") is None
    assert tracking_url(values, "nobody", "123") is None
