"""The visitor id cookie and inbound attribution on storefront GETs."""
from __future__ import annotations

import re
import secrets
from typing import Any

from flask import Flask, g, request
from flask_login import current_user

from siyu.core.members import record_touches
from siyu.storefront.context import db, kernel

COOKIE = "siyu_vid"
MAX_AGE = 400 * 24 * 3600
VALID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SKIP_PREFIXES = ("/static", "/webhooks", "/api")


def visitor_id() -> str:
    """The current visitor's id, created on first sight."""
    if "visitor_id" not in g:
        existing = request.cookies.get(COOKIE, "")
        if VALID.match(existing):
            g.visitor_id = existing
        else:
            g.visitor_id = secrets.token_urlsafe(18)
            g.new_visitor = True
    return g.visitor_id


def request_attribution() -> dict[str, Any]:
    """What plugins read from this request about where the shopper came from, by plugin
    (``request_attribution``): for ``sign_up`` and ``place_order``, whose hooks never read
    the request themselves."""
    found: dict[str, Any] = {}
    for answer in kernel().pm.hook.request_attribution(session=db()):
        found.update(answer or {})
    return found


def init_app(app: Flask) -> None:
    @app.before_request
    def attribution():
        if request.method != "GET" or not request.args or request.path.startswith(SKIP_PREFIXES):
            return
        results = kernel().pm.hook.attribution_from_request(
            args=request.args, path=request.path, session=db())
        touches = [touch for group in results for touch in (group or ())]
        if touches:
            member_id = current_user.id if current_user.is_authenticated else None
            record_touches(db(), visitor_id(), touches, member_id=member_id)

    @app.after_request
    def set_cookie(response):
        if g.get("new_visitor"):
            response.set_cookie(COOKIE, g.visitor_id, max_age=MAX_AGE, httponly=True,
                                samesite="Lax", secure=app.config["SESSION_COOKIE_SECURE"])
        return response
