"""The crm_tags branch builds exactly the tables its models declare, on its own branch."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from siyu.plugin import Base, migrate


def test_branch_matches_models(kernel):
    with kernel.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), Base.metadata)
    mine = [d for d in diff if "crm_" in repr(d)]
    assert mine == []


def test_branch_is_labelled_and_at_head(kernel):
    script = ScriptDirectory.from_config(migrate.alembic_config(kernel))
    assert "crm_tags" in script.get_revision("crm_tags@head").branch_labels
    assert "crm_tags_0002" in migrate.current_heads(kernel)
