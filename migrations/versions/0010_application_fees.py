"""application fees paid through payments

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 20:36:47.298796
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('application_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_payments_application_id'), ['application_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_payments_application_id_applications'), 'applications',
                                    ['application_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payments_application_id_applications'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_payments_application_id'))
        batch_op.drop_column('application_id')

