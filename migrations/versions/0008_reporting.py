"""reporting: targets, report branding and generated report files

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 18:57:01.039452
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_brandings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('logo_key', sa.String(length=64), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_report_brandings_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_brandings')),
    sa.UniqueConstraint('org_id', name=op.f('uq_report_brandings_org_id'))
    )
    with op.batch_alter_table('report_brandings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_brandings_org_id'), ['org_id'], unique=False)

    op.create_table('report_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('cache_key', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('file_key', sa.String(length=64), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('finished_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_report_exports_org_id_organisations')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_report_exports_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_exports'))
    )
    with op.batch_alter_table('report_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_exports_cache_key'), ['cache_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_exports_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_exports_requested_by_id'), ['requested_by_id'], unique=False)

    op.create_table('report_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_report_targets_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_targets')),
    sa.UniqueConstraint('org_id', 'year', 'metric', name=op.f('uq_report_targets_org_id_year_metric'))
    )
    with op.batch_alter_table('report_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_targets_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_targets_org_id'))

    op.drop_table('report_targets')
    with op.batch_alter_table('report_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_exports_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_report_exports_org_id'))
        batch_op.drop_index(batch_op.f('ix_report_exports_cache_key'))

    op.drop_table('report_exports')
    with op.batch_alter_table('report_brandings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_brandings_org_id'))

    op.drop_table('report_brandings')
