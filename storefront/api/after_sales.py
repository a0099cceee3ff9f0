"""After-sales requests (售后): list with filters and read (agents and owners); approve,
reject with a reason, mark a return received, refund (owners).

A refund goes through the order's payment provider with the request's own idempotency key:
retries and concurrent calls refund once, never more than was paid for the line.
"""
from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate
from sqlalchemy import func, select

from siyu.core import after_sales as svc
from siyu.core.models import AfterSale, AfterSaleState
from siyu.core.models.fulfilment import OPEN_AFTER_SALE_STATES
from siyu.storefront.api.auth import current_api_staff, require_role
from siyu.storefront.api.schemas import ID, MAX_ID, PageArgs, Text, page_of, paginate
from siyu.storefront.context import db, kernel

blp = Blueprint("api_after_sales", __name__, description="After-sales requests: refund only, return and refund")
STATES = tuple(s.value for s in AfterSaleState)


class AfterSaleSchema(ma.Schema):
    id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    order_line_id = fields.Integer(required=True)
    member_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(tuple(svc.KINDS)))
    state = fields.String(required=True, validate=validate.OneOf(STATES))
    reason = fields.String(required=True, metadata={"description": "A reason code: " + ", ".join(svc.REASONS)})
    note = fields.String(required=True)
    photos_count = fields.Function(lambda r: len(r.photos or []), required=True)
    quantity = fields.Integer(required=True)
    amount = fields.Integer(required=True, metadata={"description": "Minor units to refund"})
    unshipped = fields.Boolean(required=True)
    return_carrier = fields.String(required=True)
    return_tracking_number = fields.String(required=True)
    decision_note = fields.String(required=True)
    refund_id = fields.Integer(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True, required=True)
    returned_at = fields.DateTime(allow_none=True, required=True)
    received_at = fields.DateTime(allow_none=True, required=True)
    refunded_at = fields.DateTime(allow_none=True, required=True)


class AfterSaleQuery(PageArgs):
    state = fields.String(validate=validate.OneOf((*STATES, "open")),
                          metadata={"description": "A state, or `open` for every request still in progress"})
    kind = fields.String(validate=validate.OneOf(tuple(svc.KINDS)))
    order_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    member_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class RejectInput(ma.Schema):
    note = Text(min_length=1, max_length=200, required=True, metadata={"description": "The reason the shopper sees"})


AfterSalePage = page_of(AfterSaleSchema, "AfterSalePage")


def get_request(after_sale_id: int) -> AfterSale:
    found = db().get(AfterSale, after_sale_id)
    if found is None:
        abort(404, message=_("After-sales request not found."))
    return found


@blp.route("")
@blp.arguments(AfterSaleQuery, location="query")
@blp.response(200, AfterSalePage)
def list_after_sales(args):
    """List after-sales requests, newest first; filter by state, kind, order or member"""
    query = select(AfterSale)
    if args.get("state") == "open":
        query = query.where(AfterSale.state.in_(OPEN_AFTER_SALE_STATES))
    elif args.get("state"):
        query = query.where(AfterSale.state == args["state"])
    for name in ("kind", "order_id", "member_id"):
        if args.get(name):
            query = query.where(getattr(AfterSale, name) == args[name])
    count = select(func.count()).select_from(query.subquery())
    return paginate(db(), query.order_by(AfterSale.created_at.desc(), AfterSale.id.desc()), count, args)


@blp.route(f"/<{ID}:after_sale_id>")
@blp.response(200, AfterSaleSchema)
@blp.alt_response(404, response="NOT_FOUND")
def read_after_sale(after_sale_id):
    """Read one after-sales request"""
    return get_request(after_sale_id)


def _decision(name: str, summary: str):
    def view(after_sale_id):
        request_ = get_request(after_sale_id)
        staff_id = current_api_staff().id
        if name == "approve":
            return svc.approve(kernel(), db(), request_, staff_id=staff_id)
        if name == "receive":
            return svc.mark_received(kernel(), db(), request_, staff_id=staff_id)
        return svc.refund(kernel(), db(), request_, staff_id=staff_id)
    view.__name__ = f"{name}_after_sale"
    view.__doc__ = summary
    blp.route(f"/<{ID}:after_sale_id>/{name}", methods=["POST"])(
        require_role("owner")(blp.response(200, AfterSaleSchema)(
            blp.alt_response(404, response="NOT_FOUND")(blp.alt_response(409, response="CONFLICT")(view)))))


_decision("approve", "Approve a new request (owners): refund only → approved (units never shipped go back "
                     "to stock); return → awaiting the goods")
_decision("receive", "Mark a return's goods as received (owners): their stock comes back, once")
_decision("refund", "Refund an approved refund-only request or a received return (owners), through the "
                    "order's provider with the request's idempotency key: retries refund once")


@blp.route(f"/<{ID}:after_sale_id>/reject", methods=["POST"])
@require_role("owner")
@blp.arguments(RejectInput)
@blp.response(200, AfterSaleSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def reject_after_sale(data, after_sale_id):
    """Reject a request with a reason the shopper sees (owners), before the goods are received"""
    return svc.reject(kernel(), db(), get_request(after_sale_id), data["note"], staff_id=current_api_staff().id)
