"""Back office: staff accounts — list, add owners and agents, deactivate, unlock sign-in (owners)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from siyu.core import signin
from siyu.core.errors import SiyuError
from siyu.core.models import SignInFailure, StaffUser
from siyu.core.staff import MIN_STAFF_PASSWORD, create_staff, set_active
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.admin.common import MAX_ID, get_or_404, paginate, require_csrf, show_error
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
    keys = {signin.email_key(s.email): s.id for s in result.items}
    rows = db().scalars(select(SignInFailure).where(SignInFailure.realm == "staff",
                                                    SignInFailure.email_hash.in_(keys))).all() if keys else []
    #: staff id -> (wrong passwords since the last sign-in, locked until or None)
    failures = {keys[r.email_hash]: (r.failures, signin.locked_until(r)) for r in rows}
    return render_template("admin/staff.html", form=form, result=result, me=current_staff(),
                           failures=failures), status


@bp.post("/<int:staff_id>/unlock")
@staff_required("owner")
def unlock(staff_id: int):
    """Lift a staff member's sign-in lock (after repeated wrong passwords)."""
    require_csrf()
    staff = get_or_404(StaffUser, staff_id)
    signin.clear(db(), "staff", staff.email)
    flash(_("%(email)s can sign in again.", email=staff.email), "success")
    return redirect(url_for("admin_staff.index"))


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
