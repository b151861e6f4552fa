"""payments: the seller's legal name, address, tax code and VAT rate on the organisation's payment
settings; the buyer's name, company, tax code and address and the VAT rate on each payment (receipts
and the monthly e-invoice export)

Revision ID: 0021b
Revises: 0016d
Create Date: 2026-12-01 21:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021b'
down_revision: str | None = '0016d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SELLER = (('legal_name', 200), ('legal_address', 300), ('tax_code', 14))
BUYER = (('buyer_name', 200), ('buyer_company', 200), ('buyer_tax_code', 14), ('buyer_address', 300))


def upgrade() -> None:
    with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
        for name, length in SELLER:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('vat_rate', sa.SmallInteger(), nullable=True))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        for name, length in BUYER:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('vat_rate', sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        for name in ('vat_rate', *(name for name, _ in reversed(BUYER))):
            batch_op.drop_column(name)
    with op.batch_alter_table('payment_accounts', schema=None) as batch_op:
        for name in ('vat_rate', *(name for name, _ in reversed(SELLER))):
            batch_op.drop_column(name)
