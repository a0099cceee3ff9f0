"""fulfilment: addresses, delivery, shipments, after-sales

Revision ID: core_0006
Revises: core_0005
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = 'core_0006'
down_revision = 'core_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
