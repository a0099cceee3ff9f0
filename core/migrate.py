"""Alembic with one branch per owner: the core's and each enabled plugin's.

Branches are contributed through ``register_migrations``; ``upgrade()`` moves every registered
branch to its head (and the branches of installed plugins it is asked for), so installing a
plugin and upgrading never touches another plugin's tables. Nothing migrates implicitly at
start-up: ``startup_warning()`` says when the database lags behind.

A disabled or uninstalled plugin leaves its row in the version table without its scripts:
every run shows Alembic a view of the table without such rows and writes them back after,
untouched (``siyu.core.migration_state`` explains how, and why positions are recorded).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import pluggy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from siyu.core import hookspecs
from siyu.core import migration_state as state
from siyu.core import plugins as plugin_registry
from siyu.core.db import Base

SCRIPT_LOCATION = str(Path(__file__).resolve().parent / "migrations")
log = logging.getLogger("siyu.migrate")


class MigrationError(RuntimeError):
    """The database's migrations cannot proceed as asked; the message says what to do."""


class NotInstalled(LookupError):
    """No installed plugin has this name."""


def branches(kernel) -> dict[str, str]:
    """The registered branches (core and enabled plugins): label -> versions directory."""
    found: dict[str, str] = {}
    kernel.pm.hook.register_migrations(register=lambda label, path: found.setdefault(label, str(path)))
    return found


def plugin_branches(plugin: Any) -> dict[str, str]:
    """The branches one plugin object registers, asked alone (it need not be enabled)."""
    pm = pluggy.PluginManager("siyu")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin, name="siyu-branches-of")
    found: dict[str, str] = {}
    pm.hook.register_migrations(register=lambda label, path: found.setdefault(label, str(path)))
    return found


def _plugin_object(kernel, name: str) -> Any:
    """Plugin ``name``: the enabled object, or the installed entry point loaded (not enabled)."""
    plugin = kernel.pm.get_plugin(name)
    if plugin is not None:
        return plugin
    ep = next((ep for ep in plugin_registry.installed_entry_points() if ep.name == name), None)
    if ep is None:
        raise NotInstalled(name)
    try:
        return ep.load()
    except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, not raised through
        raise MigrationError(f"plugin {name} cannot be loaded: {exc!r}") from exc


def branches_of(kernel, name: str) -> dict[str, str]:
    """The branches of plugin ``name``, enabled or only installed. NotInstalled when there is
    no such plugin; MigrationError when its code cannot be loaded."""
    plugin = _plugin_object(kernel, name)
    try:
        return plugin_branches(plugin)
    except Exception as exc:  # noqa: BLE001 - e.g. a hook implementation pluggy refuses
        raise MigrationError(f"plugin {name}'s migrations cannot be read: {exc!r}") from exc


def _installed_elsewhere(kernel) -> dict[str, str]:
    """Branches of installed plugins that are not enabled (those that load): their rows can
    then be read instead of set aside."""
    found: dict[str, str] = {}
    for ep in plugin_registry.installed_entry_points():
        if kernel.pm.get_plugin(ep.name) is None:
            try:
                for label, path in plugin_branches(ep.load()).items():
                    found.setdefault(label, path)
            except Exception:  # noqa: BLE001 - one broken plugin must not stop the others
                log.warning("plugin %s cannot be loaded to read its migrations", ep.name, exc_info=True)
    return found


def alembic_config(kernel, connection=None, extra: Mapping[str, str] | None = None) -> Config:
    return _config({**(extra or {}), **branches(kernel)}, connection)


def _config(locations: Mapping[str, str], connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("version_locations", " ".join(dict.fromkeys(locations.values())))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["connection"] = connection
    cfg.attributes["target_metadata"] = Base.metadata
    return cfg


def _script(locations: Mapping[str, str]) -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(locations))


@contextmanager
def viewed(kernel, extra: Mapping[str, str]) -> Iterator[tuple[Config, ScriptDirectory, state.View]]:
    """A write transaction in which Alembic sees the version table without the rows it has no
    scripts for; they are put back, and every branch's position recorded, at the end.

    One transaction for the whole run (DDL is transactional on SQLite and PostgreSQL): a
    failure leaves the version table, rows set aside included, as it was.
    """
    with kernel.db.engine.connect() as connection:
        connection.execution_options(siyu_write=True)
        with connection.begin():
            locations, script, view = survey(kernel, connection, extra)
            if view.problem:
                raise MigrationError(view.problem)
            if view.shown != view.rows:
                state.write_rows(connection, view.shown)
            yield _config(locations, connection), script, view
            _finish(connection, script, view)


def survey(kernel, connection: Connection, extra: Mapping[str, str]):
    """(label -> directory of every script read, the script directory, the table's view)."""
    locations = {**extra, **branches(kernel)}
    script = _script(locations)
    rows, recorded = state.read_rows(connection), state.read_positions(connection)
    view = state.survey(script, rows, recorded)
    if view.problem:  # the scripts of installed plugins that are not enabled may explain the rows
        locations = {**_installed_elsewhere(kernel), **locations}
        script = _script(locations)
        view = state.survey(script, rows, recorded)
    return locations, script, view


def upgrade(kernel, target: str = "heads", plugins: Iterable[str] = ()) -> None:
    """Move the registered branches, and those of the installed ``plugins`` named (to prepare
    one for enabling), to their heads; or everything to ``target`` when one is given."""
    _import_models(kernel)
    extra: dict[str, str] = {}
    for name in plugins:
        extra.update(branches_of(kernel, name))
    with viewed(kernel, extra) as (cfg, script, _view):
        labels = state.labels_of(script)
        run = [label for label in {**extra, **branches(kernel)} if label in labels]  # not the ones only read
        for goal in [f"{label}@head" for label in run] if target == "heads" else [target]:
            command.upgrade(cfg, goal)


def _finish(connection: Connection, script: ScriptDirectory, view: state.View) -> None:
    # Rows set aside go back; positions are recorded anew for every branch with scripts here
    # (a removed or never applied one drops out) and kept for the others.
    after = state.read_rows(connection)
    final = view.restore(after)
    if final != after:
        state.write_rows(connection, final)
    known = state.labels_of(script)
    recorded = {label: rev for label, rev in state.read_positions(connection).items()
                if label not in known}
    state.write_positions(connection, {**recorded, **state.positions(script, after)})


def current_heads(kernel) -> set[str]:
    """The version table's rows as they are (rows of absent branches included)."""
    with kernel.db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def pending_revisions(kernel, extra: Mapping[str, str] | None = None,
                      connection: Connection | None = None) -> dict[str, list[str]]:
    """Revisions an upgrade would run, by branch label, for the registered branches and the
    ``extra`` ones (label -> directory); empty when everything is at its head."""
    if connection is None:
        with kernel.db.engine.connect() as opened:
            return pending_revisions(kernel, extra, opened)
    locations, script, view = survey(kernel, connection, extra or {})
    if view.problem:
        raise MigrationError(view.problem)
    labels = state.labels_of(script)
    waiting: dict[str, list[str]] = {}
    for label in (label for label in {**(extra or {}), **branches(kernel)} if label in labels):
        revisions = script.revision_map.iterate_revisions(f"{label}@head", tuple(view.shown), implicit_base=True)
        mine = [rev.revision for rev in revisions if label in rev.branch_labels][::-1]  # oldest first
        if mine:
            waiting[label] = mine
    return waiting


def pending(kernel) -> bool:
    """True when some enabled branch is not at its head, or the version table cannot be read
    as it stands (the app warns at start-up)."""
    try:
        return bool(pending_revisions(kernel))
    except MigrationError:
        return True


def plugin_pending(kernel, name: str) -> list[str]:
    """Revisions of plugin ``name``'s branches (enabled or only installed) not yet applied.
    NotInstalled or MigrationError as ``branches_of``; MigrationError when the version table
    cannot be read."""
    own = branches_of(kernel, name)
    waiting = pending_revisions(kernel, own) if own else {}
    return [rev for label in own for rev in waiting.get(label, [])]


def parked(kernel, connection: Connection) -> set[str]:
    """Rows of the version table whose scripts no registered branch has (kept, not run)."""
    return survey(kernel, connection, {})[2].unknown


def startup_warning(kernel) -> str | None:
    """What start-up should say when the database lags behind the enabled branches (None
    when it does not, or cannot be read: start-up never waits on the database)."""
    from siyu.core.plugin_admin import startup_database

    try:
        with startup_database(kernel.config["DATABASE_URL"]) as database:
            if database is None:
                return "the database has no tables yet: run `flask siyu db upgrade`"
            with database.engine.connect() as connection:
                waiting = pending_revisions(kernel, connection=connection)
    except MigrationError as exc:
        return f"migrations cannot run: {exc}"
    except Exception:  # noqa: BLE001 - an unreachable database is reported elsewhere
        log.debug("migration state not read at start-up", exc_info=True)
        return None
    if not waiting:
        return None
    names = ", ".join(f"{label} ({len(revs)})" for label, revs in waiting.items())
    return f"database migrations pending for {names}: run `flask siyu db upgrade` before serving"


def revision(kernel, message: str, branch: str, autogenerate: bool = True) -> None:
    """Write a new revision on ``branch`` (for developers; see docs/writing-plugins.md).

    A plugin's first revision starts its branch: id ``<branch>_0001``, labelled ``branch``,
    depending on the core's current head.
    """
    _import_models(kernel)
    with kernel.db.engine.connect() as connection:
        transaction = connection.begin()  # autogenerate only reads: rolled back below
        locations, script, view = survey(kernel, connection, {})
        if view.shown != view.rows:
            state.write_rows(connection, view.shown)
        where = {"head": f"{branch}@head"} if branch in state.labels_of(script) else {
            "head": "base", "branch_label": branch, "rev_id": f"{branch}_0001", "depends_on": "core@head"}
        try:
            command.revision(_config(locations, connection), message=message, autogenerate=autogenerate,
                             version_path=branches(kernel)[branch], **where)
        finally:
            transaction.rollback()


def _import_models(kernel) -> None:
    # Plugins' model modules are imported by the plugins themselves when registered.
    import siyu.core.models  # noqa: F401
