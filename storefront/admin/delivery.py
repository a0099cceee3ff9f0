"""Back office: delivery settings (owners) — delivery methods, pickup locations, the shipping
fee, per-province surcharges and provinces not served, completion and after-sales days.
Validation lives in ``siyu.core.shipping_fees``; this page turns the form into its values
and back. (The carrier list has its own page: ``admin/carriers.py``.)

Amounts are typed in major units (``12.50``) and stored in minor units.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from siyu.core import regions
from siyu.core.errors import SiyuError, ValidationError
from siyu.core.fulfilment_settings import fulfilment_settings
from siyu.core.money import parse_major, to_decimal
from siyu.core.shipping_fees import MAX_LOCATIONS, update_delivery_settings
from siyu.storefront.admin import staff_required
from siyu.storefront.admin.common import require_csrf
from siyu.storefront.context import db, shop_settings

bp = Blueprint("admin_delivery", __name__, url_prefix="/admin/delivery")
TITLE = _l("Delivery")
SPARE_ROWS = 2
FIELD_MAX = 400


def _currency() -> str:
    return shop_settings().get("currency") or "CNY"


def _major(amount) -> str:
    return "" if amount in (None, "") else str(to_decimal(int(amount), _currency()))


def _minor(name: str, errors: dict):
    text = request.form.get(name, "").strip()[:30]
    if not text:
        return 0
    try:
        return parse_major(text, _currency(), field=name)
    except ValidationError as exc:
        errors[name] = str(exc.message)
        return None


def _locations() -> list[dict]:
    """Pickup locations posted as ``name_<n>``, ``address_<n>``, ``hours_<n>``; blank rows dropped."""
    rows = []
    for index in range(MAX_LOCATIONS + SPARE_ROWS + 1):
        row = {k: request.form.get(f"{k}_{index}", "")[:FIELD_MAX] for k in ("name", "address", "hours")}
        if any(v.strip() for v in row.values()):
            rows.append(row)
    return rows


def _values_from_form(errors: dict) -> dict:
    surcharges, unserved = {}, []
    for province in regions.divisions().provinces:
        amount = _minor(f"surcharge_{province.code}", errors)
        if amount:
            surcharges[province.code] = amount
        if request.form.get(f"unserved_{province.code}"):
            unserved.append(province.code)
    values = {
        "express_enabled": bool(request.form.get("express_enabled")),
        "pickup_enabled": bool(request.form.get("pickup_enabled")),
        "shipping_fee": _minor("shipping_fee", errors), "free_shipping_over": _minor("free_shipping_over", errors),
        "auto_complete_days": request.form.get("auto_complete_days", "")[:6],
        "after_sale_days": request.form.get("after_sale_days", "")[:6],
        "province_surcharges": surcharges, "unserved_provinces": unserved,
        "pickup_locations": _locations(),
    }
    return values


@bp.route("", methods=["GET", "POST"])
@staff_required("owner")
def index():
    values, errors, status = fulfilment_settings(db()), {}, 200
    if request.method == "POST":
        require_csrf()
        posted = _values_from_form(errors)
        try:
            if errors:
                raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
            update_delivery_settings(db(), posted)
        except SiyuError as exc:
            flash(str(exc.message), "error")
            errors = {**errors, **{k: str(v) for k, v in exc.fields.items()}}
            values.update({k: v for k, v in posted.items() if v is not None})
            status = 422
        else:
            flash(_("Delivery settings saved."), "success")
            return redirect(url_for("admin_delivery.index"))
    locations = list(values.get("pickup_locations") or []) + [{}] * SPARE_ROWS
    return render_template("admin/delivery.html", form=FlaskForm(), values=values, errors=errors, locations=locations,
                           provinces=regions.divisions().provinces, major=_major, currency=_currency()), status
