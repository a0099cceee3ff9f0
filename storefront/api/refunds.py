"""Refunds (owners): list, and refund an order fully or partially, once per idempotency key."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import func, select

from siyu.core.models import Refund
from siyu.core.money import MAX_AMOUNT
from siyu.core.refunds import refund_order
from siyu.storefront.api.auth import current_api_staff, require_role
from siyu.storefront.api.orders import blp as orders_blp
from siyu.storefront.api.orders import get_order
from siyu.storefront.api.schemas import ID, MAX_ID, PageArgs, Text, page_of, paginate
from siyu.storefront.context import db, kernel

blp = Blueprint("api_refunds", __name__, description="Refunds through the order's payment provider")


class RefundSchema(ma.Schema):
    id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(("pending", "succeeded", "failed")))
    idempotency_key = fields.String(required=True)
    reason = fields.String(required=True)
    provider_reference = fields.String(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)


class RefundInput(ma.Schema):
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_AMOUNT),
                            metadata={"description": "Minor units; at most what is still refundable"})
    idempotency_key = Text(min_length=8, max_length=128, required=True,
                           metadata={"description": "One per refund: retrying with the same key never "
                                                    "refunds twice"})
    reason = Text(max_length=200, load_default="")


class RefundQuery(PageArgs):
    order_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


RefundPage = page_of(RefundSchema, "RefundPage")


@blp.route("")
@require_role("owner")
@blp.arguments(RefundQuery, location="query")
@blp.response(200, RefundPage)
def list_refunds(args):
    """List refunds, newest first (owners)"""
    query = select(Refund)
    if args.get("order_id"):
        query = query.where(Refund.order_id == args["order_id"])
    count = select(func.count()).select_from(query.subquery())
    return paginate(db(), query.order_by(Refund.id.desc()), count, args)


@orders_blp.route(f"/<{ID}:order_id>/refunds")
class OrderRefunds(MethodView):
    @require_role("owner")
    @orders_blp.response(200, RefundSchema(many=True))
    def get(self, order_id):
        """The refunds of one order (owners)"""
        order = get_order(order_id)
        return db().scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).all()

    @require_role("owner")
    @orders_blp.arguments(RefundInput)
    @orders_blp.response(201, RefundSchema)
    def post(self, data, order_id):
        """Refund an order fully or partly (owners); retry with the same key after a timeout"""
        order = get_order(order_id)
        return refund_order(kernel(), db(), order, data["amount"], data["idempotency_key"],
                            reason=data["reason"], staff_id=current_api_staff().id)
