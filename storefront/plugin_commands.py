"""``flask siyu plugins``: what is installed and enabled, the migrations each one waits for,
and ``remove NAME`` to drop a plugin's data before uninstalling it."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from siyu.core import migrate, plugin_removal
from siyu.core.plugins import describe_plugins
from siyu.storefront.context import db, kernel


@click.group("plugins", invoke_without_command=True)
@with_appcontext
def plugins_command():
    """List plugins with version, enabled state, the hooks they implement and migrations
    not yet run; `remove NAME` drops a plugin's tables."""
    if click.get_current_context().invoked_subcommand is not None:
        return
    waiting, trouble = _pending_by_plugin()
    for row in describe_plugins(kernel().pm):
        state = "default" if row.default else ("enabled" if row.enabled else "installed, disabled")
        click.echo(f"{row.name:<40} {row.version:<10} {state}")
        if row.hooks:
            click.echo(f"    hooks: {', '.join(row.hooks)}")
        if waiting.get(row.name):
            upgrade = "flask siyu db upgrade" + ("" if row.enabled else f" --plugin {row.name}")
            click.echo(f"    migrations pending: {', '.join(waiting[row.name])}: run `{upgrade}`"
                       + ("" if row.enabled else " before enabling it"))
    if waiting.get("core"):
        click.echo(f"core migrations pending: {', '.join(waiting['core'])}: run `flask siyu db upgrade`")
    for line in trouble:
        click.echo(line)


def _pending_by_plugin() -> tuple[dict[str, list[str]], list[str]]:
    """Revisions not yet applied by plugin name (``core`` for the core's branch), and the
    lines saying what could not be read."""
    from siyu.core.plugin_admin import startup_database, stored_choice
    from siyu.core.plugins import installed_entry_points

    own, trouble = {"core": {"core"}}, []
    extra: dict[str, str] = {}
    for ep in installed_entry_points():
        try:
            found = migrate.branches_of(kernel(), ep.name)
        except migrate.MigrationError as exc:
            trouble.append(f"{ep.name}: {exc}")
            continue
        own[ep.name] = set(found)
        extra.update({label: path for label, path in found.items() if label not in extra})
    try:
        with startup_database(kernel().config["DATABASE_URL"]) as database:
            if database is None:
                return {}, trouble + ["database: not created yet: run `flask siyu db upgrade`"]
            with database.engine.connect() as connection:
                pending = migrate.pending_revisions(kernel(), extra, connection)
                parked = migrate.parked(kernel(), connection)
            with database.Session() as session:
                on, off = stored_choice(session)
    except Exception as exc:  # noqa: BLE001 - the list is still useful without the database
        return {}, trouble + [f"database: migrations not read: {exc}"]
    if parked:
        trouble.append(f"version rows kept for plugins not installed or not enabled: {', '.join(sorted(parked))}")
    stale = sorted(set(on + off) - {ep.name for ep in installed_entry_points()})
    if stale:
        trouble.append(f"the owner's choice is kept for plugins not installed: {', '.join(stale)} "
                       "(`flask siyu plugins remove NAME` forgets it)")
    return {name: [rev for label in labels for rev in pending.get(label, [])] for name, labels in own.items()}, trouble


@plugins_command.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@with_appcontext
def plugins_remove(name, yes):
    """Remove plugin NAME's data: downgrade its migration branch to base, drop its tables and
    forget the owner's choice and settings for it. NAME must be disabled; uninstall it after."""
    from siyu.core.plugin_admin import forget_plugin

    try:
        revisions, tables = plugin_removal.removal_plan(kernel(), name)
    except migrate.NotInstalled:
        click.echo(f"{name} is not installed: only the owner's choice and settings for it are forgotten; "
                   "its tables and version rows stay (install it again, without enabling it, to remove them)")
        revisions = tables = None
    except migrate.MigrationError as exc:
        raise click.ClickException(str(exc)) from exc
    if revisions is not None:
        branch = ", ".join(f"{label} at {rev}" for label, rev in revisions.items()) or "none applied"
        click.echo(f"{name}: migration branch {branch}; tables of its models: {', '.join(tables) or 'none'}")
    if not yes:
        click.confirm(f"Remove {name}'s data? This cannot be undone", abort=True)
    dropped = []
    if revisions is not None:
        try:
            dropped = plugin_removal.remove_plugin(kernel(), name)
        except migrate.MigrationError as exc:
            raise click.ClickException(str(exc)) from exc
    forget_plugin(db(), name)
    click.echo(f"{name} removed; tables dropped: {', '.join(dropped) or 'none'}")
