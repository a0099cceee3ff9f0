"""The plugin's settings: the back office builds its form from this schema and stores the
values in the core ``settings`` table under the plugin's name."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from siyu.plugin import lazy_gettext as _l, settings as core_settings
from siyu_gift_message.models import MAX_LENGTH

NAME = "gift_message"


class GiftMessageSettings(Schema):
    max_length = fields.Integer(
        load_default=140, validate=validate.Range(10, MAX_LENGTH),
        metadata={"label": _l("Longest gift message"), "help": _l("Characters; a card holds about 140.")})


def load(session: Session) -> dict[str, Any]:
    """Stored values over the schema's defaults (unknown keys are ignored)."""
    values = GiftMessageSettings().load({})
    stored = core_settings.get_all(session, NAME)
    values.update({key: stored[key] for key in values if key in stored})
    return values
