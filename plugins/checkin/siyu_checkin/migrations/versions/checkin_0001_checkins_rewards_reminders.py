"""check-ins, member totals, rewards and reminders

Revision ID: checkin_0001
Revises:
Create Date: 2026-11-23 18:49:38.852496
"""
from alembic import op
import sqlalchemy as sa


revision = 'checkin_0001'
down_revision = None
branch_labels = ('checkin',)
depends_on = 'core_0003'


def upgrade() -> None:
    op.create_table('checkin_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('streak', sa.Integer(), nullable=False),
    sa.Column('bridged', sa.Boolean(), nullable=False),
    sa.Column('points_cost', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_checkin_checkins_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_checkins')),
    sa.UniqueConstraint('member_id', 'local_date', name=op.f('uq_checkin_checkins_member_id_local_date'))
    )
    with op.batch_alter_table('checkin_checkins', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_checkins_local_date', ['local_date'], unique=False)

    op.create_table('checkin_members',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('current_streak', sa.Integer(), nullable=False),
    sa.Column('best_streak', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('last_date', sa.Date(), nullable=True),
    sa.Column('last_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_checkin_members_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_checkin_members'))
    )
    with op.batch_alter_table('checkin_members', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_members_last_date', ['last_date'], unique=False)

    op.create_table('checkin_rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('coupon', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('ref', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkin_checkins.id'], name=op.f('fk_checkin_rewards_checkin_id_checkin_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_checkin_rewards_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_rewards')),
    sa.UniqueConstraint('ref', name=op.f('uq_checkin_rewards_ref'))
    )
    with op.batch_alter_table('checkin_rewards', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_rewards_member_id', ['member_id'], unique=False)

    op.create_table('checkin_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('window_until', sa.DateTime(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_checkin_reminders_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_checkin_reminders_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_reminders')),
    sa.UniqueConstraint('member_id', 'channel', 'window_until', name=op.f('uq_checkin_reminders_member_id_channel_window_until'))
    )


def downgrade() -> None:
    op.drop_table('checkin_reminders')
    with op.batch_alter_table('checkin_rewards', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_rewards_member_id')

    op.drop_table('checkin_rewards')
    with op.batch_alter_table('checkin_members', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_members_last_date')

    op.drop_table('checkin_members')
    with op.batch_alter_table('checkin_checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkin_checkins_local_date')

    op.drop_table('checkin_checkins')
