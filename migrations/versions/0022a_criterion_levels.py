"""intake: what each score of a rubric criterion means (``criteria.levels``, in English and Vietnamese),
shown to reviewers as they score

Revision ID: 0022a
Revises: 0021b
Create Date: 2026-12-02 01:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022a'
down_revision: str | None = '0021b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.add_column(sa.Column('levels', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.drop_column('levels')
