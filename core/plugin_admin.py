"""The owner's plugin choices and plugin settings, kept in the core ``settings`` table.

Enabling or disabling is stored as two lists (``core``/``plugins_enabled`` and
``core``/``plugins_disabled``) and applied when a worker starts (``effective_plugins``):
the plugin manager is built once per process, so a change takes effect after the workers
restart. Configuration still wins for ``PLUGINS_DISABLED``: a plugin disabled there
cannot be enabled from the back office, while one the owner disabled can be enabled again
(``configuration_disabled`` tells them apart once the choice is applied). Enabling a plugin
whose migrations have not run is refused: its pages and hooks would fail on missing tables.
``forget_plugin`` clears the choice when a plugin is removed, so reinstalling it does not
enable it again unasked.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, MutableMapping

import marshmallow
from sqlalchemy import delete, inspect
from sqlalchemy.orm import Session

from siyu.core import settings
from siyu.core.db import Database, write_transaction
from siyu.core.errors import ValidationError
from siyu.core.i18n import lazy_gettext as _l
from siyu.core.models import OutboxEntry, Setting

ENABLED_KEY = "plugins_enabled"
DISABLED_KEY = "plugins_disabled"
#: The names only the owner's stored choice disabled, recorded in the configuration when the
#: choice is applied (``PLUGINS_DISABLED`` then holds both kinds).
OWNER_DISABLED = "SIYU_PLUGINS_DISABLED_BY_OWNER"


def stored_choice(session: Session) -> tuple[list[str], list[str]]:
    return (list(settings.get(session, "core", ENABLED_KEY, []) or []),
            list(settings.get(session, "core", DISABLED_KEY, []) or []))


def set_plugin_enabled(session: Session, name: str, enabled: bool, installed: Iterable[str],
                       config_disabled: Iterable[str] = (), pending_migrations: Iterable[str] = ()) -> None:
    """Record the owner's choice for an installed plugin (applied at the next start).

    ``pending_migrations``: the plugin's revisions not yet applied; enabling is then refused.
    """
    if name not in set(installed):
        raise ValidationError(_l("This plugin is not installed."), fields={"plugin": _l("not installed")})
    if enabled and name in set(config_disabled):
        raise ValidationError(_l("This plugin is disabled in the shop's configuration."),
                              fields={"plugin": _l("disabled by configuration")})
    if enabled and list(pending_migrations):
        raise ValidationError(
            _l("This plugin's database migrations have not been run. Run %(command)s, then enable it.",
               command=f"flask siyu db upgrade --plugin {name}"),
            fields={"plugin": _l("migrations pending")})
    with write_transaction(session):
        on, off = stored_choice(session)
        on = sorted(set(on) - {name} | ({name} if enabled else set()))
        off = sorted(set(off) - {name} | (set() if enabled else {name}))
        settings.put(session, "core", ENABLED_KEY, on)
        settings.put(session, "core", DISABLED_KEY, off)


def forget_plugin(session: Session, name: str) -> None:
    """Forget the owner's choice, the stored settings and the follow-up work (outbox entries,
    which wait for their plugin) of a removed plugin."""
    with write_transaction(session):
        on, off = stored_choice(session)
        if name in on or name in off:
            settings.put(session, "core", ENABLED_KEY, [n for n in on if n != name])
            settings.put(session, "core", DISABLED_KEY, [n for n in off if n != name])
        session.execute(delete(Setting).where(Setting.plugin == name))
        session.execute(delete(OutboxEntry).where(OutboxEntry.plugin == name))


def configuration_disabled(config: Mapping[str, Any]) -> set[str]:
    """The plugins the configuration itself disables (not those the owner disabled)."""
    return set(config.get("PLUGINS_DISABLED") or ()) - set(config.get(OWNER_DISABLED) or ())


def apply_stored_choice(config: MutableMapping[str, Any], enabled: Iterable[str], disabled: Iterable[str]) -> None:
    """Apply the owner's choice to ``config`` in place, recording what only the owner disabled."""
    own = set(config.get("PLUGINS_DISABLED") or ())
    config["PLUGINS"], config["PLUGINS_DISABLED"] = effective_plugins(config, enabled, disabled)
    config[OWNER_DISABLED] = sorted(set(disabled) - own)


def effective_plugins(config: Mapping[str, Any], enabled: Iterable[str], disabled: Iterable[str]):
    """(PLUGINS, PLUGINS_DISABLED) after applying the owner's stored choice to ``config``."""
    configured = config.get("PLUGINS", ())
    plugins = configured if configured == "*" else sorted(set(configured) | set(enabled))
    return plugins, sorted(set(config.get("PLUGINS_DISABLED", ())) | set(disabled))


def read_choice_at_startup(database_url: str) -> tuple[list[str], list[str]]:
    """The stored choice, or nothing when the database is not reachable or not migrated."""
    try:
        with startup_database(database_url) as database:
            if database is None or not inspect(database.engine).has_table(Setting.__tablename__):
                return [], []
            with database.Session() as session:
                return stored_choice(session)
    except Exception:  # noqa: BLE001 - an unreachable database must not stop start-up
        logging.getLogger("siyu.plugins").warning(
            "the owner's choice of plugins could not be read; starting with the configuration's "
            "PLUGINS and PLUGINS_DISABLED only", exc_info=True)
        return [], []


@contextmanager
def startup_database(database_url: str) -> Iterator[Database | None]:
    """A short-lived connection pool for start-up reads, with a short connect timeout (an
    unreachable server must not hold up a worker's start); None for a SQLite file that does
    not exist yet (reading must not create it)."""
    if database_url.startswith("sqlite:///") and not _sqlite_file_exists(database_url):
        yield None
        return
    database = Database(database_url, **({} if database_url.startswith("sqlite") else
                                         {"connect_args": {"connect_timeout": 5}}))
    try:
        yield database
    finally:
        database.dispose()


def _sqlite_file_exists(url: str) -> bool:
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
