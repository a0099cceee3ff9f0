"""JSON API under ``/api/v1/curation``, for staff API tokens (``Authorization: Bearer …``,
checked by the storefront's ``token_required`` like every API endpoint).

Errors are problem objects (``application/problem+json``) with a 4xx status: publishing into a
full catalog answers 409 with a title naming the cap and ``suggest`` listing products to take
out. Token-authenticated, so exempt from the cookie CSRF check.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from siyu.plugin import is_id, SiyuError, ValidationError
from siyu.plugin.web import csrf_exempt, db, kernel, token_required
from siyu_curation import service
from siyu_curation.models import CurationItem

bp = Blueprint("curation_api", __name__, url_prefix="/api/v1/curation")
csrf_exempt(bp)


# The storefront's one API token check (the same as /api/v1's): 401/403 as JSON problems,
# then g.api_staff and g.api_role; a token never carries more than its staff member's role.
bp.before_request(token_required("agent"))


@bp.errorhandler(SiyuError)
def siyu_error(exc: SiyuError):
    response = jsonify({**exc.problem(), **{k: v for k, v in exc.data.items() if k in ("cap", "suggest")}})
    response.status_code = exc.status
    response.mimetype = "application/problem+json"
    return response


def _describe(key: str) -> dict:
    catalog = service.get_catalog(db(), key)
    report = service.cap_report(db(), catalog)
    items = db().scalars(select(CurationItem).where(CurationItem.catalog_id == catalog.id)
                         .order_by(CurationItem.position, CurationItem.id)
                         .options(selectinload(CurationItem.product))).all()
    return {"key": catalog.key, "title": catalog.title, "owner_key": catalog.owner_key, "cap": report.cap,
            "count": report.count, "over_cap": report.over, "remove_first": [p.id for p in report.remove],
            "items": [{"product_id": it.product_id, "sku": it.product.sku, "position": index,
                       "featured": it.featured, "active": it.product.active} for index, it in enumerate(items)]}


def _product_id() -> int:
    body = request.get_json(silent=True) or {}
    value = body.get("product_id")
    if not is_id(value):
        raise ValidationError(_("Send a JSON body with the product’s id."), fields={"product_id": _("A product id.")})
    return value


@bp.get("/catalogs/<key>")
def get_catalog(key: str):
    return jsonify(_describe(key))


@bp.post("/catalogs/<key>/items")
def publish(key: str):
    service.publish(kernel(), db(), key, _product_id(), g.api_staff.id)
    return jsonify(_describe(key)), 201


@bp.delete("/catalogs/<key>/items/<int:product_id>")
def unpublish(key: str, product_id: int):
    service.unpublish(kernel(), db(), key, product_id)
    return jsonify(_describe(key))
