"""The plugin's settings, declared through ``register_settings_schemas`` and stored in the core
``settings`` table under ``curation``."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, settings as core_settings
from siyu_curation.models import HARD_CEILING

NAME = "curation"


class CurationSettings(Schema):
    main_cap = fields.Integer(
        load_default=30, validate=validate.Range(1, HARD_CEILING),
        metadata={"label": _l("Items in the main catalog, at most"),
                  "help": _l("A short list helps shoppers decide. 30 is the usual cap; 50 is the ceiling.")})
    max_featured = fields.Integer(
        load_default=3, validate=validate.Range(0, 6),
        metadata={"label": _l("Hero items, at most"),
                  "help": _l("Featured items shown large at the top of the home page.")})
    velocity_days = fields.Integer(
        load_default=30, validate=validate.Range(7, 365),
        metadata={"label": _l("Days of sales for rotation advice"),
                  "help": _l("Sales velocity is units sold per day over this many days.")})
    suggestions = fields.Integer(
        load_default=5, validate=validate.Range(1, 20),
        metadata={"label": _l("Swap suggestions shown"), "help": ""})


def load(session: Session) -> dict[str, Any]:
    """Stored values over the schema's defaults; a stored value that no longer validates
    falls back to its default rather than breaking the shop."""
    schema = CurationSettings()
    values = schema.load({})
    for key, value in core_settings.get_all(session, NAME).items():
        if key in schema.fields and not schema.validate({key: value}):
            values[key] = value
    return values
