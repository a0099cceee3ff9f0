"""job slots: scheduled jobs run at most once per slot across workers

Revision ID: core_0007
Revises: core_0006
Create Date: 2026-12-09
"""
from alembic import op
import sqlalchemy as sa


revision = 'core_0007'
down_revision = 'core_0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=100), nullable=False),
    sa.Column('slot_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_slots')),
    sa.UniqueConstraint('job', 'slot_at', name=op.f('uq_job_slots_job_slot_at'))
    )


def downgrade() -> None:
    op.drop_table('job_slots')
