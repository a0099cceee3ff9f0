"""The owner's plugin choices and plugin settings, kept in the core ``settings`` table.

Enabling or disabling is stored as two lists (``core``/``plugins_enabled`` and
``core``/``plugins_disabled``) and applied when a worker starts (``effective_plugins``):
the plugin manager is built once per process, so a change takes effect after the workers
restart. Configuration still wins for ``PLUGINS_DISABLED``: a plugin disabled there
cannot be enabled from the back office.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import marshmallow
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from siyu.core import settings
from siyu.core.db import Database, write_transaction
from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import Setting

ENABLED_KEY = "plugins_enabled"
DISABLED_KEY = "plugins_disabled"


def stored_choice(session: Session) -> tuple[list[str], list[str]]:
    return (list(settings.get(session, "core", ENABLED_KEY, []) or []),
            list(settings.get(session, "core", DISABLED_KEY, []) or []))


def set_plugin_enabled(session: Session, name: str, enabled: bool, installed: Iterable[str],
                       config_disabled: Iterable[str] = ()) -> None:
    """Record the owner's choice for an installed plugin (applied at the next start)."""
    if name not in set(installed):
        raise ValidationError(_l("This plugin is not installed."), fields={"plugin": _l("not installed")})
    if enabled and name in set(config_disabled):
        raise ValidationError(_l("This plugin is disabled in the shop's configuration."),
                              fields={"plugin": _l("disabled by configuration")})
    with write_transaction(session):
        on, off = stored_choice(session)
        on = sorted(set(on) - {name} | ({name} if enabled else set()))
        off = sorted(set(off) - {name} | (set() if enabled else {name}))
        settings.put(session, "core", ENABLED_KEY, on)
        settings.put(session, "core", DISABLED_KEY, off)


def effective_plugins(config: Mapping[str, Any], enabled: Iterable[str], disabled: Iterable[str]):
    """(PLUGINS, PLUGINS_DISABLED) after applying the owner's stored choice to ``config``."""
    configured = config.get("PLUGINS", ())
    plugins = configured if configured == "*" else sorted(set(configured) | set(enabled))
    return plugins, sorted(set(config.get("PLUGINS_DISABLED", ())) | set(disabled))


def read_choice_at_startup(database_url: str) -> tuple[list[str], list[str]]:
    """The stored choice, or nothing when the database is not reachable or not migrated."""
    if database_url.startswith("sqlite:///") and not _sqlite_file_exists(database_url):
        return [], []
    database = None
    try:
        # A short connect timeout: an unreachable server must not hold up a worker's start.
        database = Database(database_url, **({} if database_url.startswith("sqlite") else
                                             {"connect_args": {"connect_timeout": 5}}))
        if not inspect(database.engine).has_table(Setting.__tablename__):
            return [], []
        with database.Session() as session:
            return stored_choice(session)
    except Exception:  # noqa: BLE001 - an unreachable database must not stop start-up
        return [], []
    finally:
        if database is not None:
            database.dispose()


def _sqlite_file_exists(url: str) -> bool:
    from pathlib import Path

    path = url[len("sqlite:///"):]
    return path not in ("", ":memory:") and Path(path).exists()


# ------------------------------------------------------------------ plugin settings


def schema_instance(schema: Any) -> marshmallow.Schema:
    return schema() if isinstance(schema, type) else schema


def current_values(session: Session, plugin: str, schema: Any) -> dict[str, Any]:
    """Stored values over the schema's ``load_default`` values."""
    instance = schema_instance(schema)
    values = {}
    for name, field in instance.fields.items():
        default = field.load_default
        values[name] = default() if callable(default) else (None if default is marshmallow.missing else default)
    stored = settings.get_all(session, plugin)
    values.update({k: v for k, v in stored.items() if k in instance.fields})
    return values


def save_plugin_settings(session: Session, plugin: str, schema: Any, raw: Mapping[str, Any]) -> dict:
    """Validate ``raw`` with the plugin's schema and store every field; all or nothing."""
    instance = schema_instance(schema)
    try:
        loaded = instance.load({k: v for k, v in raw.items() if k in instance.fields})
    except marshmallow.ValidationError as exc:
        fields = {k: " ".join(map(str, v)) if isinstance(v, list) else str(v)
                  for k, v in exc.normalized_messages().items()}
        raise ValidationError(_l("Please correct the highlighted fields."), fields=fields) from exc
    dumped = instance.dump(loaded)  # JSON-friendly values (dates, decimals) for the JSON column
    with write_transaction(session):
        for key, value in dumped.items():
            settings.put(session, plugin, key, value)
    return dumped
