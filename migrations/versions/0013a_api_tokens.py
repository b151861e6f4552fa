"""api: token scopes and expiry, service principals and their tokens, Idempotency-Key outcomes (#13)

Existing tokens keep working: they get the scopes ``read write`` and no expiry.

Revision ID: 0013a
Revises: 0013e
Create Date: 2026-12-01 12:45:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from incubator.core.db import UTCDateTime

revision: str = '0013a'
down_revision: str | None = '0013e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_service', sa.Boolean(), nullable=False, server_default='0'))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=255), nullable=False, server_default='read write'))
        batch_op.add_column(sa.Column('expires_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_tokens_org_id'), ['org_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_api_tokens_org_id_organisations'), 'organisations', ['org_id'],
                                    ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_api_tokens_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_api_tokens_created_by_id_users'), 'users', ['created_by_id'],
                                    ['id'], ondelete='SET NULL')
    op.create_table(
        'idempotency_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_idempotency_keys_owner_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
        sa.UniqueConstraint('owner_id', 'key', name=op.f('uq_idempotency_keys_owner_id_key'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_expires_at'))
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_tokens_created_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_tokens_created_by_id'))
        batch_op.drop_constraint(batch_op.f('fk_api_tokens_org_id_organisations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_tokens_org_id'))
        batch_op.drop_column('created_by_id')
        batch_op.drop_column('org_id')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_service')
