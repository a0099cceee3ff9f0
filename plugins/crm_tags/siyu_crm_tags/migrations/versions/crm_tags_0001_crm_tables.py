"""CRM tables: tags, member stats, the points ledger and lots, levels, segments, jobs.

Revision ID: crm_tags_0001
Revises:
"""
from alembic import op
import sqlalchemy as sa


revision = 'crm_tags_0001'
down_revision = None
branch_labels = ('crm_tags',)
depends_on = 'core_0001'


def upgrade() -> None:
    op.create_table('crm_levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('price_percent', sa.Integer(), nullable=False),
    sa.Column('exclusive_skus', sa.JSON(), nullable=False),
    sa.Column('benefits', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_levels')),
    sa.UniqueConstraint('name', name=op.f('uq_crm_levels_name')),
    sa.UniqueConstraint('threshold', name=op.f('uq_crm_levels_threshold'))
    )
    op.create_table('crm_recompute_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_recompute_jobs'))
    )
    with op.batch_alter_table('crm_recompute_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_recompute_jobs_status'), ['status'], unique=False)
    op.create_table('crm_segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_segments')),
    sa.UniqueConstraint('name', name=op.f('uq_crm_segments_name'))
    )
    op.create_table('crm_tag_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_tag_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_crm_tag_groups_name'))
    )
    op.create_table('crm_member_stats',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('orders_count', sa.Integer(), nullable=False),
    sa.Column('spend', sa.Integer(), nullable=False),
    sa.Column('first_order_at', sa.DateTime(), nullable=True),
    sa.Column('last_order_at', sa.DateTime(), nullable=True),
    sa.Column('f_band', sa.Integer(), nullable=False),
    sa.Column('m_band', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('points_earned', sa.Integer(), nullable=False),
    sa.Column('level_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=128), nullable=True),
    sa.Column('distributor', sa.String(length=64), nullable=True),
    sa.Column('checkin_streak', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['level_id'], ['crm_levels.id'], name=op.f('fk_crm_member_stats_level_id_crm_levels'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_crm_member_stats_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_crm_member_stats'))
    )
    with op.batch_alter_table('crm_member_stats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_member_stats_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_member_stats_distributor'), ['distributor'], unique=False)
        batch_op.create_index('ix_crm_member_stats_fm', ['f_band', 'm_band'], unique=False)
        batch_op.create_index('ix_crm_member_stats_last_order', ['last_order_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_member_stats_level_id'), ['level_id'], unique=False)
    op.create_table('crm_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('rule', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['crm_tag_groups.id'], name=op.f('fk_crm_tags_group_id_crm_tag_groups'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_tags')),
    sa.UniqueConstraint('group_id', 'name', name=op.f('uq_crm_tags_group_id_name'))
    )
    op.create_table('crm_member_tags',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_crm_member_tags_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_crm_member_tags_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tag_id'], ['crm_tags.id'], name=op.f('fk_crm_member_tags_tag_id_crm_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'tag_id', name=op.f('pk_crm_member_tags'))
    )
    with op.batch_alter_table('crm_member_tags', schema=None) as batch_op:
        batch_op.create_index('ix_crm_member_tags_tag_member', ['tag_id', 'member_id'], unique=False)
    op.create_table('crm_point_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('ref', sa.String(length=128), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_crm_point_entries_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_crm_point_entries_order_id_orders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_point_entries')),
    sa.UniqueConstraint('member_id', 'kind', 'ref', name=op.f('uq_crm_point_entries_member_id_kind_ref'))
    )
    with op.batch_alter_table('crm_point_entries', schema=None) as batch_op:
        batch_op.create_index('ix_crm_point_entries_member_id_id', ['member_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_point_entries_order_id'), ['order_id'], unique=False)
    op.create_table('crm_point_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('remaining >= 0 AND remaining <= points', name=op.f('ck_crm_point_lots_remaining_in_range')),
    sa.ForeignKeyConstraint(['entry_id'], ['crm_point_entries.id'], name=op.f('fk_crm_point_lots_entry_id_crm_point_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_crm_point_lots_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_point_lots'))
    )
    with op.batch_alter_table('crm_point_lots', schema=None) as batch_op:
        batch_op.create_index('ix_crm_point_lots_expiry_open', ['expires_at', 'remaining'], unique=False)
        batch_op.create_index('ix_crm_point_lots_member_expiry', ['member_id', 'expires_at'], unique=False)
    op.create_table('crm_point_spends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['crm_point_entries.id'], name=op.f('fk_crm_point_spends_entry_id_crm_point_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lot_id'], ['crm_point_lots.id'], name=op.f('fk_crm_point_spends_lot_id_crm_point_lots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_point_spends'))
    )
    with op.batch_alter_table('crm_point_spends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_point_spends_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crm_point_spends_lot_id'), ['lot_id'], unique=False)


def downgrade() -> None:
    for table in ("crm_point_spends", "crm_point_lots", "crm_point_entries", "crm_member_tags", "crm_tags",
                  "crm_member_stats", "crm_tag_groups", "crm_segments", "crm_recompute_jobs", "crm_levels"):
        op.drop_table(table)
