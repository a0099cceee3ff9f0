"""The core's Alembic branch builds exactly the schema the models declare."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from siyu.core import migrate
from siyu.core.db import Base
from siyu.core.plugins import installed_entry_points


def _disabled_plugin_tables(kernel, diff):
    """Tables of installed plugins this shop has not enabled (their models may be imported by
    other tests in the same run; their branches are not migrated here). A table's owner is
    the package of the model that maps it, so any table prefix works."""
    disabled = {ep.value.split(".")[0] for ep in installed_entry_points()
                if kernel.pm.get_plugin(ep.name) is None}
    owners = {mapper.local_table.name: mapper.class_.__module__.split(".")[0]
              for mapper in Base.registry.mappers}
    for item in diff:
        obj = item[1] if isinstance(item, tuple) and len(item) > 1 else None
        name = getattr(getattr(obj, "table", obj), "name", "")
        if item[0] in ("add_table", "add_index") and owners.get(name) in disabled:
            yield item


def test_upgrade_matches_models(kernel):
    with kernel.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}),
                                Base.metadata)
    ignored = list(_disabled_plugin_tables(kernel, diff))
    assert [item for item in diff if item not in ignored] == []


def test_core_branch_is_labelled_and_at_head(kernel):
    script = ScriptDirectory.from_config(migrate.alembic_config(kernel))
    assert "core" in script.get_revision("core@head").branch_labels or \
        any("core" in (rev.branch_labels or ()) for rev in script.walk_revisions())
    assert migrate.current_heads(kernel) == set(script.get_heads())
    assert not migrate.pending(kernel)


def test_db_upgrade_command_is_idempotent(runner, kernel):
    heads = set(ScriptDirectory.from_config(migrate.alembic_config(kernel)).get_heads())
    result = runner.invoke(args=["siyu", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert all(head in result.output for head in heads)
    assert migrate.current_heads(kernel) == heads
