"""Hostile input stops at the door, for the core's routes and every plugin's alike.

- ``<int:…>`` in any route matches 1 to 2**31-1 only (an id column's range, PostgreSQL's
  ``integer``): a larger or a 5,000-digit number is a 404 before the view runs.
- ``request.args.get(name, type=int)`` (and ``request.form``) gives the default for a number
  outside the 32-bit range, as it does for text that is not a number.
- One input guard refuses a NUL byte or an unpaired surrogate in the path (404), a query or
  form parameter (names and values), an upload's file name or a JSON body's strings (422,
  naming the field).
- JSON bodies: at most ``MAX_JSON_BYTES``, nested at most ``MAX_JSON_DEPTH`` levels, finite
  numbers only, an object at the top; anything else is a 400 (a deep body no longer reaches
  the parser's recursion limit, which ``get_json(silent=True)`` does not catch).
- A Flask-WTF form posted as JSON reads the members as text fields, as a browser would send
  them; nested objects are refused.
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter as WerkzeugIntegerConverter
from werkzeug.routing import ValidationError as NoMatch

from siyu.core.errors import NotFound, SiyuError, ValidationError
from siyu.core.validation import MAX_ID, MIN_INT, UNSTORABLE_TEXT, is_storable, to_int

MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

UNSTORABLE = _l("Some fields hold characters that cannot be stored (a NUL byte or an unpaired "
                "surrogate). Please remove them and try again.")
NOT_STORABLE = _l("Remove the NUL bytes or unpaired surrogates.")
BAD_JSON = _l("Send a JSON object of at most 1 MB, nested at most 32 levels deep, with finite numbers.")


class IntegerConverter(WerkzeugIntegerConverter):
    """Flask's ``int`` converter bounded to an id column: 1 to 2**31-1 (signed: from -2**31)
    unless the rule says otherwise (``<int(min=0):n>``); more than 10 digits never reach
    ``int()``. Keeps werkzeug's class name, which route-walking tests look for."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits, (MIN_INT if signed else 1) if min is None else min,
                         MAX_ID if max is None else max, signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-")) > 10:
            raise NoMatch()
        return super().to_python(value)


def _int32(text: str) -> int:
    number = to_int(text)
    if number is None:
        raise ValueError(text)
    return number


class Params(ImmutableMultiDict):
    """Query and form parameters whose ``get(…, type=int)`` stays within 32 bits."""

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        return super().get(key, default, _int32 if type is int else type)


class BoundedRequest(Request):
    parameter_storage_class = Params

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:  # not JSON at all: werkzeug's 415
            return super().on_json_loading_failed(e)
        raise SiyuError(BAD_JSON, fields={"json": str(e)[:200]})


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large")
    return value


def _depth_over(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


class BoundedJSON(DefaultJSONProvider):
    """``request.get_json()`` for the whole app: size, depth and finite numbers bounded."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if len(s) > MAX_JSON_BYTES:
            raise ValueError("larger than 1 MB")
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite)
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
        if _depth_over(value, MAX_JSON_DEPTH):
            raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
        return value


def _unstorable(value: Any) -> bool:
    """True when ``value`` (text, or JSON's lists and objects of it) holds unstorable text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not is_storable(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def refuse_hostile_input() -> None:
    """Before every request: the path, parameters and JSON body must be storable text.

    A bad path is a 404 (no page has it); a bad parameter a 422 naming it, like any field
    that fails validation; a JSON body that cannot be read a 400.
    """
    if not is_storable(request.path):
        raise NotFound(_l("We could not find that page."))
    pairs = list(request.args.items(multi=True))
    if request.mimetype in FORM_TYPES:
        pairs += request.form.items(multi=True)
        pairs += ((name, upload.filename or "") for name, upload in request.files.items(multi=True))
    if request.is_json and request.content_length != 0 and request.get_data(cache=True):
        body = request.get_json()  # BoundedJSON: a malformed, huge or deep body is refused here
        if not isinstance(body, dict):
            raise SiyuError(BAD_JSON, fields={"json": _l("Send a JSON object.")})
        pairs += body.items()
    bad = [name for name, value in pairs if _unstorable(name) or _unstorable(value)]
    if bad:
        raise ValidationError(UNSTORABLE, fields={UNSTORABLE_TEXT.sub("?", name): NOT_STORABLE for name in bad})


def _json_as_form(data: dict) -> ImmutableMultiDict:
    items = []
    for key, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                items.append((key, "true" if item else "false"))
            elif isinstance(item, (str, int, float)):
                items.append((key, str(item)))
            elif item is not None:
                raise SiyuError(BAD_JSON, fields={key: _l("Send text, a number or a list of them.")})
    return ImmutableMultiDict(items)


def _read_json_forms_as_text() -> None:
    """Flask-WTF feeds a JSON body's values to a form as they are (a dict to a text field…):
    give forms text, as a browser would. Installed once per process; idempotent."""
    meta = FlaskForm.Meta
    if getattr(meta.wrap_formdata, "_siyu", False):
        return
    original = meta.wrap_formdata

    def wrap_formdata(self, form, formdata):
        if formdata is _Auto and request and request.method in ("POST", "PUT", "PATCH", "DELETE") \
                and not request.files and not request.form and request.is_json:
            body = request.get_json()
            return _json_as_form(body) if isinstance(body, dict) else None
        return original(self, form, formdata)

    wrap_formdata._siyu = True
    meta.wrap_formdata = wrap_formdata


def init_app(app: Flask) -> None:
    """Install the bounds; call before any blueprint is registered (the converter)."""
    app.url_map.converters["int"] = IntegerConverter
    app.request_class = BoundedRequest
    app.json = BoundedJSON(app)
    app.before_request(refuse_hostile_input)
    _read_json_forms_as_text()
