"""Shipments: list, create for an order (all that is left, or lines in part), import a CSV or
XLSX file of order number → carrier → tracking number. Agents and owners ship.

Creating the same carrier and tracking number for an order again answers 200 with the
parcel already recorded (201 when it is new): a retry never ships twice.
"""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from sqlalchemy import func, select

from siyu.core import to_ship
from siyu.core.errors import ValidationError
from siyu.core.fulfilment import ship_order
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Shipment
from siyu.core.shipping_files import MAX_BYTES, read_rows
from siyu.core.shipping_import import import_rows, summary
from siyu.storefront.api.auth import current_api_staff
from siyu.storefront.api.orders import blp as orders_blp
from siyu.storefront.api.orders import get_order
from siyu.storefront.api.schemas import ID, MAX_ID, PageArgs, Text, page_of, paginate
from siyu.storefront.context import db, kernel

blp = Blueprint("api_shipments", __name__, description="Shipments (parcels) and bulk shipping by import")
OUTCOMES = ("shipped", "unchanged", "refused")


class ShipmentLineSchema(ma.Schema):
    order_line_id = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_ID))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=100000))


class ShipmentSchema(ma.Schema):
    id = fields.Integer(required=True)
    order_id = fields.Integer(required=True)
    carrier_code = fields.String(required=True, metadata={"description": "A code of the shop's carrier list, "
                                                                         "or `pickup`"})
    tracking_number = fields.String(required=True)
    shipped_at = fields.DateTime(required=True)
    staff_id = fields.Integer(allow_none=True, required=True)
    lines = fields.List(fields.Nested(ShipmentLineSchema), required=True)


class ShipmentInput(ma.Schema):
    carrier_code = Text(max_length=32, load_default="",
                        metadata={"description": "Required for express orders; pickup orders ignore it"})
    tracking_number = Text(max_length=64, load_default="")
    lines = fields.List(fields.Nested(ShipmentLineSchema), validate=validate.Length(min=1, max=100),
                        metadata={"description": "What this parcel holds; leave out to ship all that is left"})


class ShipmentQuery(PageArgs):
    order_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))
    carrier_code = Text(max_length=32)
    tracking_number = Text(max_length=64)


class ImportFile(ma.Schema):
    file = Upload(required=True, metadata={"description": f"A .csv or .xlsx file, at most {MAX_BYTES} bytes"})


class ImportRowSchema(ma.Schema):
    line = fields.Integer(required=True, metadata={"description": "The row's line number in the file"})
    order_number = fields.String(required=True)
    carrier = fields.String(required=True)
    tracking_number = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    message = fields.Function(lambda row: str(row.message), required=True)
    order_id = fields.Integer(allow_none=True, required=True)


class ImportResultSchema(ma.Schema):
    shipped = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    refused = fields.Integer(required=True)
    rows = fields.List(fields.Nested(ImportRowSchema), required=True)


class ToShipQuery(PageArgs):
    method = fields.String(validate=validate.OneOf(to_ship.METHODS))
    paid_from = fields.DateTime(metadata={"description": "Paid at or after (ISO 8601; UTC unless an offset is given)"})
    paid_before = fields.DateTime(metadata={"description": "Paid before"})
    q = Text(max_length=to_ship.MAX_SEARCH, metadata={"description": "Order number, part of the recipient's name, "
                                                                       "or 4+ digits of their phone"})

    @ma.post_load
    def utc(self, data, **_kwargs):
        """Aware UTC datetimes (a naive one is UTC); one beyond the calendar is refused."""
        for name in ("paid_from", "paid_before"):
            value = data.get(name)
            if value is not None:
                try:
                    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
                    data[name] = aware.astimezone(timezone.utc)
                except (OverflowError, ValueError):
                    raise ma.ValidationError("Out of range.", field_name=name) from None
        return data


class DeliverySchema(ma.Schema):
    method = fields.String(required=True)
    recipient = fields.String(required=True)
    phone = fields.String(required=True)
    province_name = fields.String(required=True)
    city_name = fields.String(required=True)
    district_name = fields.String(required=True)
    street = fields.String(required=True)
    pickup_name = fields.String(required=True)
    pickup_address = fields.String(required=True)


class LineLeftSchema(ma.Schema):
    order_line_id = fields.Function(lambda pair: pair[0].id, required=True)
    sku = fields.Function(lambda pair: pair[0].sku, required=True)
    title_zh = fields.Function(lambda pair: pair[0].title_zh, required=True)
    title_en = fields.Function(lambda pair: pair[0].title_en, required=True)
    quantity_left = fields.Function(lambda pair: pair[1], required=True)


class ToShipSchema(ma.Schema):
    order_id = fields.Function(lambda p: p.order.id, required=True)
    number = fields.Function(lambda p: p.order.number, required=True)
    status = fields.Function(lambda p: p.order.status, required=True)
    paid_at = fields.Function(lambda p: p.order.paid_at.isoformat() if p.order.paid_at else None,
                              required=True, allow_none=True)
    delivery_method = fields.Function(lambda p: p.order.delivery_method, required=True)
    delivery = fields.Nested(DeliverySchema, allow_none=True, required=True)
    lines = fields.List(fields.Nested(LineLeftSchema), required=True)


ShipmentPage = page_of(ShipmentSchema, "ShipmentPage")
ToShipPage = page_of(ToShipSchema, "ToShipPage")


@blp.route("/to-ship")
@blp.arguments(ToShipQuery, location="query")
@blp.response(200, ToShipPage)
def list_to_ship(args):
    """Orders awaiting shipment, oldest payment first, with their delivery and what is left to ship"""
    filters = to_ship.Filters(method=args.get("method"), start=args.get("paid_from"), end=args.get("paid_before"),
                              q=args.get("q") or "")
    query = to_ship.query(filters)
    count = select(func.count()).select_from(query.subquery())
    page = paginate(db(), query, count, args)
    page["items"] = to_ship.parcels(db(), page["items"])
    return page


@blp.route("")
@blp.arguments(ShipmentQuery, location="query")
@blp.response(200, ShipmentPage)
def list_shipments(args):
    """List shipments, newest first; filter by order, carrier or tracking number"""
    query = select(Shipment)
    for name in ("order_id", "carrier_code", "tracking_number"):
        if args.get(name):
            query = query.where(getattr(Shipment, name) == (args[name].strip() if isinstance(args[name], str)
                                                             else args[name]))
    count = select(func.count()).select_from(query.subquery())
    return paginate(db(), query.order_by(Shipment.id.desc()), count, args)


@blp.route("/import", methods=["POST"])
@blp.arguments(ImportFile, location="files")
@blp.response(200, ImportResultSchema)
@blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
def import_shipments(files):
    """Ship many orders from a CSV or XLSX file; each row is reported (shipped, unchanged, refused with
    the reason); importing the same file again changes nothing"""
    upload = files["file"]
    data = upload.stream.read(MAX_BYTES + 1)
    rows = read_rows(upload.filename or "", data)
    results = import_rows(kernel(), db(), rows, staff_id=current_api_staff().id)
    if not results:
        raise ValidationError(_l("The file has no rows to import."), fields={"file": _l("no rows")})
    return {**summary(results), "rows": results}


@orders_blp.route(f"/<{ID}:order_id>/shipments", methods=["GET"])
@orders_blp.response(200, ShipmentSchema(many=True))
@orders_blp.alt_response(404, response="NOT_FOUND")
def order_shipments(order_id):
    """The shipments of one order"""
    order = get_order(order_id)
    return db().scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)).all()


@orders_blp.route(f"/<{ID}:order_id>/shipments", methods=["POST"])
@orders_blp.arguments(ShipmentInput)
@orders_blp.response(201, ShipmentSchema)
@orders_blp.alt_response(200, schema=ShipmentSchema, description="This parcel was already recorded",
                         success=True)
@orders_blp.alt_response(404, response="NOT_FOUND")
@orders_blp.alt_response(409, response="CONFLICT")
def create_shipment(data, order_id):
    """Ship an order (all that is left, or the given lines in part); refused for unpaid, cancelled,
    refunded or already shipped orders"""
    order = get_order(order_id)
    lines = {line["order_line_id"]: line["quantity"] for line in data["lines"]} if data.get("lines") else None
    shipment, created = ship_order(kernel(), db(), order, carrier_code=data["carrier_code"],
                                   tracking_number=data["tracking_number"], lines=lines,
                                   staff_id=current_api_staff().id)
    return shipment, 201 if created else 200
