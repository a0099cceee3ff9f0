"""A plugin's life in a shop — installed, migrated, enabled, disabled, uninstalled, removed —
never breaks the shop: upgrades keep working, enabling waits for migrations, remove cleans up.

The plugins here are throwaway objects with a migration branch written in the test's folder;
``installed`` plays pip: it decides which of them the shop sees as installed entry points.
"""
from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from siyu.core import hookimpl, migrate
from siyu.core import migration_state as state
from siyu.core import plugins as core_plugins
from siyu.core.plugin_admin import stored_choice
from siyu.core.settings import put
from siyu.core.db import write_transaction
from siyu.storefront import create_app

SCRIPT = '''"""{label} {number}"""
from alembic import op
import sqlalchemy as sa

revision = "{label}_{number:04d}"
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
    op.create_table("{label}_notes_{number}", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("{label}_notes_{number}")
'''


class Toy:
    """A plugin that registers one migration branch, ``<name>_0001`` ... in ``folder``."""

    def __init__(self, name: str, folder: Path):
        self.__name__ = name
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    @hookimpl
    def register_migrations(self, register):
        register(self.__name__, str(self.folder))

    def add_revision(self, number: int, depends_on: str | None) -> str:
        label = self.__name__
        (self.folder / f"{label}_{number:04d}.py").write_text(SCRIPT.format(
            label=label, number=number, down=f"{label}_{number - 1:04d}" if number > 1 else None,
            labels=(label,) if number == 1 else None, depends=depends_on))
        return f"{label}_{number:04d}"


class Shop:
    """Restarts of one shop's database with a chosen set of installed and enabled plugins."""

    def __init__(self, url: str, folder: Path, monkeypatch):
        self.url, self.folder, self.apps = url, folder, []
        self.installed: dict[str, Toy] = {}
        real = core_plugins.installed_entry_points()
        self.installed_entry_points = lambda: sorted(
            real + [_entry_point(toy) for toy in self.installed.values()], key=lambda ep: ep.name)
        monkeypatch.setattr(core_plugins, "installed_entry_points", self.installed_entry_points)

    def start(self, enabled=(), **config):
        app = create_app({"TESTING": True, "SECRET_KEY": "x", "SECURE_COOKIES": False, "RATELIMIT_ENABLED": False,
                          "DATABASE_URL": self.url, "PLUGINS": list(enabled), **config},
                         plugins=list(self.installed.values()), instance_path=str(self.folder / "instance"))
        self.apps.append(app)
        return app

    def cli(self, app, *args, input=None):
        return app.test_cli_runner().invoke(args=["siyu", *args], input=input)

    def rows(self, app) -> set[str]:
        with app.extensions["siyu"].db.engine.connect() as connection:
            return state.read_rows(connection)

    def tables(self, app) -> set[str]:
        with app.extensions["siyu"].db.engine.connect() as connection:
            return set(inspect(connection).get_table_names())


def _entry_point(toy: Toy):
    def load():
        if getattr(toy, "broken", None):
            raise ImportError(toy.broken)
        return toy

    return SimpleNamespace(name=toy.__name__, value=f"{__name__}:Toy", load=load, dist=SimpleNamespace(version="0.1"))


@pytest.fixture
def shop(app, tmp_path, monkeypatch):
    made = Shop(app.config["DATABASE_URL"], tmp_path, monkeypatch)
    yield made
    for started in made.apps:
        started.extensions["siyu"].db.dispose()


def head_of_core(kernel) -> str:
    return ScriptDirectory.from_config(migrate.alembic_config(kernel)).get_revision("core@head").revision


@pytest.fixture
def core_head(kernel):
    return head_of_core(kernel)


def install(shop, name, core_head, revisions=1) -> Toy:
    toy = Toy(name, shop.folder / f"{name}_versions")
    for number in range(1, revisions + 1):
        toy.add_revision(number, core_head if number == 1 else None)
    shop.installed[name] = toy
    return toy


def test_branch_depending_on_the_core_head_is_not_pending_once_upgraded(shop, core_head, caplog):
    install(shop, "notes", core_head)
    with caplog.at_level(logging.WARNING, logger="siyu.migrate"):
        app = shop.start(["notes"])
    assert "database migrations pending for notes (1)" in caplog.text
    assert migrate.pending(app.extensions["siyu"])
    assert shop.cli(app, "db", "upgrade").exit_code == 0
    # Alembic folds the core's row into the plugin's (depends_on counts as an ancestor) ...
    assert shop.rows(app) == {"notes_0001"}
    # ... and yet nothing is pending, and start-up is quiet.
    assert not migrate.pending(app.extensions["siyu"])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="siyu.migrate"):
        shop.start(["notes"])
    assert "pending" not in caplog.text


@pytest.mark.parametrize("gone", ["disabled", "uninstalled"])
def test_upgrade_works_and_keeps_the_rows_of_a_plugin_gone(shop, core_head, gone):
    notes = install(shop, "notes", core_head)
    app = shop.start(["notes"])
    assert shop.cli(app, "db", "upgrade").exit_code == 0
    if gone == "uninstalled":
        del shop.installed["notes"]
    later = install(shop, "later", core_head)  # a plugin added meanwhile
    app = shop.start(["later"])
    result = shop.cli(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert shop.rows(app) == {"notes_0001", "later_0001"}  # notes' row is kept as it was
    assert {"notes_notes_1", "later_notes_1"} <= shop.tables(app)
    assert not migrate.pending(app.extensions["siyu"])
    # Back again, with a new revision: it continues where it stopped.
    shop.installed["notes"] = notes
    notes.add_revision(2, None)
    app = shop.start(["notes", "later"])
    assert migrate.pending_revisions(app.extensions["siyu"]) == {"notes": ["notes_0002"]}
    assert shop.cli(app, "db", "upgrade").exit_code == 0
    assert shop.rows(app) == {"notes_0002", "later_0001"} and "notes_notes_2" in shop.tables(app)
    assert not migrate.pending(app.extensions["siyu"])
    assert later.folder.exists()


def test_core_position_is_kept_aside_when_the_plugin_holding_it_is_uninstalled(shop, core_head):
    install(shop, "notes", core_head)
    app = shop.start(["notes"])
    shop.cli(app, "db", "upgrade")
    with app.extensions["siyu"].db.engine.connect() as connection:
        assert state.read_positions(connection) == {"core": core_head, "notes": "notes_0001"}
    del shop.installed["notes"]
    app = shop.start()
    assert not migrate.pending(app.extensions["siyu"])  # the core's position comes from the record
    assert shop.cli(app, "db", "upgrade").exit_code == 0
    assert shop.rows(app) == {"notes_0001"}  # no second row for the core: notes_0001 implies it


def test_a_database_without_recorded_positions_says_what_to_do(shop, core_head):
    install(shop, "notes", core_head)
    app = shop.start(["notes"])
    shop.cli(app, "db", "upgrade")
    with app.extensions["siyu"].db.engine.begin() as connection:  # as an older Siyu left it
        connection.execute(text("DELETE FROM settings WHERE key = 'migration_positions'"))
    del shop.installed["notes"]
    app = shop.start()
    result = shop.cli(app, "db", "upgrade")
    assert result.exit_code != 0 and "notes_0001" in result.output and "Install the plugins" in result.output
    assert shop.rows(app) == {"notes_0001"}
    install(shop, "notes", core_head)  # installed again, not enabled: its scripts explain its row
    app = shop.start()
    assert shop.cli(app, "db", "upgrade").exit_code == 0
    assert shop.rows(app) == {"notes_0001"}


def test_upgrade_of_one_installed_plugin_before_enabling_it(shop, core_head):
    install(shop, "notes", core_head)
    app = shop.start()
    listed = shop.cli(app, "plugins").output
    assert "notes" in listed and "run `flask siyu db upgrade --plugin notes` before enabling it" in listed
    assert shop.cli(app, "db", "upgrade").exit_code == 0
    assert "notes_notes_1" not in shop.tables(app)  # not enabled, not migrated
    result = shop.cli(app, "db", "upgrade", "--plugin", "notes")
    assert result.exit_code == 0, result.output
    assert "notes_notes_1" in shop.tables(app)
    listed = shop.cli(app, "plugins").output
    assert "--plugin notes" not in listed and "not enabled: notes_0001" in listed
    assert "no installed plugin nothere" in shop.cli(app, "db", "upgrade", "--plugin", "nothere").output


def test_enabled_plugin_with_pending_migrations_is_listed(shop, core_head):
    install(shop, "notes", core_head)
    app = shop.start(["notes"])
    listed = shop.cli(app, "plugins").output
    assert "migrations pending: notes_0001: run `flask siyu db upgrade`" in listed


def test_remove_asks_then_drops_the_branch_tables_and_choice(shop, core_head, db):
    install(shop, "notes", core_head, revisions=2)
    app = shop.start(["notes"])
    shop.cli(app, "db", "upgrade")
    refused = shop.cli(app, "plugins", "remove", "notes", "--yes")
    assert refused.exit_code != 0 and "notes is enabled" in refused.output
    with write_transaction(db):
        put(db, "core", "plugins_enabled", ["notes"])
        put(db, "notes", "colour", "red")
    app = shop.start(PLUGINS_DISABLED=["notes"])
    kept = shop.cli(app, "plugins", "remove", "notes", input="n\n")
    assert kept.exit_code != 0 and "notes at notes_0002" in kept.output
    assert {"notes_notes_1", "notes_notes_2"} <= shop.tables(app)
    removed = shop.cli(app, "plugins", "remove", "notes", input="y\n")
    assert removed.exit_code == 0, removed.output
    assert "notes_notes_1" in removed.output and not {"notes_notes_1", "notes_notes_2"} & shop.tables(app)
    assert shop.rows(app) == {core_head}  # the core's row is back where the plugin's was
    with app.extensions["siyu"].db.Session() as session:
        assert stored_choice(session) == ([], [])
        assert session.execute(text("SELECT count(*) FROM settings WHERE plugin = 'notes'")).scalar() == 0
    with app.extensions["siyu"].db.engine.connect() as connection:
        assert "notes" not in state.read_positions(connection)
    # Reinstalled, it stays off until the owner enables it again.
    app = shop.start()
    assert "notes" not in app.config["PLUGINS"]
    assert app.extensions["siyu"].pm.get_plugin("notes") is None


def test_remove_of_an_uninstalled_plugin_forgets_its_choice(shop, core_head, db):
    with write_transaction(db):
        put(db, "core", "plugins_enabled", ["gone"])
        db.execute(text("INSERT INTO outbox (plugin, task, key, payload, state, attempts, next_attempt_at, "
                        "last_error, created_at) VALUES ('gone', 'gone.stats', 'order:1:paid', '{}', 'pending', 0, "
                        "'2026-01-01 00:00:00', '', '2026-01-01 00:00:00')"))
    app = shop.start()
    assert "kept for plugins not installed: gone" in shop.cli(app, "plugins").output
    result = shop.cli(app, "plugins", "remove", "gone", "--yes")
    assert result.exit_code == 0 and "gone is not installed" in result.output
    with app.extensions["siyu"].db.Session() as session:
        assert stored_choice(session) == ([], [])
        assert session.execute(text("SELECT count(*) FROM outbox")).scalar() == 0  # its waiting work too
    assert "gone" not in shop.cli(app, "plugins").output


def test_a_plugin_that_cannot_be_loaded_is_reported_and_not_migrated(shop, core_head):
    install(shop, "broken", core_head).broken = "No module named 'half_rewritten'"
    app = shop.start()
    assert "broken: plugin broken cannot be loaded" in shop.cli(app, "plugins").output
    result = shop.cli(app, "db", "upgrade", "--plugin", "broken")
    assert result.exit_code != 0 and "half_rewritten" in result.output
    assert shop.cli(app, "db", "upgrade").exit_code == 0  # the others still upgrade
