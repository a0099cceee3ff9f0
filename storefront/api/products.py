"""Products: list, read, create, update (owners), deactivate by ``active: false``."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from marshmallow import fields, validate
from sqlalchemy import func, or_, select

from siyu.core.models import Product
from siyu.core.money import MAX_AMOUNT, SUPPORTED_CURRENCIES
from siyu.core.products import MAX_STOCK, SKU_RE, save_product
from siyu.storefront.api.auth import require_role
from siyu.storefront.api.schemas import ID, PageArgs, Text, page_of, paginate
from siyu.storefront.context import db
from siyu.storefront.media import image_src

blp = Blueprint("api_products", __name__, description="Products of the catalog")


class ImageSchema(ma.Schema):
    id = fields.Integer(required=True)
    url = fields.Function(lambda image: image_src(image.path), required=True)
    alt = fields.String(required=True)


def _product_fields(create: bool) -> dict:
    """The writable fields; on create the identity fields are required, others default."""
    def req(default):
        return {"required": True} if create and default is ma.missing else (
            {"load_default": default} if create else {})

    return {
        "sku": Text(max_length=64, validate=[validate.Regexp(SKU_RE)], **req(ma.missing)),
        "title_zh": Text(min_length=1, max_length=200, validate=[validate.Regexp(r"\s*\S")], **req(ma.missing)),
        "title_en": Text(min_length=1, max_length=200, validate=[validate.Regexp(r"\s*\S")], **req(ma.missing)),
        "description_zh": Text(max_length=20000, **req("")),
        "description_en": Text(max_length=20000, **req("")),
        "price": fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_AMOUNT),
                                metadata={"description": "Minor units (fen, cents)"}, **req(ma.missing)),
        "currency": fields.String(validate=validate.OneOf(SUPPORTED_CURRENCIES), **req(ma.missing)),
        "stock": fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_STOCK), **req(0)),
        "active": fields.Boolean(**req(True)),
        "requires_shipping": fields.Boolean(metadata={"description": "False for virtual products: no delivery"},
                                            **req(True)),
        "position": fields.Integer(strict=True, validate=validate.Range(min=-MAX_STOCK, max=MAX_STOCK), **req(0)),
    }


ProductInput = type("ProductInput", (ma.Schema,), _product_fields(create=True))
ProductPatch = type("ProductPatch", (ma.Schema,), _product_fields(create=False))


class ProductSchema(ma.Schema):
    sku = fields.String(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    description_zh = fields.String(required=True)
    description_en = fields.String(required=True)
    price = fields.Integer(required=True, metadata={"description": "Minor units (fen, cents)"})
    currency = fields.String(required=True)
    stock = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    requires_shipping = fields.Boolean(required=True)
    position = fields.Integer(required=True)
    id = fields.Integer(required=True)
    images = fields.List(fields.Nested(ImageSchema), required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ProductQuery(PageArgs):
    q = Text(max_length=100, metadata={"description": "SKU or title contains"})
    active = fields.Boolean()


ProductPage = page_of(ProductSchema, "ProductPage")


def _get(product_id: int) -> Product:
    product = db().get(Product, product_id)
    if product is None:
        abort(404, message=_("Product not found."))
    return product


@blp.route("")
class Products(MethodView):
    @blp.arguments(ProductQuery, location="query")
    @blp.response(200, ProductPage)
    def get(self, args):
        """List products, newest first"""
        query = select(Product)
        if args.get("q"):
            like = f"%{args['q']}%"
            query = query.where(or_(Product.sku.ilike(like), Product.title_zh.ilike(like),
                                    Product.title_en.ilike(like)))
        if "active" in args:
            query = query.where(Product.active.is_(args["active"]))
        count = select(func.count()).select_from(query.subquery())
        return paginate(db(), query.order_by(Product.id.desc()), count, args)

    @require_role("owner")
    @blp.arguments(ProductInput)
    @blp.response(201, ProductSchema)
    def post(self, data):
        """Create a product (owners)"""
        return save_product(db(), data)


@blp.route(f"/<{ID}:product_id>")
class ProductItem(MethodView):
    @blp.response(200, ProductSchema)
    def get(self, product_id):
        """Read one product"""
        return _get(product_id)

    @require_role("owner")
    @blp.arguments(ProductPatch)
    @blp.response(200, ProductSchema)
    def patch(self, data, product_id):
        """Change some fields of a product; ``active: false`` takes it out of the shop (owners)"""
        return save_product(db(), data, _get(product_id))
