"""Catalog: the home listing and the product page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from jinja2.utils import concat
from sqlalchemy.orm import joinedload

from siyu.core.models import Product
from siyu.storefront.cache import cached, catalog_key
from siyu.storefront.context import db, kernel
from siyu.storefront.views.helpers import locale_code

bp = Blueprint("catalog", __name__)

HOME = "catalog/home.html"


def render_block(template_name: str, block: str, **context) -> str:
    """One block of a template, rendered with the same context as ``render_template``."""
    app = current_app._get_current_object()
    template = app.jinja_env.get_or_select_template(template_name)
    app.update_template_context(context)
    return concat(template.blocks[block](template.new_context(context)))


@bp.get("/")
def home():
    pm = kernel().pm
    sorts = pm.hook.catalog_sorts() or ["position"]
    sort = request.args.get("sort", sorts[0])
    if sort not in sorts:
        sort = sorts[0]

    def product_list() -> str:
        products = pm.hook.catalog_products(session=db(), sort=sort) or []
        return render_block(HOME, "product_list", products=products, sorts=sorts, sort=sort)

    html = cached(catalog_key("home", locale_code(), sort, tuple(sorts)), product_list)
    return render_template(HOME, sorts=sorts, sort=sort, product_list_html=html)


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    # One query with its images: a second SELECT for a handful of rows costs more than the join.
    item = db().get(Product, product_id, options=[joinedload(Product.images)])
    if item is None or not item.active:
        abort(404)
    return render_template("catalog/product.html", product=item)
