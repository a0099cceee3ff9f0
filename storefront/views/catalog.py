"""Catalog: the home listing and the product page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from jinja2.utils import concat
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from siyu.core.models import Product
from siyu.core.reservations import release_overdue
from siyu.storefront.cache import cached, cached_snapshot, catalog_key
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


_PRODUCT = (select(Product).options(joinedload(Product.images))
            .where(Product.id == bindparam("product_id")))
_STOCK = select(Product.active, Product.stock).where(Product.id == bindparam("product_id"))


def _product_snapshot(product_id: int) -> Product | None:
    """The product and its images as of this catalog revision, detached from any session.

    Every edit of a product or its images bumps the catalog revision, so a copy per worker
    and revision stays right; stock changes with every order and is read on each view.
    """
    def load() -> Product | None:
        session = db()
        item = session.execute(_PRODUCT, {"product_id": product_id}).unique().scalar_one_or_none()
        if item is not None:
            session.expunge(item)  # cascades to the images: nothing can expire the shared copy
        return item
    return cached_snapshot(catalog_key("product", product_id), load)


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    live = db().execute(_STOCK, {"product_id": product_id}).first()
    if live is None or not live.active:
        abort(404)
    item = _product_snapshot(product_id)
    if item is None:  # deleted between the two reads
        abort(404)
    stock = live.stock
    if stock <= 0 and release_overdue(kernel(), db(), product_ids=[product_id]):
        stock = db().scalar(select(Product.stock).where(Product.id == product_id)) or 0  # given back
    return render_template("catalog/product.html", product=item, stock=stock)
