"""The member's address book under /account/addresses: list, add, edit, delete, default.

Province, city and district are three selects. Without JS, "Update choices" re-renders the
form with the next level's options (nothing is saved); ``addresses.js`` fills them from
``/account/addresses/regions/<code>.json`` as the shopper picks.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from siyu.core import addresses, regions
from siyu.core.errors import ValidationError
from siyu.storefront.context import db

bp = Blueprint("addresses", __name__, url_prefix="/account/addresses")


def _next(default: str) -> str:
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme:
        return target
    return default


def _choices(values: dict) -> dict:
    province = regions.province(values.get("province_code") or "")
    city = regions.child(province, values.get("city_code") or "")
    return {"provinces": regions.divisions().provinces, "cities": province.children if province else (),
            "districts": city.children if city else ()}


def _form_page(values: dict, errors: dict, address=None, status: int = 200):
    return render_template("account/address_form.html", values=values, errors=errors, address=address,
                           form=FlaskForm(), next=_next(""), **_choices(values)), status


def _posted() -> dict:
    return {k: request.form.get(k, "")[:400] for k in addresses.FIELDS}


def _save(address_id=None):
    if not FlaskForm().validate():
        abort(400)
    values = _posted()
    existing = addresses.get_address(db(), current_user, address_id) if address_id is not None else None
    if request.form.get("action") == "refresh":  # no JS: show the next level's choices
        return _form_page(values, {}, existing)
    make_default = bool(request.form.get("is_default"))
    try:
        if existing is None:
            addresses.add_address(db(), current_user, values, make_default=make_default)
        else:
            addresses.update_address(db(), current_user, existing.id, values, make_default=make_default)
    except ValidationError as exc:
        flash(str(exc.message), "error")
        return _form_page(values, {k: str(v) for k, v in exc.fields.items()}, existing, 422)
    flash(_("Address saved."), "success")
    return redirect(_next(url_for("addresses.index")))


@bp.get("")
@login_required
def index():
    return render_template("account/addresses.html", addresses=addresses.list_addresses(db(), current_user),
                           form=FlaskForm(), display_phone=addresses.display_phone)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if request.method == "POST":
        return _save()
    return _form_page({k: request.args.get(k, "")[:12] for k in ("province_code", "city_code")}, {})


@bp.route("/<int:address_id>/edit", methods=["GET", "POST"])
@login_required
def edit(address_id: int):
    if request.method == "POST":
        return _save(address_id)
    address = addresses.get_address(db(), current_user, address_id)
    values = {k: getattr(address, k) for k in addresses.FIELDS}
    values["phone"] = addresses.display_phone(address.phone)
    return _form_page(values, {}, address)


@bp.post("/<int:address_id>/delete")
@login_required
def delete(address_id: int):
    if not FlaskForm().validate():
        abort(400)
    addresses.delete_address(db(), current_user, address_id)
    flash(_("Address deleted."), "success")
    return redirect(url_for("addresses.index"))


@bp.post("/<int:address_id>/default")
@login_required
def make_default(address_id: int):
    if not FlaskForm().validate():
        abort(400)
    addresses.set_default(db(), current_user, address_id)
    flash(_("Default address changed."), "success")
    return redirect(url_for("addresses.index"))


@bp.get("/regions/<province_code>.json")
@bp.get("/regions/<province_code>/<city_code>.json")
def region_children(province_code: str, city_code: str | None = None):
    """The cities of a province, or the districts of one of its cities, for the selects.
    (A city may share its province's code: Hong Kong has no city level.)"""
    region = regions.province(province_code)
    if city_code is not None:
        region = regions.child(region, city_code)
    if region is None:
        return jsonify(error="unknown region"), 404
    response = jsonify([[r.code, r.name] for r in region.children])
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response
