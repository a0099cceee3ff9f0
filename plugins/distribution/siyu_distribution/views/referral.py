"""Referral links: ``/r/<code>`` and ``?ref=<code>`` on any storefront page.

A valid code counts a click (once per visitor per day), sets the signed referral cookie
and, for a signed-in member, updates their binding at once. A bad code is ignored: the
visitor simply lands in the shop.
"""
from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request
from flask_login import current_user

from siyu.plugin import record_touches, write_transaction
from siyu.plugin.web import db, UNTRACKED_PATHS as SKIP_PREFIXES, visitor_id

from siyu_distribution import attribution, config, distributors
from siyu_distribution.views.blueprints import bp


def current_ref(settings: config.Settings | None = None):
    """The verified referral cookie of this request: (distributor id, code, signed at) or None.

    ``settings``: the plugin's settings when the caller has loaded them already."""
    if "distribution_ref" not in g:
        settings = config.load(db()) if settings is None else settings
        g.distribution_ref = attribution.read_ref(current_app.secret_key, request.cookies.get(attribution.COOKIE),
                                                  settings.cookie_days * 86400)
    return g.distribution_ref


def _follow(code: str | None) -> bool:
    link = distributors.approved_link(db(), code)
    if link is None:
        return False
    now = datetime.now(timezone.utc)
    attribution.record_click(db(), link, visitor_id(), now.date())
    g.distribution_new_ref = attribution.sign_ref(current_app.secret_key, link)
    g.distribution_ref = (link.distributor_id, link.code, now)
    g.distribution_cookie_days = config.load(db()).cookie_days
    if current_user.is_authenticated:
        with write_transaction(db()):
            attribution.bind(db(), current_user.id, config.load(db()), now, g.distribution_ref)
    g.distribution_link = link
    return True


@bp.before_app_request
def referral_query():
    if request.method == "GET" and "ref" in request.args and not request.path.startswith(SKIP_PREFIXES) \
            and request.endpoint != "distribution.follow":
        _follow(request.args.get("ref"))


@bp.after_app_request
def referral_cookie(response):
    token = g.get("distribution_new_ref")
    if token:
        response.set_cookie(attribution.COOKIE, token, max_age=g.distribution_cookie_days * 86400,
                            httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _safe_target(target: str) -> str:
    parts = urlsplit(target or "/")
    if not target.startswith("/") or target.startswith("//") or parts.netloc or parts.scheme:
        return "/"
    return target


@bp.get("/r/<code>")
def follow(code: str):
    if not _follow(code):
        return redirect("/", code=302)
    # The core binds touches to the member at sign-up and login, as for ``?ref=``.
    record_touches(db(), visitor_id(), [(attribution.TOUCH_SOURCE, code)],
                   member_id=current_user.id if current_user.is_authenticated else None)
    return redirect(_safe_target(g.distribution_link.target), code=302)
