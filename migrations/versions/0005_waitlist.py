"""waitlist

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:50:05.854511
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_waitlist_entries_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_waitlist_entries_org_id_organisations')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_waitlist_entries_resource_id_resources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_waitlist_entries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entries_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entries_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entries_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_waitlist_resource_start', ['resource_id', 'starts_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_resource_start')
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_user_id'))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_org_id'))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_booking_id'))

    op.drop_table('waitlist_entries')
