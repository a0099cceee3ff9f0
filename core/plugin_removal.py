"""Removing a plugin's data: ``flask siyu plugins remove NAME``.

Its migration branch is downgraded to base (its own ``downgrade()`` drops what it created),
what is left of its models' tables is dropped, and its row and recorded position leave the
version table (the core's row comes back if the plugin's row held its position). The plugin
must be installed, its scripts and models say what to drop, and disabled: the shop's workers
may be using its tables. Forgetting the owner's choice is ``plugin_admin.forget_plugin``.
"""
from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import inspect

from siyu.core import migrate, plugins
from siyu.core import migration_state as state
from siyu.core.db import Base


def owned_tables(name: str) -> list[Any]:
    """The tables of installed plugin ``name``'s models: those mapped by classes of the
    top-level package its entry point names (never Siyu's own, whatever the entry point says)."""
    ep = next((ep for ep in plugins.installed_entry_points() if ep.name == name), None)
    package = ep.value.split(":")[0].split(".")[0] if ep is not None else ""
    if package in ("", "siyu"):
        return []
    return [mapper.local_table for mapper in Base.registry.mappers
            if mapper.class_.__module__.split(".")[0] == package]


def removal_plan(kernel, name: str) -> tuple[dict[str, str], list[str]]:
    """What ``remove_plugin`` would undo: (branch label -> applied revision, tables of the
    plugin's models that exist). Raises as ``remove_plugin`` would."""
    own = _removable(kernel, name)
    tables = {table.name for table in owned_tables(name)}
    with kernel.db.engine.connect() as connection:
        _, script, view = migrate.survey(kernel, connection, own)
        existing = set(inspect(connection).get_table_names())
    if view.problem:
        raise migrate.MigrationError(view.problem)
    applied = state.positions(script, view.shown)
    return {label: applied[label] for label in own if label in applied}, sorted(tables & existing)


def _removable(kernel, name: str) -> dict[str, str]:
    if kernel.pm.get_plugin(name) is not None:
        raise migrate.MigrationError(f"{name} is enabled: disable it (back office or PLUGINS_DISABLED) "
                                     "and restart the shop's workers first")
    own = migrate.branches_of(kernel, name)
    if state.CORE in own:
        raise migrate.MigrationError("the core's branch cannot be removed")
    return own


def remove_plugin(kernel, name: str) -> list[str]:
    """Downgrade plugin ``name``'s branches to base, drop what is left of its models' tables,
    and forget its recorded positions; returns the tables dropped. The plugin must be
    installed (its scripts and models say what to drop) and not enabled (the shop may be
    using it)."""
    own = _removable(kernel, name)
    tables = set(owned_tables(name))
    with migrate.viewed(kernel, own) as (cfg, script, view):
        connection = cfg.attributes["connection"]
        before = set(inspect(connection).get_table_names())
        applied = state.positions(script, view.shown)
        for label in own:
            if label in applied:
                command.downgrade(cfg, f"{label}@base")
        existing = set(inspect(connection).get_table_names())
        for table in reversed(Base.metadata.sorted_tables):
            if table in tables and table.name in existing:
                table.drop(connection)
        dropped = sorted(before - set(inspect(connection).get_table_names()))
    return dropped
