"""Key-value settings per plugin, with the shop's own under ``core``."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from siyu.core.models import Setting

SHOP_DEFAULTS: dict[str, Any] = {
    "shop_name": "Siyu Shop",
    "currency": "CNY",
    "timezone": "Asia/Shanghai",
    "default_locale": "zh_CN",
    "catalog_revision": 0,
}


def get(session: Session, plugin: str, key: str, default: Any = None) -> Any:
    row = session.get(Setting, (plugin, key))
    if row is not None:
        return row.value
    if plugin == "core" and default is None:
        return SHOP_DEFAULTS.get(key)
    return default


def get_all(session: Session, plugin: str) -> dict[str, Any]:
    values = dict(SHOP_DEFAULTS) if plugin == "core" else {}
    rows = session.scalars(select(Setting).where(Setting.plugin == plugin))
    values.update({row.key: row.value for row in rows})
    return values


def put(session: Session, plugin: str, key: str, value: Any) -> None:
    """Set a value inside the caller's transaction."""
    row = session.get(Setting, (plugin, key))
    if row is None:
        session.add(Setting(plugin=plugin, key=key, value=value))
    else:
        row.value = value


def bump_catalog_revision(session: Session) -> None:
    """Mark cached catalog pages stale; call after any change to what the home page lists."""
    put(session, "core", "catalog_revision", int(get(session, "core", "catalog_revision") or 0) + 1)
