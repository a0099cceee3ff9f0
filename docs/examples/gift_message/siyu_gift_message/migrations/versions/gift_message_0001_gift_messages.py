"""gift messages

Revision ID: gift_message_0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = 'gift_message_0001'
down_revision = None
# The plugin's own branch: upgrading it never touches the core's or another plugin's tables.
branch_labels = ('gift_message',)
depends_on = 'core_0001'


def upgrade() -> None:
    op.create_table('gift_message_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_gift_message_messages_member_id_members')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_gift_message_messages_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_message_messages')),
    sa.UniqueConstraint('order_id', name=op.f('uq_gift_message_messages_order_id'))
    )
    with op.batch_alter_table('gift_message_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_message_messages_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('gift_message_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gift_message_messages_member_id'))

    op.drop_table('gift_message_messages')
