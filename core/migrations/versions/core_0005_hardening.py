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
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1', nullable=False))
    op.create_table('signin_failures',
    sa.Column('realm', sa.String(length=8), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('realm', 'email_hash', name=op.f('pk_signin_failures'))
    )
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_failures_last_failed_at'), ['last_failed_at'], unique=False)
    # -- payments (alarms)
    op.create_table('payment_alarms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('occurrences', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payment_alarms_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_alarms_payment_id_payments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_payment_alarms_refund_id_refunds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by'], ['staff_users.id'], name=op.f('fk_payment_alarms_resolved_by_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_alarms')),
    sa.UniqueConstraint('kind', 'payment_id', name=op.f('uq_payment_alarms_kind_payment_id'))
    )
    with op.batch_alter_table('payment_alarms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_alarms_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_alarms_resolved_at'), ['resolved_at'], unique=False)
    # -- unpaid-order caps (a browser's unpaid orders are counted at each checkout)
    op.create_index('ix_orders_visitor_status', 'orders', ['visitor_id', 'status'], unique=False)
    pass


def downgrade() -> None:
    # -- unpaid-order caps
    op.drop_index('ix_orders_visitor_status', table_name='orders')
    # -- payments (alarms)
    with op.batch_alter_table('payment_alarms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_alarms_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_payment_alarms_order_id'))
    op.drop_table('payment_alarms')
    # -- sessions and sign-in (session versions, lockout)
    with op.batch_alter_table('signin_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_failures_last_failed_at'))
    op.drop_table('signin_failures')
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('session_version')
    pass
