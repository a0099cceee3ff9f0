"""Back office: ship many orders at once from a CSV or XLSX file (order number → carrier →
tracking number). The result page lists every row: shipped, unchanged (already recorded:
importing a file twice changes nothing) or refused, with its line number and the reason."""
from __future__ import annotations

from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from siyu.core.errors import ValidationError
from siyu.core.shipping_files import MAX_BYTES, MAX_ROWS, read_rows
from siyu.core.shipping_import import import_rows, summary
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.context import db, kernel

bp = Blueprint("admin_shipping_import", __name__, url_prefix="/admin/shipping/import")
TITLE = _l("Import tracking numbers")


def _form(error: str | None = None, status: int = 200):
    return render_template("admin/shipping/import.html", form=FlaskForm(), error=error,
                           max_mb=MAX_BYTES // (1024 * 1024), max_rows=MAX_ROWS), status


@bp.get("")
@staff_required("agent")
def index():
    return _form()


@bp.post("")
@staff_required("agent")
def upload():
    if not FlaskForm().validate():
        flash(_("The form expired; please try again."), "error")
        return _form(status=400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form(_("Choose a .csv or .xlsx file."), 422)
    data = upload.stream.read(MAX_BYTES + 1)
    try:
        rows = read_rows(upload.filename, data)
    except ValidationError as exc:
        return _form(str(exc.message), 422)
    results = import_rows(kernel(), db(), rows, staff_id=current_staff().id)
    if not results:
        return _form(_("The file has no rows to import."), 422)
    return render_template("admin/shipping/import_result.html", results=results, counts=summary(results),
                           filename=upload.filename[:100])
