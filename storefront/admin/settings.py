"""Back office: the shop's settings (owners)."""
from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, StopValidation

from siyu.core import jobs, schedules
from siyu.core.errors import SiyuError
from siyu.core.money import SUPPORTED_CURRENCIES
from siyu.core.reservations import ORDERS_KEY, RANGES, UNITS_KEY
from siyu.core.shop_settings import update_shop_settings
from siyu.storefront.admin import staff_required
from siyu.storefront.admin.common import show_error
from siyu.storefront.context import db, invalidate_settings, kernel, shop_settings

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings")
TITLE = _l("Settings")
log = logging.getLogger("siyu.jobs")


def _unchanged_when_absent(_form, field):
    """A form that does not send a cap (an older page) keeps the shop's current value."""
    if not field.raw_data:
        raise StopValidation()


def _cap_field(key, label, help_text):
    low, high = RANGES[key]
    return IntegerField(label, description=help_text,
                        validators=[_unchanged_when_absent, NumberRange(min=low, max=high)])


class ShopSettingsForm(FlaskForm):
    shop_name = StringField(_l("Shop name"), validators=[InputRequired(), Length(max=100)])
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c, c) for c in SUPPORTED_CURRENCIES])
    timezone = StringField(_l("Time zone"), validators=[InputRequired(), Length(max=64)])
    default_locale = SelectField(_l("Default language"), choices=[SelectChoice("zh_CN", "中文"), SelectChoice("en", "English")])
    unpaid_orders_cap = _cap_field(ORDERS_KEY, _l("Unpaid orders per shopper"), _l(
        "How many unpaid orders one member, and one browser, may have at a time (%(min)d to %(max)d). "
        "Each holds its stock until it is paid, cancelled or expires.", min=RANGES[ORDERS_KEY][0],
        max=RANGES[ORDERS_KEY][1]))
    unpaid_units_cap = _cap_field(UNITS_KEY, _l("Items in unpaid orders per shopper"), _l(
        "How many items in all one member, and one browser, may hold in unpaid orders at a time "
        "(%(min)d to %(max)d).", min=RANGES[UNITS_KEY][0], max=RANGES[UNITS_KEY][1]))


@bp.route("", methods=["GET", "POST"])
@staff_required("owner")
def index():
    form = ShopSettingsForm(data=shop_settings() if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                update_shop_settings(db(), form.data)
            except SiyuError as exc:
                show_error(exc, form)
                status = 422
            else:
                invalidate_settings()
                flash(_("Settings saved."), "success")
                return redirect(url_for("admin_settings.index"))
        else:
            status = 422
    return render_template("admin/settings.html", form=form, scheduled=_scheduled()), status


def _scheduled():
    """The scheduled jobs' last run, last error and next slot; None when they cannot be read
    (the settings must stay editable then)."""
    try:
        rows = schedules.status(db(), jobs.scheduled(kernel()))
    except Exception:  # noqa: BLE001 - e.g. a QUEUE_URL the worker rejects too: logged, page still shown
        log.exception("the scheduled jobs' status could not be read")
        return None
    return {"rows": rows, "idle": schedules.worker_idle(rows)}
