"""qr_channels: channels, scans, daily rollup, member and order attribution

Revision ID: qr_channels_0001
Revises:
Create Date: 2026-11-23 18:34:12.912840
"""
from alembic import op
import sqlalchemy as sa


revision = 'qr_channels_0001'
down_revision = None
branch_labels = ('qr_channels',)
depends_on = 'core_0001'


def upgrade() -> None:
    op.create_table('qr_channels_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=16), nullable=False),
    sa.Column('target_value', sa.String(length=64), nullable=False),
    sa.Column('notes', sa.String(length=1000), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('scene', sa.String(length=64), nullable=False),
    sa.Column('scene_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qr_channels_channels')),
    sa.UniqueConstraint('scene', name=op.f('uq_qr_channels_channels_scene')),
    sa.UniqueConstraint('scene_id', name=op.f('uq_qr_channels_channels_scene_id'))
    )
    op.create_table('qr_channels_daily_stats',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('scans', sa.Integer(), nullable=False),
    sa.Column('bot_scans', sa.Integer(), nullable=False),
    sa.Column('uniques', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['qr_channels_channels.id'], name=op.f('fk_qr_channels_daily_stats_channel_id_qr_channels_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('channel_id', 'day', name=op.f('pk_qr_channels_daily_stats'))
    )
    op.create_table('qr_channels_daily_visitors',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visitor_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['qr_channels_channels.id'], name=op.f('fk_qr_channels_daily_visitors_channel_id_qr_channels_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('channel_id', 'day', 'visitor_id', name=op.f('pk_qr_channels_daily_visitors'))
    )
    op.create_table('qr_channels_member_attribution',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('first_channel_id', sa.Integer(), nullable=True),
    sa.Column('last_channel_id', sa.Integer(), nullable=True),
    sa.Column('signed_up_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['first_channel_id'], ['qr_channels_channels.id'], name=op.f('fk_qr_channels_member_attribution_first_channel_id_qr_channels_channels')),
    sa.ForeignKeyConstraint(['last_channel_id'], ['qr_channels_channels.id'], name=op.f('fk_qr_channels_member_attribution_last_channel_id_qr_channels_channels')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_qr_channels_member_attribution_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_qr_channels_member_attribution'))
    )
    with op.batch_alter_table('qr_channels_member_attribution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qr_channels_member_attribution_first_channel_id'), ['first_channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qr_channels_member_attribution_last_channel_id'), ['last_channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_qr_channels_member_attribution_signed_up_at'), ['signed_up_at'], unique=False)
    op.create_table('qr_channels_scans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('device', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['qr_channels_channels.id'], name=op.f('fk_qr_channels_scans_channel_id_qr_channels_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_qr_channels_scans_member_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qr_channels_scans'))
    )
    with op.batch_alter_table('qr_channels_scans', schema=None) as batch_op:
        batch_op.create_index('ix_qr_channels_scans_channel_time', ['channel_id', 'created_at'], unique=False)
    op.create_table('qr_channels_order_attribution',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('first_channel_id', sa.Integer(), nullable=True),
    sa.Column('last_channel_id', sa.Integer(), nullable=True),
    sa.Column('placed_at', sa.DateTime(), nullable=False),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.Column('paid_seq', sa.Integer(), nullable=True),
    sa.Column('revenue', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['first_channel_id'], ['qr_channels_channels.id'], name=op.f('fk_qr_channels_order_attribution_first_channel_id_qr_channels_channels')),
    sa.ForeignKeyConstraint(['last_channel_id'], ['qr_channels_channels.id'], name=op.f('fk_qr_channels_order_attribution_last_channel_id_qr_channels_channels')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_qr_channels_order_attribution_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_qr_channels_order_attribution_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_qr_channels_order_attribution'))
    )
    with op.batch_alter_table('qr_channels_order_attribution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qr_channels_order_attribution_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_qr_channels_order_attribution_paid', ['paid_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('qr_channels_order_attribution', schema=None) as batch_op:
        batch_op.drop_index('ix_qr_channels_order_attribution_paid')
        batch_op.drop_index(batch_op.f('ix_qr_channels_order_attribution_member_id'))
    op.drop_table('qr_channels_order_attribution')
    with op.batch_alter_table('qr_channels_scans', schema=None) as batch_op:
        batch_op.drop_index('ix_qr_channels_scans_channel_time')
    op.drop_table('qr_channels_scans')
    with op.batch_alter_table('qr_channels_member_attribution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qr_channels_member_attribution_signed_up_at'))
        batch_op.drop_index(batch_op.f('ix_qr_channels_member_attribution_last_channel_id'))
        batch_op.drop_index(batch_op.f('ix_qr_channels_member_attribution_first_channel_id'))
    op.drop_table('qr_channels_member_attribution')
    op.drop_table('qr_channels_daily_visitors')
    op.drop_table('qr_channels_daily_stats')
    op.drop_table('qr_channels_channels')
