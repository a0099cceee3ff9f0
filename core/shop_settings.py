"""The shop's own settings (name, currency, timezone, default language, caps on unpaid
orders), validated."""
from __future__ import annotations

from typing import Any, Mapping
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from siyu.core import reservations, settings
from siyu.core.db import write_transaction
from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.money import SUPPORTED_CURRENCIES

LOCALES = ("zh_CN", "en")
EDITABLE = ("shop_name", "currency", "timezone", "default_locale", *reservations.RANGES)


def problems(values: Mapping[str, Any]) -> dict:
    errors = {}
    if not 0 < len(str(values.get("shop_name") or "").strip()) <= 100:
        errors["shop_name"] = _l("Enter a name of at most 100 characters.")
    if values.get("currency") not in SUPPORTED_CURRENCIES:
        errors["currency"] = _l("Choose a supported currency.")
    if values.get("timezone") not in available_timezones():
        errors["timezone"] = _l("Choose a time zone such as Asia/Shanghai.")
    if values.get("default_locale") not in LOCALES:
        errors["default_locale"] = _l("Choose Chinese or English.")
    errors.update(reservations.problems(values))
    return errors


def update_shop_settings(session: Session, values: Mapping[str, Any]) -> dict[str, Any]:
    data = {key: values.get(key) for key in EDITABLE}
    data["shop_name"] = str(data["shop_name"] or "").strip()
    for key in reservations.RANGES:  # a caller that does not send a cap keeps the current one
        if data[key] is None:
            data[key] = settings.get_all(session, "core")[key]
    errors = problems(data)
    if errors:
        raise ValidationError(_l("Please correct the highlighted fields."), fields=errors)
    with write_transaction(session):
        for key, value in data.items():
            settings.put(session, "core", key, value)
        settings.bump_catalog_revision(session)  # cached pages show the shop name
    return data
