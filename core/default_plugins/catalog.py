"""The default storefront listing: every active product, with the core's sort orders."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from siyu.core import hookimpl
from siyu.core.models import Product

SORTS = {
    "position": (Product.position, Product.id),
    "newest": (Product.created_at.desc(), Product.id.desc()),
    "price_asc": (Product.price, Product.id),
    "price_desc": (Product.price.desc(), Product.id),
}


@hookimpl(trylast=True)
def catalog_sorts():
    return list(SORTS)


@hookimpl(trylast=True)
def catalog_products(session, sort):
    order = SORTS.get(sort, SORTS["position"])
    return list(session.scalars(
        select(Product).where(Product.active.is_(True)).order_by(*order)
        .options(selectinload(Product.images))
    ))
