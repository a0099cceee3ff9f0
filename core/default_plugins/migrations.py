"""Registers the core's own Alembic branch, exactly as a plugin registers its branch."""
from pathlib import Path

from siyu.core import hookimpl

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


@hookimpl(tryfirst=True)
def register_migrations(register):
    register("core", str(VERSIONS))
