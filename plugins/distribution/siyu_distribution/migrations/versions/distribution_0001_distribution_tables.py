"""distribution tables; the ledger refuses UPDATE and DELETE on PostgreSQL

Revision ID: distribution_0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = 'distribution_0001'
down_revision = None
branch_labels = ('distribution',)
depends_on = 'core_0001'

# Ledger rows are facts: corrections are new entries, never edits (balances are sums).
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION distribution_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'distribution_ledger is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql
"""
APPEND_ONLY_TRIGGER = """
CREATE TRIGGER distribution_ledger_append_only
BEFORE UPDATE OR DELETE OR TRUNCATE ON distribution_ledger
FOR EACH STATEMENT EXECUTE FUNCTION distribution_ledger_append_only()
"""


def upgrade() -> None:
    op.create_table('distribution_lessons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_lessons'))
    )
    op.create_table('distribution_distributors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('recruiter_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('motivation', sa.String(length=1000), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('recruiter_id IS NULL OR recruiter_id <> id', name=op.f('ck_distribution_distributors_not_own_recruiter')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_distribution_distributors_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recruiter_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_distributors_recruiter_id_distribution_distributors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_distributors')),
    sa.UniqueConstraint('member_id', name=op.f('uq_distribution_distributors_member_id'))
    )
    with op.batch_alter_table('distribution_distributors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_distributors_recruiter_id'), ['recruiter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_distributors_status'), ['status'], unique=False)

    op.create_table('distribution_product_rates',
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('tier1_bps', sa.Integer(), nullable=False),
    sa.Column('tier2_bps', sa.Integer(), nullable=False),
    sa.Column('tier3_bps', sa.Integer(), nullable=False),
    sa.CheckConstraint('tier1_bps + tier2_bps + tier3_bps <= 10000', name=op.f('ck_distribution_product_rates_at_most_everything')),
    sa.CheckConstraint('tier1_bps >= 0 AND tier2_bps >= 0 AND tier3_bps >= 0', name=op.f('ck_distribution_product_rates_not_negative')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_distribution_product_rates_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('product_id', name=op.f('pk_distribution_product_rates'))
    )
    op.create_table('distribution_bindings',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('bound_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('first_distributor_id', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=False),
    sa.Column('last_distributor_id', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_bindings_distributor_id_distribution_distributors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['first_distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_bindings_first_distributor_id_distribution_distributors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['last_distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_bindings_last_distributor_id_distribution_distributors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_distribution_bindings_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_distribution_bindings'))
    )
    with op.batch_alter_table('distribution_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_bindings_distributor_id'), ['distributor_id'], unique=False)

    op.create_table('distribution_lesson_completions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_lesson_completions_distributor_id_distribution_distributors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['distribution_lessons.id'], name=op.f('fk_distribution_lesson_completions_lesson_id_distribution_lessons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_lesson_completions')),
    sa.UniqueConstraint('distributor_id', 'lesson_id', name=op.f('uq_distribution_lesson_completions_distributor_id_lesson_id'))
    )
    with op.batch_alter_table('distribution_lesson_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_lesson_completions_distributor_id'), ['distributor_id'], unique=False)

    op.create_table('distribution_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_links_distributor_id_distribution_distributors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_links')),
    sa.UniqueConstraint('code', name=op.f('uq_distribution_links_code'))
    )
    with op.batch_alter_table('distribution_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_links_distributor_id'), ['distributor_id'], unique=False)

    op.create_table('distribution_orders',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('tier2_id', sa.Integer(), nullable=True),
    sa.Column('tier3_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('self_purchase', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_orders_distributor_id_distribution_distributors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_distribution_orders_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tier2_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_orders_tier2_id_distribution_distributors'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tier3_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_orders_tier3_id_distribution_distributors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_distribution_orders'))
    )
    with op.batch_alter_table('distribution_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_orders_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_orders_distributor_id'), ['distributor_id'], unique=False)

    op.create_table('distribution_payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('paid_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_distribution_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_payouts_distributor_id_distribution_distributors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_distribution_payouts_staff_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_payouts'))
    )
    with op.batch_alter_table('distribution_payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_payouts_distributor_id'), ['distributor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_payouts_status'), ['status'], unique=False)

    op.create_table('distribution_clicks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('visitor_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_clicks_distributor_id_distribution_distributors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['distribution_links.id'], name=op.f('fk_distribution_clicks_link_id_distribution_links'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_clicks')),
    sa.UniqueConstraint('link_id', 'visitor_id', 'day', name=op.f('uq_distribution_clicks_link_id_visitor_id_day'))
    )
    with op.batch_alter_table('distribution_clicks', schema=None) as batch_op:
        batch_op.create_index('ix_distribution_clicks_distributor_day', ['distributor_id', 'day'], unique=False)

    op.create_table('distribution_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('bucket', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('payout_id', sa.Integer(), nullable=True),
    sa.Column('base', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('tier BETWEEN 0 AND 3', name=op.f('ck_distribution_ledger_tier_range')),
    sa.ForeignKeyConstraint(['distributor_id'], ['distribution_distributors.id'], name=op.f('fk_distribution_ledger_distributor_id_distribution_distributors')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_distribution_ledger_order_id_orders')),
    sa.ForeignKeyConstraint(['payout_id'], ['distribution_payouts.id'], name=op.f('fk_distribution_ledger_payout_id_distribution_payouts')),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_distribution_ledger_refund_id_refunds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_ledger')),
    sa.UniqueConstraint('key', name=op.f('uq_distribution_ledger_key'))
    )
    with op.batch_alter_table('distribution_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_ledger_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_distribution_ledger_distributor_bucket', ['distributor_id', 'bucket'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_ledger_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_ledger_payout_id'), ['payout_id'], unique=False)
        batch_op.create_index('uq_distribution_ledger_accrual', ['order_id', 'distributor_id', 'tier'], unique=True, sqlite_where=sa.text("kind = 'accrual'"), postgresql_where=sa.text("kind = 'accrual'"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        op.execute(APPEND_ONLY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS distribution_ledger_append_only ON distribution_ledger")
        op.execute("DROP FUNCTION IF EXISTS distribution_ledger_append_only()")
    with op.batch_alter_table('distribution_ledger', schema=None) as batch_op:
        batch_op.drop_index('uq_distribution_ledger_accrual', sqlite_where=sa.text("kind = 'accrual'"), postgresql_where=sa.text("kind = 'accrual'"))
        batch_op.drop_index(batch_op.f('ix_distribution_ledger_payout_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_ledger_order_id'))
        batch_op.drop_index('ix_distribution_ledger_distributor_bucket')
        batch_op.drop_index(batch_op.f('ix_distribution_ledger_created_at'))

    op.drop_table('distribution_ledger')
    with op.batch_alter_table('distribution_clicks', schema=None) as batch_op:
        batch_op.drop_index('ix_distribution_clicks_distributor_day')

    op.drop_table('distribution_clicks')
    with op.batch_alter_table('distribution_payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_payouts_status'))
        batch_op.drop_index(batch_op.f('ix_distribution_payouts_distributor_id'))

    op.drop_table('distribution_payouts')
    with op.batch_alter_table('distribution_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_orders_distributor_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_orders_created_at'))

    op.drop_table('distribution_orders')
    with op.batch_alter_table('distribution_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_links_distributor_id'))

    op.drop_table('distribution_links')
    with op.batch_alter_table('distribution_lesson_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_lesson_completions_distributor_id'))

    op.drop_table('distribution_lesson_completions')
    with op.batch_alter_table('distribution_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_bindings_distributor_id'))

    op.drop_table('distribution_bindings')
    op.drop_table('distribution_product_rates')
    with op.batch_alter_table('distribution_distributors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_distributors_status'))
        batch_op.drop_index(batch_op.f('ix_distribution_distributors_recruiter_id'))

    op.drop_table('distribution_distributors')
    op.drop_table('distribution_lessons')
