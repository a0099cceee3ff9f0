"""Members: search and read (agents and owners)."""
from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import fields
from sqlalchemy import func, or_, select

from siyu.core.models import Member, Order
from siyu.core.metrics import PAID
from siyu.storefront.api.schemas import ID, PageArgs, Text, page_of, paginate
from siyu.storefront.context import db

blp = Blueprint("api_members", __name__, description="The shop's members (shoppers with an account)")


class MemberSchema(ma.Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    locale = fields.String(allow_none=True, required=True)
    active = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)


class MemberDetailSchema(MemberSchema):
    orders_count = fields.Integer(required=True)
    paid_orders_count = fields.Integer(required=True)


class MemberQuery(PageArgs):
    q = Text(max_length=100, metadata={"description": "Email or name contains"})


MemberPage = page_of(MemberSchema, "MemberPage")


@blp.route("")
@blp.arguments(MemberQuery, location="query")
@blp.response(200, MemberPage)
def list_members(args):
    """Search members, newest first"""
    query = select(Member)
    if args.get("q"):
        like = f"%{args['q'].strip().lower()}%"
        query = query.where(or_(Member.email.ilike(like), Member.name.ilike(like)))
    count = select(func.count()).select_from(query.subquery())
    return paginate(db(), query.order_by(Member.id.desc()), count, args)


@blp.route(f"/<{ID}:member_id>")
@blp.response(200, MemberDetailSchema)
def read_member(member_id):
    """Read one member with order counts"""
    member = db().get(Member, member_id)
    if member is None:
        abort(404, message=_("Member not found."))
    counts = db().execute(select(func.count(Order.id), func.count(Order.id).filter(Order.status.in_(PAID)))
                          .where(Order.member_id == member.id)).one()
    return {**MemberSchema().dump(member), "orders_count": counts[0], "paid_orders_count": counts[1],
            "created_at": member.created_at}
