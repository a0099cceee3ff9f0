"""Alembic with one branch per owner: the core's and each enabled plugin's.

Branches are contributed through ``register_migrations``; ``upgrade()`` takes every head,
so installing a plugin and upgrading never touches another plugin's tables. Nothing
migrates implicitly at start-up.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from siyu.core.db import Base

SCRIPT_LOCATION = str(Path(__file__).resolve().parent / "migrations")


def branches(kernel) -> dict[str, str]:
    found: dict[str, str] = {}
    kernel.pm.hook.register_migrations(register=lambda label, path: found.setdefault(label, str(path)))
    return found


def alembic_config(kernel, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("version_locations", " ".join(branches(kernel).values()))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["connection"] = connection
    cfg.attributes["target_metadata"] = Base.metadata
    return cfg


def upgrade(kernel, target: str = "heads") -> None:
    _import_models(kernel)
    with kernel.db.engine.begin() as connection:
        command.upgrade(alembic_config(kernel, connection), target)


def current_heads(kernel) -> set[str]:
    with kernel.db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def pending(kernel) -> bool:
    """True when some enabled branch is not at its head (the app warns at start-up)."""
    script = ScriptDirectory.from_config(alembic_config(kernel))
    return set(script.get_heads()) != current_heads(kernel)


def revision(kernel, message: str, branch: str, autogenerate: bool = True) -> None:
    """Write a new revision on ``branch`` (for developers; see docs/writing-plugins.md).

    A plugin's first revision starts its branch: id ``<branch>_0001``, labelled ``branch``,
    depending on the core's current head.
    """
    _import_models(kernel)
    with kernel.db.engine.begin() as connection:
        cfg = alembic_config(kernel, connection)
        labels = set().union(*(rev.branch_labels or () for rev in ScriptDirectory.from_config(cfg).walk_revisions()))
        where = {"head": f"{branch}@head"} if branch in labels else {
            "head": "base", "branch_label": branch, "rev_id": f"{branch}_0001", "depends_on": "core@head"}
        command.revision(cfg, message=message, autogenerate=autogenerate,
                         version_path=branches(kernel)[branch], **where)


def _import_models(kernel) -> None:
    # Plugins' model modules are imported by the plugins themselves when registered.
    import siyu.core.models  # noqa: F401
