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
    # Existing rows: every product and order line ships and every order was an express
    # order (server defaults below); new rows get their values from the application.
    op.create_table('member_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('recipient', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('province_code', sa.String(length=12), nullable=False),
    sa.Column('province_name', sa.String(length=50), nullable=False),
    sa.Column('city_code', sa.String(length=12), nullable=False),
    sa.Column('city_name', sa.String(length=50), nullable=False),
    sa.Column('district_code', sa.String(length=12), nullable=False),
    sa.Column('district_name', sa.String(length=50), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_addresses_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_addresses'))
    )
    with op.batch_alter_table('member_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_addresses_member_id'), ['member_id'], unique=False)
        batch_op.create_index('uq_member_addresses_default', ['member_id'], unique=True, sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))

    op.create_table('order_deliveries',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('pickup_code', sa.String(length=32), nullable=False),
    sa.Column('pickup_name', sa.String(length=100), nullable=False),
    sa.Column('pickup_address', sa.String(length=200), nullable=False),
    sa.Column('pickup_hours', sa.String(length=100), nullable=False),
    sa.Column('recipient', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('province_code', sa.String(length=12), nullable=False),
    sa.Column('province_name', sa.String(length=50), nullable=False),
    sa.Column('city_code', sa.String(length=12), nullable=False),
    sa.Column('city_name', sa.String(length=50), nullable=False),
    sa.Column('district_code', sa.String(length=12), nullable=False),
    sa.Column('district_name', sa.String(length=50), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_deliveries_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_order_deliveries'))
    )
    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('carrier_code', sa.String(length=32), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('shipped_at', sa.DateTime(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_shipments_staff_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipments_tracking_number'), ['tracking_number'], unique=False)

    op.create_table('shipment_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_shipment_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_shipment_lines_order_line_id_order_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'], name=op.f('fk_shipment_lines_shipment_id_shipments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_lines')),
    sa.UniqueConstraint('shipment_id', 'order_line_id', name=op.f('uq_shipment_lines_shipment_id_order_line_id'))
    )
    with op.batch_alter_table('shipment_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_lines_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_shipment_lines_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('after_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('unshipped', sa.Boolean(), nullable=False),
    sa.Column('return_carrier', sa.String(length=32), nullable=False),
    sa.Column('return_tracking_number', sa.String(length=64), nullable=False),
    sa.Column('decision_note', sa.String(length=200), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('refund_key', sa.String(length=128), nullable=True),
    sa.Column('refund_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('returned_at', sa.DateTime(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=True),
    sa.Column('refunded_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_after_sales_amount_positive')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_after_sales_quantity_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_after_sales_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_after_sales_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_after_sales_order_line_id_order_lines'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'], name=op.f('fk_after_sales_refund_id_refunds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_after_sales_staff_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_after_sales')),
    sa.UniqueConstraint('refund_key', name=op.f('uq_after_sales_refund_key'))
    )
    with op.batch_alter_table('after_sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_after_sales_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sales_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_after_sales_order_line_id'), ['order_line_id'], unique=False)
        batch_op.create_index('ix_after_sales_state_created', ['state', 'created_at'], unique=False)

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_shipping', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_method', sa.String(length=12), nullable=False, server_default='express'))
        batch_op.add_column(sa.Column('shipped_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('completed_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_orders_completed_at'), ['completed_at'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_shipping', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('requires_shipping')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_completed_at'))
        batch_op.drop_column('completed_at')
        batch_op.drop_column('shipped_at')
        batch_op.drop_column('delivery_method')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('requires_shipping')

    with op.batch_alter_table('after_sales', schema=None) as batch_op:
        batch_op.drop_index('ix_after_sales_state_created')
        batch_op.drop_index(batch_op.f('ix_after_sales_order_line_id'))
        batch_op.drop_index(batch_op.f('ix_after_sales_order_id'))
        batch_op.drop_index(batch_op.f('ix_after_sales_member_id'))

    op.drop_table('after_sales')
    with op.batch_alter_table('shipment_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_lines_shipment_id'))
        batch_op.drop_index(batch_op.f('ix_shipment_lines_order_line_id'))

    op.drop_table('shipment_lines')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipments_tracking_number'))
        batch_op.drop_index(batch_op.f('ix_shipments_order_id'))

    op.drop_table('shipments')
    op.drop_table('order_deliveries')
    with op.batch_alter_table('member_addresses', schema=None) as batch_op:
        batch_op.drop_index('uq_member_addresses_default', sqlite_where=sa.text('is_default'), postgresql_where=sa.text('is_default'))
        batch_op.drop_index(batch_op.f('ix_member_addresses_member_id'))

    op.drop_table('member_addresses')
