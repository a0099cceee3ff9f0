"""The language switcher."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, request, session, url_for
from flask_babel import refresh

from flask_babel import gettext as _

from siyu.core.errors import NotFound
from siyu.storefront.i18n import LOCALES

bp = Blueprint("locale", __name__)


@bp.get("/locale/<code>")
def switch(code: str):
    if code not in LOCALES:
        raise NotFound(_("Unknown language %(code)s; choose one of %(choices)s.", code=repr(code[:20]),
                         choices=", ".join(LOCALES)),
                       fields={"locale": "unknown"})
    session["locale"] = code
    refresh()
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.netloc:
        target = url_for("catalog.home")
    return redirect(target)
