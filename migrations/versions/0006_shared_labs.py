"""shared labs and resource photos

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 18:02:45.783233
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('resource_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('partner_org_id', sa.Integer(), nullable=False),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_resource_shares_org_id_organisations')),
    sa.ForeignKeyConstraint(['partner_org_id'], ['organisations.id'], name=op.f('fk_resource_shares_partner_org_id_organisations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_resource_shares_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resource_shares')),
    sa.UniqueConstraint('resource_id', 'partner_org_id', name=op.f('uq_resource_shares_resource_id_partner_org_id'))
    )
    with op.batch_alter_table('resource_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_shares_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_shares_partner_org_id'), ['partner_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resource_shares_resource_id'), ['resource_id'], unique=False)

    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_key', sa.String(length=64), nullable=True))

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_org_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_bookings_partner_org_id'), ['partner_org_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_bookings_partner_org_id_organisations'), 'organisations', ['partner_org_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_bookings_partner_org_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bookings_partner_org_id'))
        batch_op.drop_column('partner_org_id')

    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_column('photo_key')

    with op.batch_alter_table('resource_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_shares_resource_id'))
        batch_op.drop_index(batch_op.f('ix_resource_shares_partner_org_id'))
        batch_op.drop_index(batch_op.f('ix_resource_shares_org_id'))

    op.drop_table('resource_shares')
