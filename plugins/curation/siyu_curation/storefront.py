"""Storefront pieces: the hero strip on the home page and named catalogs at ``/c/<key>``."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from siyu.plugin import Product
from siyu.plugin.web import cached, catalog_key, db, locale_code
from siyu_curation.models import MAIN, CurationCatalog, CurationItem

bp = Blueprint("curation", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static/curation")


def featured_products(session, key: str = MAIN) -> list[Product]:
    return list(session.scalars(
        select(Product).join(CurationItem, CurationItem.product_id == Product.id)
        .join(CurationCatalog, CurationCatalog.id == CurationItem.catalog_id)
        .where(CurationCatalog.key == key, CurationItem.featured.is_(True), Product.active.is_(True))
        .order_by(CurationItem.position, CurationItem.id).options(selectinload(Product.images))))


def hero_strip() -> Markup:
    """The main catalog's hero items; cached like the product list, by catalog revision."""
    def render() -> str:
        heroes = featured_products(db())
        return render_template("curation/_hero.html", heroes=heroes) if heroes else ""

    return cached(catalog_key("curation-hero", locale_code()), render)


@bp.get("/c/<key>")
def catalog_page(key: str):
    """A named catalog (a channel's landing page, a distributor's picks): capped, in order."""
    from siyu_curation.plugin import listed_products

    catalog = db().scalar(select(CurationCatalog).where(CurationCatalog.key == key))
    if catalog is None or key == MAIN:
        abort(404)

    def render() -> str:
        return render_template("curation/_grid.html", products=listed_products(db(), key))

    grid = cached(catalog_key("curation-page", key, locale_code()), render)
    return render_template("curation/catalog.html", catalog=catalog, grid=grid)
