"""calendar feeds: one revocable token table for every feed (#14)

The person's booking feed (``booking_feed_tokens``), the resource feed (``resources.feed_token_hash``)
and the mentor feed (``mentor_profiles.feed_token_hash``) move into ``feed_tokens``: the same hashes,
so every address already handed out keeps working.

Revision ID: 0013c
Revises: 0012
Create Date: 2026-12-01 12:45:00
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0013c'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "revoked_at IS NULL"


FEED_TOKENS = sa.table('feed_tokens', sa.column('org_id', sa.Integer()), sa.column('kind', sa.String()),
                       sa.column('owner_id', sa.Integer()), sa.column('token_hash', sa.String()),
                       sa.column('created_at', incubator.core.db.UTCDateTime()))


def move_tokens_in(bind: sa.engine.Connection, now: datetime) -> int:
    """Copy the three old schemes' hashes into ``feed_tokens`` (live, made ``now``); answers how many."""
    rows = []
    for kind, source in (("bookings", "SELECT org_id, user_id, token_hash FROM booking_feed_tokens"),
                         ("resource", "SELECT org_id, id, feed_token_hash FROM resources "
                                      "WHERE feed_token_hash IS NOT NULL"),
                         ("mentor", "SELECT org_id, id, feed_token_hash FROM mentor_profiles "
                                    "WHERE feed_token_hash IS NOT NULL")):
        rows += [{"org_id": org_id, "kind": kind, "owner_id": owner_id, "token_hash": token_hash, "created_at": now}
                 for org_id, owner_id, token_hash in bind.execute(sa.text(source)).all()]
    if rows:
        bind.execute(sa.insert(FEED_TOKENS), rows)
    return len(rows)


def move_tokens_out(bind: sa.engine.Connection) -> None:
    """Downgrade: the live tokens go back to the old columns and table (revoked ones are dropped)."""
    for org_id, kind, owner_id, token_hash in bind.execute(sa.text(
            "SELECT org_id, kind, owner_id, token_hash FROM feed_tokens WHERE revoked_at IS NULL")).all():
        values = {"org_id": org_id, "owner_id": owner_id, "token_hash": token_hash}
        if kind == "bookings":
            bind.execute(sa.text("INSERT INTO booking_feed_tokens (org_id, user_id, token_hash) "
                                 "VALUES (:org_id, :owner_id, :token_hash)"), values)
        elif kind == "resource":
            bind.execute(sa.text("UPDATE resources SET feed_token_hash = :token_hash WHERE id = :owner_id"), values)
        elif kind == "mentor":
            bind.execute(sa.text("UPDATE mentor_profiles SET feed_token_hash = :token_hash WHERE id = :owner_id"),
                         values)


def upgrade() -> None:
    op.create_table('feed_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_feed_tokens_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_feed_tokens_token_hash'))
    )
    with op.batch_alter_table('feed_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_tokens_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_feed_tokens_live', ['org_id', 'kind', 'owner_id'], unique=True,
                              sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))

    move_tokens_in(op.get_bind(), datetime.now(UTC))

    with op.batch_alter_table('booking_feed_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_feed_tokens_org_id'))
    op.drop_table('booking_feed_tokens')
    # (SQLite rebuilds both tables; env.py runs the migrations with foreign keys off, so dropping the
    # old copy of ``resources`` neither cascades to its opening hours nor trips over its bookings.)
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_resources_feed_token_hash'), type_='unique')
        batch_op.drop_column('feed_token_hash')
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_mentor_profiles_feed_token_hash'), type_='unique')
        batch_op.drop_column('feed_token_hash')


def downgrade() -> None:
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_mentor_profiles_feed_token_hash'), ['feed_token_hash'])
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_resources_feed_token_hash'), ['feed_token_hash'])
    op.create_table('booking_feed_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_booking_feed_tokens_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_booking_feed_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_booking_feed_tokens_token_hash')),
    sa.UniqueConstraint('user_id', 'org_id', name=op.f('uq_booking_feed_tokens_user_id_org_id'))
    )
    with op.batch_alter_table('booking_feed_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_feed_tokens_org_id'), ['org_id'], unique=False)

    move_tokens_out(op.get_bind())

    with op.batch_alter_table('feed_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_feed_tokens_live', sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
        batch_op.drop_index(batch_op.f('ix_feed_tokens_org_id'))
    op.drop_table('feed_tokens')
