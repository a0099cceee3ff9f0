"""JSON API under ``/api/v1/curation``, for staff API tokens (``Authorization: Bearer …``).

Errors are problem objects (``application/problem+json``) with a 4xx status: publishing into a
full catalog answers 409 with a title naming the cap and ``suggest`` listing products to take
out. Token-authenticated, so exempt from the cookie CSRF check.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from siyu.core.db import utcnow, write_transaction
from siyu.core.errors import SiyuError, ValidationError
from siyu.core.models import ApiToken, StaffUser
from siyu.core.staff import may
from siyu.storefront.context import db, kernel
from siyu.storefront.errors import problem_response
from siyu.storefront.extensions import csrf
from siyu_curation import service
from siyu_curation.models import CurationItem

bp = Blueprint("curation_api", __name__, url_prefix="/api/v1/curation")
csrf.exempt(bp)


def _authenticate():
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or len(header) > 300:
        return None
    digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()
    row = db().execute(select(ApiToken, StaffUser).join(StaffUser, StaffUser.id == ApiToken.staff_id)
                       .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None),
                              StaffUser.active.is_(True))).first()
    if row is None:
        return None
    token, staff = row
    if token.last_used_at is None or token.last_used_at < utcnow() - timedelta(minutes=5):
        with write_transaction(db()):  # throttled so a busy client does not write on every call
            db().execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=utcnow()))
    return token, staff


@bp.before_request
def require_token():
    found = _authenticate()
    if found is None:
        response = problem_response(401, _("A valid API token is required."))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    g.api_token, g.api_staff = found
    # A token never carries more than its own role, nor more than its staff member's.
    if not may(g.api_staff, "agent") or g.api_token.role not in ("agent", "owner"):
        return problem_response(403, _("This token may not do that."))
    return None


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
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
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
