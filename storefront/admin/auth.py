"""Staff sign-in (rate limited, with a per-account lock), sign-out and password change."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from siyu.core.errors import SiyuError
from siyu.core.signin import AccountLocked
from siyu.core.staff import MIN_STAFF_PASSWORD, authenticate_staff, change_password
from siyu.storefront.admin import current_staff, sign_in, sign_out, staff_required
from siyu.storefront.admin.common import show_error
from siyu.storefront.context import db, kernel
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
    headers = {}
    if request.method == "POST":
        try:
            staff = authenticate_staff(kernel(), db(), form.email.data or "", form.password.data or "") \
                if form.validate() else None
        except AccountLocked as exc:
            # Locked after repeated wrong passwords: refused whatever the password was.
            flash(str(exc.message), "error")
            status, headers = 429, {"Retry-After": str(exc.retry_after)}
        else:
            if staff is not None:
                return sign_in(make_response(redirect(_next())), staff)
            flash(_("Email or password is not correct."), "error")
            status = 401
    return render_template("admin/login.html", form=form), status, headers


@bp.post("/logout")
def logout():
    if not FlaskForm().validate():
        flash(_("This form has expired. Please try again."), "error")
        return redirect(url_for("admin.dashboard"))
    return sign_out(make_response(redirect(url_for("admin.login"))))


class StaffPasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired(), Length(max=200)])
    new_password = PasswordField(_l("New password (at least %(n)d characters)", n=MIN_STAFF_PASSWORD),
                                 validators=[InputRequired(), Length(max=200)])


@bp.route("/password", methods=["GET", "POST"])
@staff_required("agent")
@limiter.limit("5/minute", methods=["POST"])
def password():
    """A staff member changes their own password; their other back-office sessions end."""
    form = StaffPasswordForm()
    status = 200
    headers = {}
    if request.method == "POST":
        if form.validate():
            try:
                staff = change_password(kernel(), db(), current_staff(), form.current_password.data,
                                        form.new_password.data)
            except AccountLocked as exc:
                flash(str(exc.message), "error")
                status, headers = 429, {"Retry-After": str(exc.retry_after)}
            except SiyuError as exc:
                show_error(exc, form)
                status = 422
            else:
                flash(_("Your password was changed. You were signed out everywhere else."), "success")
                return sign_in(make_response(redirect(url_for("admin.dashboard"))), staff)
        else:
            status = 422
    return render_template("admin/password.html", form=form), status, headers
