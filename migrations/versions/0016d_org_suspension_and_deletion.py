"""orgs: a platform admin suspends or deletes (softly) an organisation

Revision ID: 0016d
Revises: 0017a
Create Date: 2026-12-01 21:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0016d'
down_revision: str | None = '0017a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('suspended_at')
