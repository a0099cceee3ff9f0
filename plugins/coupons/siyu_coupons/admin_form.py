"""The back-office form for a coupon: amounts in major units, dates as shop-local days.

A start date means from that day's local midnight; an end date means to the end of that day.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from siyu.plugin import parse_decimal, parse_major, to_decimal, ValidationError
from siyu_coupons.pricing import shop_zone

KIND_LABELS = {"fixed": _l("Fixed amount off"), "percent": _l("Percentage off"),
               "threshold": _l("Spend X, save Y (满减)")}
SCOPE_LABELS = {"all": _l("All products"), "products": _l("Chosen products")}
MONEY = ("amount", "max_discount", "min_spend")


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=100)])
    code = StringField(_l("Code (blank: generated)"), validators=[Length(max=32)])
    description = TextAreaField(_l("Description"), validators=[Length(max=500)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    amount = StringField(_l("Amount off, or Y saved"), validators=[Length(max=16)])
    percent = StringField(_l("Percent off (e.g. 15 or 8.5)"), validators=[Length(max=8)])
    max_discount = StringField(_l("At most off (optional)"), validators=[Length(max=16)])
    min_spend = StringField(_l("Minimum spend, or X to spend"), validators=[Length(max=16)])
    repeat = BooleanField(_l("For every X spent (每满X减Y)"))
    valid_from = DateField(_l("Valid from (optional)"), validators=[Optional()])
    valid_until = DateField(_l("Valid until (optional)"), validators=[Optional()])
    valid_days = IntegerField(_l("Valid for N days after claiming (optional)"), validators=[Optional()])
    quantity = IntegerField(_l("Total quantity (blank: no limit)"), validators=[Optional()])
    per_member_limit = IntegerField(_l("Per member"), default=1, validators=[Optional()])
    scope = SelectField(_l("Applies to"), choices=[SelectChoice(k, v) for k, v in SCOPE_LABELS.items()])
    product_ids = SelectMultipleField(_l("Products"), coerce=int)
    with_member_price = BooleanField(_l("Combinable with member prices"), default=True)
    active = BooleanField(_l("Active (can be claimed)"), default=True)


def _money(form: TemplateForm, name: str, currency: str, errors: dict) -> int | None:
    text = (form[name].data or "").strip()
    if not text:
        return None
    try:
        return parse_major(text, currency)
    except (ValueError, InvalidOperation):
        errors[name] = _l("Enter an amount such as 10 or 9.90.")
        return None


def _percent_bp(text: str | None, errors: dict) -> int:
    text = (text or "").strip()
    if not text:
        return 0
    try:
        return parse_decimal(text, 2, "percent")  # hundredths of a percent: basis points
    except ValueError:
        errors["percent"] = _l("Enter a percentage with at most two decimals.")
        return 0


def form_data(form: TemplateForm, currency: str, session: Session) -> dict:
    """The service's values from the form; unreadable amounts raise ``ValidationError``."""
    errors: dict = {}
    zone = shop_zone(session)
    data = {name: _money(form, name, currency, errors) for name in MONEY}
    data.update(
        name=form.name.data, code=form.code.data, description=form.description.data, kind=form.kind.data,
        currency=currency, percent_bp=_percent_bp(form.percent.data, errors), repeat=bool(form.repeat.data),
        valid_from=datetime.combine(form.valid_from.data, time(), zone) if form.valid_from.data else None,
        valid_until=datetime.combine(form.valid_until.data + timedelta(days=1), time(), zone)
        if form.valid_until.data else None,
        valid_days=form.valid_days.data, quantity=form.quantity.data,
        per_member_limit=form.per_member_limit.data or 1, scope=form.scope.data,
        product_ids=list(form.product_ids.data or ()), with_member_price=bool(form.with_member_price.data),
        active=bool(form.active.data))
    data["min_spend"] = data["min_spend"] or 0
    if errors:
        raise ValidationError(_l("Please correct the marked fields."), fields=errors)
    return data


def prefill(form: TemplateForm, template, product_ids: list[int], session: Session) -> None:
    if template is None:
        return
    zone = shop_zone(session)
    for name in ("name", "code", "description", "kind", "repeat", "valid_days", "quantity", "per_member_limit",
                 "scope", "with_member_price", "active"):
        form[name].data = getattr(template, name)
    for name in MONEY:
        value = getattr(template, name)
        form[name].data = str(to_decimal(value, template.currency)) if value else ""
    form.percent.data = str(Decimal(template.percent_bp) / 100).rstrip("0").rstrip(".") if template.percent_bp else ""
    form.valid_from.data = template.valid_from.astimezone(zone).date() if template.valid_from else None
    form.valid_until.data = (template.valid_until.astimezone(zone) - timedelta(microseconds=1)).date() \
        if template.valid_until else None
    form.product_ids.data = product_ids
