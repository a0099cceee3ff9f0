"""Levels count completed orders: crm_member_stats.completed_spend.

Revision ID: crm_tags_0002
Revises: crm_tags_0001
"""
from alembic import op
import sqlalchemy as sa


revision = 'crm_tags_0002'
down_revision = 'crm_tags_0001'
branch_labels = None
depends_on = 'core_0006'


def upgrade() -> None:
    with op.batch_alter_table('crm_member_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('completed_spend', sa.Integer(), nullable=False, server_default='0'))
    # What the recompute would find: each member's completed orders, less what was refunded.
    # Orders paid before fulfilment existed count once they are completed, like any other.
    op.execute(
        "UPDATE crm_member_stats SET completed_spend = COALESCE(("
        "SELECT SUM(orders.total - orders.refunded_amount) FROM orders "
        "WHERE orders.member_id = crm_member_stats.member_id AND orders.completed_at IS NOT NULL), 0)")


def downgrade() -> None:
    with op.batch_alter_table('crm_member_stats', schema=None) as batch_op:
        batch_op.drop_column('completed_spend')
