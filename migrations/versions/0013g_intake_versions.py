"""intake: calls and their forms carry a version (ETag / If-Match, two managers editing)

Revision ID: 0013g
Revises: 0013a
Create Date: 2026-12-01 12:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013g'
down_revision: str | None = '0013a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_column('version')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('version')
