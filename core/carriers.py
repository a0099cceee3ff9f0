"""The shop's carriers: the list staff ship with (code, Chinese and English names, a
tracking page template), validated when the owner edits it, and found by code or by either
name when a shipping file is imported (people type "顺丰" or "SF Express", not ``sf``).
"""
from __future__ import annotations

import re
from typing import Any, Iterable
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from siyu.core import settings
from siyu.core.addresses import clean_text
from siyu.core.db import write_transaction
from siyu.core.errors import ValidationError
from siyu.core.fulfilment_settings import NAMESPACE, fulfilment_settings
from siyu.core.i18n import lazy_gettext as _l

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_CARRIERS = 30
NAME_MAX = 50
URL_MAX = 300
#: Carrier codes the system gives a meaning of its own.
RESERVED = ("pickup",)


def validate_carriers(rows: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Clean carriers; rows whose every field is blank are dropped (the form's spare rows).
    ``ValidationError`` with one message per bad field, named ``carriers-<n>-<field>``."""
    clean, errors, seen = [], {}, set()
    for index, row in enumerate(rows):
        values = {k: clean_text(row.get(k)) for k in ("code", "name_zh", "name_en", "tracking_url")}
        if not any(values.values()):
            continue
        values["code"] = values["code"].lower()
        prefix = f"carriers-{index}-"
        if not CODE.match(values["code"]) or values["code"] in RESERVED:
            errors[prefix + "code"] = _l("1 to 32 lowercase letters, digits, - or _ (not “pickup”).")
        elif values["code"] in seen:
            errors[prefix + "code"] = _l("This code is already in the list.")
        seen.add(values["code"])
        for name in ("name_zh", "name_en"):
            if not 0 < len(values[name]) <= NAME_MAX:
                errors[prefix + name] = _l("Required, at most %(n)d characters.", n=NAME_MAX)
        if values["tracking_url"] and not _url_ok(values["tracking_url"]):
            errors[prefix + "tracking_url"] = _l(
                "An https:// or http:// address containing {number}, at most %(n)d characters.", n=URL_MAX)
        clean.append(values)
    if not clean:
        errors["carriers"] = _l("Keep at least one carrier: orders ship with one.")
    elif len(clean) > MAX_CARRIERS:
        errors["carriers"] = _l("At most %(n)d carriers.", n=MAX_CARRIERS)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    return clean


def _url_ok(url: str) -> bool:
    if len(url) > URL_MAX or "{number}" not in url or any(ch.isspace() for ch in url):
        return False
    parts = urlsplit(url.replace("{number}", "0"))
    return parts.scheme in ("https", "http") and bool(parts.netloc)


def update_carriers(session: Session, rows: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    clean = validate_carriers(rows)
    with write_transaction(session):
        settings.put(session, NAMESPACE, "carriers", clean)
    return clean


def _key(text: Any) -> str:
    return "".join(clean_text(text).casefold().split())


def find_carrier(carriers: Iterable[dict[str, str]], text: Any) -> dict[str, str] | None:
    """The carrier whose code, Chinese or English name is ``text`` (case and spaces ignored)."""
    wanted = _key(text)
    if not wanted:
        return None
    for found in carriers:
        if wanted in (_key(found.get("code")), _key(found.get("name_zh")), _key(found.get("name_en"))):
            return found
    return None


def carrier_label(values: dict[str, Any], code: str, locale: str) -> str:
    """The carrier's name in ``locale`` (its code when it left the list; pickup has none)."""
    for found in values.get("carriers") or ():
        if found.get("code") == code:
            return found.get("name_zh") if str(locale).startswith("zh") else found.get("name_en")
    return code


def carriers(session: Session) -> list[dict[str, str]]:
    return list(fulfilment_settings(session).get("carriers") or ())
