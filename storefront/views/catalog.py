"""Catalog: the home listing and the product page."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from sqlalchemy.orm import selectinload

from siyu.core.models import Product
from siyu.storefront.context import db, kernel

bp = Blueprint("catalog", __name__)


@bp.get("/")
def home():
    pm = kernel().pm
    sorts = pm.hook.catalog_sorts() or ["position"]
    sort = request.args.get("sort", sorts[0])
    if sort not in sorts:
        sort = sorts[0]
    products = pm.hook.catalog_products(session=db(), sort=sort) or []
    return render_template("catalog/home.html", products=products, sorts=sorts, sort=sort)


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    item = db().get(Product, product_id, options=[selectinload(Product.images)])
    if item is None or not item.active:
        abort(404)
    return render_template("catalog/product.html", product=item)
