"""Staff sign-in and sign-out (rate limited)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from siyu.core.staff import authenticate_staff
from siyu.storefront.admin import current_staff, sign_in, sign_out
from siyu.storefront.context import db
from siyu.storefront.extensions import limiter

bp = Blueprint("admin", __name__, url_prefix="/admin")


class StaffLoginForm(FlaskForm):
    email = EmailField(validators=[InputRequired(), Length(max=254)])
    password = PasswordField(validators=[InputRequired(), Length(max=200)])


def _next() -> str:
    target = request.args.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/admin") and not parts.netloc and not parts.scheme:
        return target
    return url_for("admin.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("5/minute", methods=["POST"])
def login():
    if current_staff() is not None and request.method == "GET":
        return redirect(url_for("admin.dashboard"))
    form = StaffLoginForm()
    status = 200
    if request.method == "POST":
        staff = authenticate_staff(db(), form.email.data or "", form.password.data or "") \
            if form.validate() else None
        if staff is not None:
            return sign_in(make_response(redirect(_next())), staff)
        flash(_("Email or password is not correct."), "error")
        status = 401
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
def logout():
    if not FlaskForm().validate():
        flash(_("This form has expired. Please try again."), "error")
        return redirect(url_for("admin.dashboard"))
    return sign_out(make_response(redirect(url_for("admin.login"))))
