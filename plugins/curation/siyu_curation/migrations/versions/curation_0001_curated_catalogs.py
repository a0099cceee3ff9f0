"""curated catalogs

Revision ID: curation_0001
Revises: 
Create Date: 2026-11-23
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = 'curation_0001'
down_revision = None
branch_labels = ('curation',)
depends_on = 'core_0001'


def upgrade() -> None:
    op.create_table('curation_catalogs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('owner_key', sa.String(length=64), nullable=True),
    sa.Column('cap', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('cap >= 1 AND cap <= 50', name=op.f('ck_curation_catalogs_cap_within_ceiling')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_curation_catalogs')),
    sa.UniqueConstraint('key', name=op.f('uq_curation_catalogs_key'))
    )
    with op.batch_alter_table('curation_catalogs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_curation_catalogs_owner_key'), ['owner_key'], unique=False)

    op.create_table('curation_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('catalog_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('featured', sa.Boolean(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('added_by', sa.Integer(), nullable=True),
    sa.CheckConstraint('seat >= 1 AND seat <= 50', name=op.f('ck_curation_items_seat_within_ceiling')),
    sa.ForeignKeyConstraint(['added_by'], ['staff_users.id'], name=op.f('fk_curation_items_added_by_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['catalog_id'], ['curation_catalogs.id'], name=op.f('fk_curation_items_catalog_id_curation_catalogs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_curation_items_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_curation_items')),
    sa.UniqueConstraint('catalog_id', 'product_id', name=op.f('uq_curation_items_catalog_id_product_id')),
    sa.UniqueConstraint('catalog_id', 'seat', name=op.f('uq_curation_items_catalog_id_seat'))
    )
    with op.batch_alter_table('curation_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_curation_items_catalog_id'), ['catalog_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_curation_items_product_id'), ['product_id'], unique=False)

    # The shop's main catalog exists from the start, so the first publishes never race to create it.
    catalogs = sa.table('curation_catalogs', sa.column('key', sa.String), sa.column('title', sa.String),
                        sa.column('cap', sa.Integer), sa.column('created_at', sa.DateTime))
    op.bulk_insert(catalogs, [{'key': 'main', 'title': 'Main catalog', 'cap': 30,
                               'created_at': datetime.now(timezone.utc).replace(tzinfo=None)}])


def downgrade() -> None:
    with op.batch_alter_table('curation_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_curation_items_product_id'))
        batch_op.drop_index(batch_op.f('ix_curation_items_catalog_id'))

    op.drop_table('curation_items')
    with op.batch_alter_table('curation_catalogs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_curation_catalogs_owner_key'))

    op.drop_table('curation_catalogs')
