"""Orders: list with filters, read, confirm a manual payment, cancel (owners)."""
from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate
from sqlalchemy import func, select

from siyu.core.models import Order, OrderStatus, Payment
from siyu.core.orders import cancel_order, confirm_manual_payment
from siyu.storefront.api.auth import require_role
from siyu.storefront.api.schemas import ID, MAX_ID, PageArgs, Text, page_of, paginate
from siyu.storefront.context import db, kernel

blp = Blueprint("api_orders", __name__, description="Orders, payments and their state changes")
STATUSES = tuple(s.value for s in OrderStatus)


class LineSchema(ma.Schema):
    product_id = fields.Integer(allow_none=True, required=True)
    sku = fields.String(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    unit_price = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    subtotal = fields.Integer(required=True)
    total = fields.Integer(required=True)


class AdjustmentSchema(ma.Schema):
    stage = fields.String(required=True)
    source = fields.String(required=True)
    code = fields.String(required=True)
    label = fields.String(required=True)
    amount = fields.Integer(required=True)
    sku = fields.String(allow_none=True)


class PaymentSchema(ma.Schema):
    id = fields.Integer(required=True)
    provider = fields.String(required=True)
    reference = fields.String(required=True)
    amount = fields.Integer(required=True)
    status = fields.String(required=True)


class OrderSummarySchema(ma.Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    member_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    currency = fields.String(required=True)
    subtotal = fields.Integer(required=True)
    adjustment_total = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "Minor units"})
    refunded_amount = fields.Integer(required=True)
    payment_method = fields.String(required=True)
    placed_at = fields.DateTime(required=True)
    paid_at = fields.DateTime(allow_none=True, required=True)
    cancelled_at = fields.DateTime(allow_none=True, required=True)


class OrderSchema(OrderSummarySchema):
    lines = fields.List(fields.Nested(LineSchema), required=True)
    adjustments = fields.List(fields.Nested(AdjustmentSchema), required=True)
    payments = fields.List(fields.Nested(PaymentSchema), required=True, attribute="api_payments")


class OrderQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    member_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    number = Text(max_length=32)


OrderPage = page_of(OrderSummarySchema, "OrderPage")


def get_order(order_id: int) -> Order:
    order = db().get(Order, order_id)
    if order is None:
        abort(404, message=_("Order not found."))
    return order


def with_payments(order: Order) -> Order:
    db().refresh(order)
    order.api_payments = list(db().scalars(
        select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)))
    return order


@blp.route("")
@blp.arguments(OrderQuery, location="query")
@blp.response(200, OrderPage)
def list_orders(args):
    """List orders, newest first; filter by status, member or number"""
    query = select(Order)
    if args.get("status"):
        query = query.where(Order.status == args["status"])
    if args.get("member_id"):
        query = query.where(Order.member_id == args["member_id"])
    if args.get("number"):
        query = query.where(Order.number == args["number"].strip().upper())
    count = select(func.count()).select_from(query.subquery())
    return paginate(db(), query.order_by(Order.placed_at.desc(), Order.id.desc()), count, args)


@blp.route(f"/<{ID}:order_id>")
@blp.response(200, OrderSchema)
def read_order(order_id):
    """Read one order with its lines, adjustments and payments"""
    return with_payments(get_order(order_id))


@blp.route(f"/<{ID}:order_id>/mark-paid", methods=["POST"])
@require_role("owner")
@blp.response(200, OrderSchema)
def mark_paid(order_id):
    """Confirm that a manual payment (bank transfer, pay on delivery) arrived (owners)"""
    order = get_order(order_id)
    confirm_manual_payment(kernel(), db(), order)
    return with_payments(order)


@blp.route(f"/<{ID}:order_id>/cancel", methods=["POST"])
@require_role("owner")
@blp.response(200, OrderSchema)
def cancel(order_id):
    """Cancel an unpaid order and release its stock (owners)"""
    order = get_order(order_id)
    cancel_order(kernel(), db(), order, "staff")
    return with_payments(order)
