"""mentoring: mentor profiles carry a version (the mentor and the managers both edit them, #13)

Revision ID: 0013e
Revises: 0013c
Create Date: 2026-12-01 12:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013e'
down_revision: str | None = '0013c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.drop_column('version')
