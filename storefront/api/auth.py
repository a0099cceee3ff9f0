"""Bearer-token authentication for every API endpoint; cookies never authenticate an API call.

One path for the core's API and the plugins' own: ``bearer_token()`` reads the header (the
scheme is case-insensitive, RFC 7235: ``bearer`` works as ``Bearer`` does), ``api_caller()``
checks the token once per request. Each flask-smorest API blueprint runs ``authenticate``
before its views; a plugin's plain Flask API blueprint runs ``token_required(role)``. A
missing, unknown, revoked or deactivated staff member's token answers 401. ``require_role("owner")``
guards views that need more than an agent.
"""
from __future__ import annotations

import functools

from flask import g, request
from flask_babel import gettext as _
from flask_smorest import abort

from siyu.core.api_tokens import authenticate_token
from siyu.core.staff import RANK
from siyu.storefront.context import db

MAX_HEADER = 300  # a token is ~50 characters; longer headers are refused unread


def bearer_token(header: str | None = None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (this request's by default)."""
    if header is None:
        header = request.headers.get("Authorization", "")
    if len(header) > MAX_HEADER:
        return None
    scheme, _sep, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def api_caller():
    """``(staff, effective role)`` for this request's API token, or ``None``; checked once."""
    if "api_caller" not in g:
        token = bearer_token()
        g.api_caller = authenticate_token(db(), token) if token else None
    return g.api_caller


def _unauthorized_message() -> str:
    return _("A valid API token is required (Authorization: Bearer <token>).")


def authenticate() -> None:
    """``before_request`` of the flask-smorest API blueprints (``/api/v1`` and ``register_api``)."""
    found = api_caller()
    if found is None:
        abort(401, message=_unauthorized_message(), headers={"WWW-Authenticate": 'Bearer realm="siyu"'})
    g.api_staff, g.api_role = found


def token_required(role: str = "agent"):
    """A ``before_request`` function for a plugin's own (plain Flask) API blueprint::

        bp.before_request(token_required("agent"))

    The same token check as ``/api/v1``: 401 without a valid token, 403 when the token's
    effective role is below ``role``, both as JSON problems; then ``g.api_staff`` and
    ``g.api_role`` are set, as ``current_api_staff()`` reads them.
    """
    def check_api_token():
        from siyu.storefront.api import problem

        found = api_caller()
        if found is None:
            return problem(401, _unauthorized_message(), headers={"WWW-Authenticate": 'Bearer realm="siyu"'})
        g.api_staff, g.api_role = found
        if RANK.get(g.api_role, 0) < RANK[role]:
            return problem(403, _("This token's role may not do that."))
        return None
    return check_api_token


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
