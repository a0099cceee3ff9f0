"""coupons: templates, wallet coupons, redemptions

Revision ID: coupons_0001
Revises:
Create Date: 2026-11-23 18:50:28.113990
"""
from alembic import op
import sqlalchemy as sa


revision = 'coupons_0001'
down_revision = None
branch_labels = ('coupons',)
depends_on = 'core_0001'


def upgrade() -> None:
    op.create_table('coupons_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('percent_bp', sa.Integer(), nullable=False),
    sa.Column('max_discount', sa.Integer(), nullable=True),
    sa.Column('min_spend', sa.Integer(), nullable=False),
    sa.Column('repeat', sa.Boolean(), nullable=False),
    sa.Column('valid_from', sa.DateTime(), nullable=True),
    sa.Column('valid_until', sa.DateTime(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=True),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('per_member_limit', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('with_member_price', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount >= 0 AND min_spend >= 0', name=op.f('ck_coupons_templates_amounts_not_negative')),
    sa.CheckConstraint('issued >= 0', name=op.f('ck_coupons_templates_issued_not_negative')),
    sa.CheckConstraint('per_member_limit >= 1', name=op.f('ck_coupons_templates_limit_positive')),
    sa.CheckConstraint('percent_bp >= 0 AND percent_bp <= 10000', name=op.f('ck_coupons_templates_percent_in_range')),
    sa.CheckConstraint('quantity IS NULL OR issued <= quantity', name=op.f('ck_coupons_templates_issued_within_quantity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons_templates')),
    sa.UniqueConstraint('code', name=op.f('uq_coupons_templates_code'))
    )
    op.create_table('coupons_template_products',
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_coupons_template_products_product_id_products'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['coupons_templates.id'], name=op.f('fk_coupons_template_products_template_id_coupons_templates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('template_id', 'product_id', name=op.f('pk_coupons_template_products'))
    )
    op.create_table('coupons_coupons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=100), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=True),
    sa.Column('valid_from', sa.DateTime(), nullable=True),
    sa.Column('valid_until', sa.DateTime(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('reserved_at', sa.DateTime(), nullable=True),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('discount', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('available', 'reserved', 'used')", name=op.f('ck_coupons_coupons_status_known')),
    sa.CheckConstraint('seq >= 1', name=op.f('ck_coupons_coupons_seq_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_coupons_coupons_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_coupons_coupons_order_id_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['template_id'], ['coupons_templates.id'], name=op.f('fk_coupons_coupons_template_id_coupons_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons_coupons')),
    sa.UniqueConstraint('order_id', name=op.f('uq_coupons_coupons_order_id')),
    sa.UniqueConstraint('template_id', 'member_id', 'ref', name=op.f('uq_coupons_coupons_template_id_member_id_ref')),
    sa.UniqueConstraint('template_id', 'member_id', 'seq', name=op.f('uq_coupons_coupons_template_id_member_id_seq'))
    )
    with op.batch_alter_table('coupons_coupons', schema=None) as batch_op:
        batch_op.create_index('ix_coupons_coupons_member_status', ['member_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupons_coupons_template_id'), ['template_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupons_coupons_valid_until'), ['valid_until'], unique=False)

    op.create_table('coupons_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('discount', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons_coupons.id'], name=op.f('fk_coupons_redemptions_coupon_id_coupons_coupons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_coupons_redemptions_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['coupons_templates.id'], name=op.f('fk_coupons_redemptions_template_id_coupons_templates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons_redemptions')),
    sa.UniqueConstraint('coupon_id', 'order_id', name=op.f('uq_coupons_redemptions_coupon_id_order_id'))
    )
    with op.batch_alter_table('coupons_redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupons_redemptions_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupons_redemptions_template_id'), ['template_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('coupons_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupons_redemptions_template_id'))
        batch_op.drop_index(batch_op.f('ix_coupons_redemptions_order_id'))

    op.drop_table('coupons_redemptions')
    with op.batch_alter_table('coupons_coupons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupons_coupons_valid_until'))
        batch_op.drop_index(batch_op.f('ix_coupons_coupons_template_id'))
        batch_op.drop_index('ix_coupons_coupons_member_status')

    op.drop_table('coupons_coupons')
    op.drop_table('coupons_template_products')
    op.drop_table('coupons_templates')
