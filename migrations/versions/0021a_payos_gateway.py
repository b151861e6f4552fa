"""payments: each organisation chooses its gateway (Stripe or payOS) and keeps its payOS credentials
and bank account; a payment names its gateway and the refund it owes; a ledger row names the manager
who recorded it by hand

Revision ID: 0021a
Revises: 0016a
Create Date: 2026-12-01 20:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021a'
down_revision: str | None = '0016a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gateway', sa.String(length=10), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('payos_client_id', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('payos_api_key', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('payos_checksum_key', sa.String(length=500), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('bank_bin', sa.String(length=8), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('bank_account', sa.String(length=19), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('bank_account_name', sa.String(length=100), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gateway', sa.String(length=10), nullable=False, server_default='stripe'))
        batch_op.add_column(sa.Column('refund_owed', sa.BigInteger(), nullable=False, server_default='0'))
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ledger_entries_recorded_by_id'), ['recorded_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_entries_recorded_by_id_users'), 'users',
                                    ['recorded_by_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_entries_recorded_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_ledger_entries_recorded_by_id'))
        batch_op.drop_column('recorded_by_id')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('refund_owed')
        batch_op.drop_column('gateway')
    with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
        for column in ('bank_account_name', 'bank_account', 'bank_bin', 'payos_checksum_key', 'payos_api_key',
                       'payos_client_id', 'gateway'):
            batch_op.drop_column(column)
