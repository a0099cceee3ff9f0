"""Back office: staff accounts — list, add owners and agents, deactivate (owners)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from siyu.core.errors import SiyuError
from siyu.core.models import StaffUser
from siyu.core.staff import MIN_STAFF_PASSWORD, create_staff, set_active
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.admin.common import MAX_ID, paginate, require_csrf, show_error
from siyu.storefront.context import db

bp = Blueprint("admin_staff", __name__, url_prefix="/admin/staff")
TITLE = _l("Staff")


class StaffForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    name = StringField(_l("Name"), validators=[Length(max=100)])
    role = SelectField(_l("Role"), choices=[SelectChoice("agent", _l("Agent")), SelectChoice("owner", _l("Owner"))])
    password = PasswordField(_l("Password (at least %(n)d characters)", n=MIN_STAFF_PASSWORD),
                             validators=[InputRequired(), Length(max=200)])


@bp.route("", methods=["GET", "POST"])
@staff_required("owner")
def index():
    form = StaffForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                create_staff(db(), email=form.email.data, password=form.password.data,
                             role=form.role.data, name=form.name.data or "")
            except SiyuError as exc:
                show_error(exc, form)
                status = 422
            else:
                flash(_("Staff account created. Share the password in person; it is not shown again."), "success")
                return redirect(url_for("admin_staff.index"))
        else:
            status = 422
    result = paginate(select(StaffUser).order_by(StaffUser.id))
    return render_template("admin/staff.html", form=form, result=result, me=current_staff()), status


@bp.post("/<int:staff_id>/active")
@staff_required("owner")
def toggle_active(staff_id: int):
    require_csrf()
    if not 0 < staff_id <= MAX_ID:
        abort(404)
    try:
        member = set_active(db(), current_staff(), staff_id, request.form.get("active") == "1")
    except SiyuError as exc:
        if exc.status == 404:
            abort(404)
        show_error(exc)
    else:
        flash(_("%(email)s can sign in again.", email=member.email) if member.active
              else _("%(email)s can no longer sign in; their API tokens stopped working.", email=member.email),
              "success")
    return redirect(url_for("admin_staff.index"))
