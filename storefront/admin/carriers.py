"""Back office: the carriers staff ship with (owners) — code, Chinese and English names, and
the tracking page with ``{number}`` where the tracking number goes. Rows are edited in place;
two blank rows add carriers, "remove" drops one. Validation: ``siyu.core.carriers``."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from siyu.core.carriers import MAX_CARRIERS, update_carriers
from siyu.core.errors import SiyuError
from siyu.core.fulfilment_settings import fulfilment_settings
from siyu.storefront.admin import staff_required
from siyu.storefront.admin.common import require_csrf
from siyu.storefront.context import db

bp = Blueprint("admin_carriers", __name__, url_prefix="/admin/carriers")
TITLE = _l("Carriers")
SPARE_ROWS = 2
KEYS = ("code", "name_zh", "name_en", "tracking_url")


def _posted_rows() -> list[dict]:
    """Rows posted as ``carriers-<n>-<key>`` in order; a removed row stays as a blank one so
    error messages keep their row numbers (blank rows are dropped by the validation)."""
    rows = []
    for index in range(MAX_CARRIERS + SPARE_ROWS + 1):
        removed = bool(request.form.get(f"carriers-{index}-remove"))
        rows.append({k: "" if removed else request.form.get(f"carriers-{index}-{k}", "")[:400] for k in KEYS})
    while rows and not any(rows[-1].values()):
        rows.pop()
    return rows


@bp.route("", methods=["GET", "POST"])
@staff_required("owner")
def index():
    rows, errors, status = list(fulfilment_settings(db()).get("carriers") or []), {}, 200
    if request.method == "POST":
        require_csrf()
        rows = _posted_rows()
        try:
            update_carriers(db(), rows)
        except SiyuError as exc:
            flash(str(exc.message), "error")
            errors, status = {k: str(v) for k, v in exc.fields.items()}, 422
        else:
            flash(_("Carriers saved."), "success")
            return redirect(url_for("admin_carriers.index"))
    return render_template("admin/carriers.html", rows=rows + [{}] * SPARE_ROWS, errors=errors,
                           form=FlaskForm()), status
