"""cohorts: startups and check-ins carry a version for ETag / If-Match (#13)

Revision ID: 0013f
Revises: 0013b
Create Date: 2026-12-01 12:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013f'
down_revision: str | None = '0013b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('startups', 'checkins'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    for table in ('checkins', 'startups'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
