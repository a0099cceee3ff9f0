"""Key-value settings per plugin, with the shop's own under ``core``.

``get_all`` reads the whole (small) table once and keeps it in the Session's ``info`` for
``CACHE_SECONDS``: a web request uses one Session across several transactions and every
plugin reads its settings in each hook, so a checkout would otherwise read them eight times.
The bound in time is for long-lived CLI and worker sessions, which must still see another
process's change. A write through ``put`` (or a rollback, which may undo one) drops what the
session kept. ``get`` always reads the row: use it to read a value you then change.
"""
from __future__ import annotations

import copy
from time import monotonic
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from siyu.core.models import Setting

SHOP_DEFAULTS: dict[str, Any] = {
    "shop_name": "Siyu Shop",
    "currency": "CNY",
    "timezone": "Asia/Shanghai",
    "default_locale": "zh_CN",
    "catalog_revision": 0,
    # Unpaid orders one member (and, apart, one browser) may hold: see siyu.core.reservations.
    "unpaid_orders_cap": 3,
    "unpaid_units_cap": 50,
}

CACHE_KEY = "siyu_settings"
CACHE_SECONDS = 5.0
_PLAIN = (str, int, float, bool, type(None))


def get(session: Session, plugin: str, key: str, default: Any = None) -> Any:
    """One value read now (not from the cache): safe to read, change and ``put`` back."""
    row = session.get(Setting, (plugin, key))
    if row is not None:
        return row.value
    if plugin == "core" and default is None:
        return SHOP_DEFAULTS.get(key)
    return default


def get_all(session: Session, plugin: str) -> dict[str, Any]:
    """Every stored value of ``plugin`` (over the shop's defaults for ``core``), a fresh copy."""
    now = monotonic()
    kept = session.info.get(CACHE_KEY)
    if kept is None or now - kept[0] >= CACHE_SECONDS:
        by_plugin: dict[str, dict[str, Any]] = {}
        for plugin_name, key, value in session.execute(select(Setting.plugin, Setting.key, Setting.value)):
            by_plugin.setdefault(plugin_name, {})[key] = value
        kept = session.info[CACHE_KEY] = (now, by_plugin)
    values = dict(SHOP_DEFAULTS) if plugin == "core" else {}
    values.update(kept[1].get(plugin, {}))
    # JSON values may be lists or objects: a caller changing one must not change the cache.
    return {k: v if isinstance(v, _PLAIN) else copy.deepcopy(v) for k, v in values.items()}


def forget(session: Session) -> None:
    """Drop what ``get_all`` kept on this session: the next call reads the table again."""
    session.info.pop(CACHE_KEY, None)


def put(session: Session, plugin: str, key: str, value: Any) -> None:
    """Set a value inside the caller's transaction."""
    forget(session)
    row = session.get(Setting, (plugin, key))
    if row is None:
        session.add(Setting(plugin=plugin, key=key, value=value))
    else:
        row.value = value


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous_transaction) -> None:
    # A value read after a put in the rolled-back transaction was never committed.
    forget(session)


def bump_catalog_revision(session: Session) -> None:
    """Mark cached catalog pages stale; call after any change to what the home page lists."""
    put(session, "core", "catalog_revision", int(get(session, "core", "catalog_revision") or 0) + 1)
