"""A member's address book, read by staff (agents and owners). Members edit their own on the
storefront's account pages; API tokens belong to staff, so the API reads."""
from __future__ import annotations

import marshmallow as ma
from flask_babel import gettext as _
from flask_smorest import abort
from marshmallow import fields

from siyu.core.addresses import list_addresses
from siyu.core.models import Member
from siyu.storefront.api.members import blp as members_blp
from siyu.storefront.api.schemas import ID
from siyu.storefront.context import db


class AddressSchema(ma.Schema):
    id = fields.Integer(required=True)
    recipient = fields.String(required=True)
    phone = fields.String(required=True, metadata={"description": "E.164, e.g. +8613812345678"})
    province_code = fields.String(required=True, metadata={"description": "GB/T 2260 division code"})
    province_name = fields.String(required=True)
    city_code = fields.String(required=True)
    city_name = fields.String(required=True)
    district_code = fields.String(required=True)
    district_name = fields.String(required=True)
    street = fields.String(required=True)
    is_default = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


@members_blp.route(f"/<{ID}:member_id>/addresses")
@members_blp.response(200, AddressSchema(many=True))
@members_blp.alt_response(404, response="NOT_FOUND")
def member_addresses(member_id):
    """A member's delivery addresses, the default first"""
    member = db().get(Member, member_id)
    if member is None:
        abort(404, message=_("Member not found."))
    return list_addresses(db(), member)
