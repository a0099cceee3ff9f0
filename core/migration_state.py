"""What Alembic's version table means when some branches' scripts are absent.

Alembic keeps one row per head and stops at a row it has no script for ("Can't locate
revision"). A plugin that is disabled or uninstalled takes its scripts away but its row stays,
so ``siyu.core.migrate`` shows Alembic a *view* of the table, built by ``survey()``:

- rows without a script (``unknown``) are set aside for the run and written back after it,
  untouched: re-enabling or reinstalling the plugin continues where it stopped;
- Alembic treats ``depends_on`` like an ancestor, so a revision that depends on the core's
  head takes the place of the core's row: the core's position may live only in a plugin's
  row. Only the core can be absorbed so (a plugin depends on the core, never on another
  plugin), so each run records every branch's position in the ``settings`` table
  (``core``/``migration_positions``). When no core row is left once unknown rows are set
  aside, the recorded core position is lent to the view (``borrowed``) and dropped again
  after the run if the run left it there (an unknown row still carries it).

Without a recorded position (a database last migrated by an older Siyu) and with the core's
position possibly inside an unknown row, the view cannot be trusted: ``problem`` says what to do.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from alembic.script import ScriptDirectory
from sqlalchemy import Column, MetaData, String, Table, delete, insert, inspect, select
from sqlalchemy.engine import Connection

from siyu.core.models import Setting

CORE = "core"
POSITIONS_KEY = "migration_positions"
VERSION_TABLE = Table("alembic_version", MetaData(), Column("version_num", String(32), primary_key=True))


@dataclass
class View:
    rows: set[str]
    unknown: set[str] = field(default_factory=set)
    shown: set[str] = field(default_factory=set)
    borrowed: set[str] = field(default_factory=set)
    problem: str | None = None

    def restore(self, after: set[str]) -> set[str]:
        """The table after a run: Alembic's rows, less a lent core position the run did not
        move (an unknown row still carries it), plus the rows set aside."""
        if not self.unknown:
            return set(after)
        return (set(after) - self.borrowed) | self.unknown


def survey(script: ScriptDirectory, rows: set[str], recorded: dict[str, str]) -> View:
    known = {rev.revision for rev in script.walk_revisions()}
    unknown = rows - known
    view = View(rows=set(rows), unknown=unknown, shown=rows - unknown)
    if not unknown or CORE not in labels_of(script) or any(
            CORE in script.get_revision(rev).branch_labels for rev in view.shown):
        return view
    applied = closure(script, view.shown)
    position = recorded.get(CORE)
    if position in known and position not in applied:
        view.borrowed = {position}
        view.shown = view.shown | view.borrowed
    elif position not in known and script.get_revision(f"{CORE}@head").revision not in applied:
        view.problem = (
            f"The version table names revisions whose scripts are absent ({', '.join(sorted(unknown))}) "
            "and the core's position may be recorded only in them. Install the plugins that wrote them "
            "again (enabling them is not needed), run `flask siyu db upgrade` once (it records every "
            "branch's position), then uninstall them.")
    return view


def closure(script: ScriptDirectory, revisions: Iterable[str]) -> list[str]:
    """Every revision applied when ``revisions`` are the heads, newest first (dependencies count)."""
    heads = tuple(revisions)
    if not heads:
        return []
    return [rev.revision for rev in script.revision_map.iterate_revisions(heads, "base", implicit_base=True)]


def positions(script: ScriptDirectory, rows: Iterable[str]) -> dict[str, str]:
    """Each branch label's newest applied revision."""
    found: dict[str, str] = {}
    for revision in closure(script, rows):
        for label in script.get_revision(revision).branch_labels:
            found.setdefault(label, revision)
    return found


def labels_of(script: ScriptDirectory) -> set[str]:
    return set().union(*(rev.branch_labels for rev in script.walk_revisions()))


def read_rows(connection: Connection) -> set[str]:
    if not inspect(connection).has_table(VERSION_TABLE.name):
        return set()
    return set(connection.scalars(select(VERSION_TABLE.c.version_num)))


def write_rows(connection: Connection, rows: set[str]) -> None:
    connection.execute(delete(VERSION_TABLE))
    if rows:
        connection.execute(insert(VERSION_TABLE), [{"version_num": rev} for rev in sorted(rows)])


def read_positions(connection: Connection) -> dict[str, str]:
    if not inspect(connection).has_table(Setting.__tablename__):
        return {}
    value = connection.scalar(select(Setting.value).where(Setting.plugin == CORE, Setting.key == POSITIONS_KEY))
    return dict(value) if isinstance(value, dict) else {}


def write_positions(connection: Connection, recorded: dict[str, str]) -> None:
    where = (Setting.plugin == CORE) & (Setting.key == POSITIONS_KEY)
    connection.execute(delete(Setting).where(where))
    connection.execute(insert(Setting).values(plugin=CORE, key=POSITIONS_KEY, value=dict(sorted(recorded.items()))))
