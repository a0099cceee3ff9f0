"""A shop's database schema: one Alembic branch per owner (the core, each enabled plugin).

A plugin contributes its branch with ``register_migrations``; ``upgrade(kernel)`` takes every
head. ``pending(kernel)`` is true while an enabled branch is behind its head.
"""
from siyu.core.migrate import alembic_config, branches, current_heads, pending, upgrade

__all__ = ["upgrade", "pending", "current_heads", "branches", "alembic_config"]
