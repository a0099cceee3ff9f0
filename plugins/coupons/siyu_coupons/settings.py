"""The plugin's settings, declared through ``register_settings_schemas`` and stored in the core
``settings`` table under ``coupons``."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, settings as core_settings

NAME = "coupons"


class CouponSettings(Schema):
    restore_on_refund = fields.Boolean(load_default=True, metadata={
        "label": _l("Give the coupon back after a full refund"),
        "help": _l("Only while the coupon is still valid; a partial refund keeps it used.")})
    welcome_template = fields.String(load_default="", validate=validate.Length(max=32), metadata={
        "label": _l("Welcome gift (coupon code)"),
        "help": _l("Every new member receives this coupon; leave blank for none.")})


def load(session: Session) -> dict[str, Any]:
    """Stored values over the defaults; a stored value that no longer validates falls back."""
    schema = CouponSettings()
    values = schema.load({})
    for key, value in core_settings.get_all(session, NAME).items():
        if key in schema.fields and not schema.validate({key: value}):
            values[key] = value
    return values
