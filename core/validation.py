"""Limits every entry point shares: ids, whole numbers, storable text, names.

The web layer applies them at the door (URL converters, the input guard, forms and schemas);
services apply them again where a value is stored, so the CLI, jobs and plugins get the same
answers. Each check is written once here.
"""
from __future__ import annotations

import re

from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l

#: Ids are 32-bit integer columns on PostgreSQL.
MAX_ID = 2**31 - 1
MIN_INT = -(2**31)

#: Text neither PostgreSQL nor UTF-8 can store: NUL bytes and unpaired surrogates.
UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
#: Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): in a name
#: they make the back office show text in an order other than the one typed ("spoofing").
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_WHOLE = re.compile(r"[+-]?[0-9]{1,10}")


def is_storable(text: str) -> bool:
    """True unless ``text`` holds a NUL byte or an unpaired surrogate."""
    return UNSTORABLE_TEXT.search(text) is None


def is_id(value: object) -> bool:
    """True for an ``int`` (not a bool) that an id column can hold: 1 to 2**31-1."""
    return type(value) is int and 0 < value <= MAX_ID


def to_int(value: object, low: int = MIN_INT, high: int = MAX_ID) -> int | None:
    """A whole number from form or query text (or a JSON int) within ``low..high``, else None.

    ASCII digits with an optional sign, matched before converting, so 5,000 digits cost nothing.
    """
    if type(value) is int:
        number = value
    elif isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None


def name_problem(value: str):
    """Why ``value`` cannot be a name (a member's, staff's, product's, a plugin's tag…), or None."""
    if not is_storable(value):
        return _l("Use letters, digits and punctuation only.")
    if _BIDI_CONTROLS.search(value):
        return _l("Remove the text-direction control characters.")
    return None


def check_name(value: str, field: str = "name") -> str:
    """``value`` when it can be a name; otherwise a ValidationError naming ``field``."""
    problem = name_problem(value or "")
    if problem:
        raise ValidationError(problem, fields={field: problem})  # views that only flash show it too
    return value
