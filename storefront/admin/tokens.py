"""Back office: a staff member's own REST API tokens (shown once, stored hashed)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from siyu.core.api_tokens import create_token, revoke_token
from siyu.core.errors import SiyuError
from siyu.core.models import ApiToken
from siyu.core.staff import may
from siyu.storefront.admin import current_staff, staff_required
from siyu.storefront.admin.common import MAX_ID, require_csrf, show_error
from siyu.storefront.context import db

bp = Blueprint("admin_tokens", __name__, url_prefix="/admin/tokens")
TITLE = _l("API tokens")


class TokenForm(FlaskForm):
    name = StringField(_l("What is it for?"), validators=[InputRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[SelectChoice("agent", _l("Agent")), SelectChoice("owner", _l("Owner"))])


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    staff = current_staff()
    if not may(staff, "owner"):
        form.role.choices = [SelectChoice("agent", _("Agent"))]
    tokens = db().scalars(select(ApiToken).where(ApiToken.staff_id == staff.id)
                          .order_by(ApiToken.id.desc()).limit(100)).all()
    return render_template("admin/tokens.html", form=form, tokens=tokens, secret=secret), status


@bp.route("", methods=["GET", "POST"])
@staff_required("agent")
def index():
    form = TokenForm()
    if request.method == "POST":
        if not form.validate():
            return _page(form, status=422)
        try:
            _token, secret = create_token(db(), current_staff(), form.name.data, form.role.data)
        except SiyuError as exc:
            show_error(exc, form)
            return _page(form, status=422)
        # The secret is rendered once, in this response only; it is never stored or flashed.
        return _page(TokenForm(formdata=None), secret=secret)
    return _page(form)


@bp.post("/<int:token_id>/revoke")
@staff_required("agent")
def revoke(token_id: int):
    require_csrf()
    if not 0 < token_id <= MAX_ID:
        abort(404)
    try:
        revoke_token(db(), current_staff(), token_id)
    except SiyuError as exc:
        if exc.status == 404:
            abort(404)
        show_error(exc)
    else:
        flash(_("Token revoked."), "success")
    return redirect(url_for("admin_tokens.index"))
