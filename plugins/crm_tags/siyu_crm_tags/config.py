"""The plugin's settings: a marshmallow schema the back office renders, read with defaults."""
from __future__ import annotations

import re
from dataclasses import dataclass

import marshmallow
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, settings

NAME = "crm_tags"
THRESHOLDS = re.compile(r"^\s*\d+(\s*,\s*\d+){0,8}\s*$")


def _ascending(text: str) -> None:
    if not THRESHOLDS.match(text or ""):
        raise marshmallow.ValidationError(str(_l("Give increasing whole numbers separated by commas.")))
    values = [int(v) for v in text.split(",")]
    if values != sorted(set(values)):
        raise marshmallow.ValidationError(str(_l("Give increasing whole numbers separated by commas.")))


class CrmSettings(marshmallow.Schema):
    earn_points_per_unit = fields.Integer(load_default=1, validate=validate.Range(0, 1000), metadata={
        "label": _l("Points earned per yuan paid"),
        "help": _l("Earned when the order is completed; 0 turns earning off.")})
    redeem_points_per_unit = fields.Integer(load_default=100, validate=validate.Range(1, 100000), metadata={
        "label": _l("Points worth one yuan at checkout")})
    redeem_max_percent = fields.Integer(load_default=50, validate=validate.Range(0, 100), metadata={
        "label": _l("Largest share of an order payable with points (%)")})
    expiry_months = fields.Integer(load_default=12, validate=validate.Range(0, 120), metadata={
        "label": _l("Points expire after (months)"), "help": _l("0: points never expire.")})
    level_basis = fields.String(load_default="spend", validate=validate.OneOf(["spend", "points"]), metadata={
        "label": _l("Levels are reached by"), "help": _l("spend or points, on completed orders")})
    dormant_days = fields.Integer(load_default=90, validate=validate.Range(1, 3650), metadata={
        "label": _l("A member is dormant after this many days without an order")})
    recency_days = fields.String(load_default="30,60,120,240", validate=_ascending, metadata={
        "label": _l("Recency bands: days since the last order"),
        "help": _l("Four increasing numbers: within the first is band 5, beyond the last band 1.")})
    frequency_orders = fields.String(load_default="1,2,3,5,10", validate=_ascending, metadata={
        "label": _l("Frequency bands: orders needed for bands 1 to 5")})
    monetary_spend = fields.String(load_default="1,20000,50000,100000,300000", validate=_ascending, metadata={
        "label": _l("Monetary bands: spend (minor units) needed for bands 1 to 5")})


@dataclass(frozen=True)
class Config:
    earn_points_per_unit: int
    redeem_points_per_unit: int
    redeem_max_percent: int
    expiry_months: int
    level_basis: str
    dormant_days: int
    recency_days: tuple[int, ...]
    frequency_orders: tuple[int, ...]
    monetary_spend: tuple[int, ...]


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in str(text).split(","))


# Built once: a schema instance copies its fields, and every hook of an order loads the settings.
_SCHEMA = CrmSettings()
_DEFAULTS = _SCHEMA.load({})


def _config(values: dict) -> Config:
    for key in ("recency_days", "frequency_orders", "monetary_spend"):
        values[key] = _ints(values[key])
    return Config(**values)


def load(session: Session) -> Config:
    """Stored values over the defaults; a stored value that no longer validates is ignored."""
    stored = {k: v for k, v in settings.get_all(session, NAME).items() if k in _SCHEMA.fields}
    try:
        return _config(_SCHEMA.load(stored))
    except marshmallow.ValidationError:
        pass  # one bad value: take the others one by one
    values = dict(_DEFAULTS)
    for key, value in stored.items():
        try:
            values.update(_SCHEMA.load({**values, key: value}, partial=True))
        except marshmallow.ValidationError:
            pass
    return _config(values)


def default() -> Config:
    return _config(dict(_DEFAULTS))
