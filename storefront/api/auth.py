"""Bearer-token authentication for the API; cookies never authenticate an API call.

Each API blueprint runs ``authenticate`` before its views: a missing, unknown, revoked or
deactivated staff member's token answers 401. ``require_role("owner")`` guards views that
need more than an agent.
"""
from __future__ import annotations

import functools

from flask import g, request
from flask_babel import gettext as _
from flask_smorest import abort

from siyu.core.api_tokens import authenticate_token
from siyu.core.staff import RANK
from siyu.storefront.context import db

BEARER = "bearer "


def authenticate() -> None:
    header = request.headers.get("Authorization", "")
    found = None
    if header[:len(BEARER)].lower() == BEARER:
        found = authenticate_token(db(), header[len(BEARER):].strip())
    if found is None:
        abort(401, message=_("A valid API token is required (Authorization: Bearer <token>)."),
              headers={"WWW-Authenticate": 'Bearer realm="siyu"'})
    g.api_staff, g.api_role = found


def current_api_staff():
    return g.get("api_staff")


def require_role(role: str):
    """Decorate an API view: the token's effective role must be at least ``role``."""
    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if RANK.get(g.get("api_role"), 0) < RANK[role]:
                abort(403, message=_("This token's role may not do that."))
            return view(*args, **kwargs)
        return wrapped
    return decorator
