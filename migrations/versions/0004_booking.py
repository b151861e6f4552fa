"""booking

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 17:28:56.055822
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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

    op.create_table('labs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('site', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_labs_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labs'))
    )
    with op.batch_alter_table('labs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_labs_org_id'), ['org_id'], unique=False)

    op.create_table('trainings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('validity_months', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_trainings_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainings'))
    )
    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trainings_org_id'), ['org_id'], unique=False)

    op.create_table('certifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('training_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('certified_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('certified_by_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['certified_by_id'], ['users.id'], name=op.f('fk_certifications_certified_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_certifications_org_id_organisations')),
    sa.ForeignKeyConstraint(['training_id'], ['trainings.id'], name=op.f('fk_certifications_training_id_trainings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_certifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certifications'))
    )
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certifications_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certifications_training_id'), ['training_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certifications_user_id'), ['user_id'], unique=False)
        batch_op.create_index('ix_certifications_user_training', ['user_id', 'training_id'], unique=False)

    op.create_table('resources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lab_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('open_24h', sa.Boolean(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('min_minutes', sa.Integer(), nullable=False),
    sa.Column('max_minutes', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('max_days_ahead', sa.Integer(), nullable=False),
    sa.Column('min_notice_minutes', sa.Integer(), nullable=False),
    sa.Column('max_hours_per_week', sa.Integer(), nullable=True),
    sa.Column('needs_approval', sa.Boolean(), nullable=False),
    sa.Column('training_id', sa.Integer(), nullable=True),
    sa.Column('free_cancellation_hours', sa.Integer(), nullable=False),
    sa.Column('no_show_minutes', sa.Integer(), nullable=False),
    sa.Column('price_member', sa.Integer(), nullable=False),
    sa.Column('price_partner', sa.Integer(), nullable=False),
    sa.Column('price_external', sa.Integer(), nullable=False),
    sa.Column('feed_token_hash', sa.String(length=64), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('buffer_minutes >= 0', name=op.f('ck_resources_buffer')),
    sa.CheckConstraint('min_minutes > 0 AND max_minutes >= min_minutes', name=op.f('ck_resources_durations')),
    sa.CheckConstraint('price_member >= 0 AND price_partner >= 0 AND price_external >= 0', name=op.f('ck_resources_prices')),
    sa.CheckConstraint('slot_minutes > 0', name=op.f('ck_resources_slot')),
    sa.ForeignKeyConstraint(['lab_id'], ['labs.id'], name=op.f('fk_resources_lab_id_labs')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_resources_org_id_organisations')),
    sa.ForeignKeyConstraint(['training_id'], ['trainings.id'], name=op.f('fk_resources_training_id_trainings'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resources')),
    sa.UniqueConstraint('feed_token_hash', name=op.f('uq_resources_feed_token_hash'))
    )
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resources_lab_id'), ['lab_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resources_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resources_training_id'), ['training_id'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('blocked_until', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('credit_minutes', sa.Integer(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('hold_expires_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('blocked_until >= ends_at', name=op.f('ck_bookings_blocked')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_bookings_order')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_bookings_org_id_organisations')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_bookings_resource_id_resources')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_bookings_startup_id_startups'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_bookings_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_bookings_resource_start', ['resource_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_bookings_status_hold', ['status', 'hold_expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_startup_id'), ['startup_id'], unique=False)
        batch_op.create_index('ix_bookings_user_start', ['user_id', 'starts_at'], unique=False)

    op.create_table('closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=255), nullable=False),
    sa.Column('maintenance', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_closures_order')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_closures_org_id_organisations')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_closures_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closures'))
    )
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closures_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_closures_resource_start', ['resource_id', 'starts_at'], unique=False)

    op.create_table('opening_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Time(), nullable=False),
    sa.Column('closes', sa.Time(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('closes > opens', name=op.f('ck_opening_hours_order')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_opening_hours_weekday')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_opening_hours_org_id_organisations')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_opening_hours_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opening_hours'))
    )
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opening_hours_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opening_hours_resource_id'), ['resource_id'], unique=False)

    op.create_table('credit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('resource_kind', sa.String(length=12), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_credit_entries_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_credit_entries_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_credit_entries_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_credit_entries_startup_id_startups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_entries'))
    )
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_entries_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_entries_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_entries_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_credit_entries_startup_kind', ['startup_id', 'resource_kind'], unique=False)

    # No double booking, guaranteed by PostgreSQL: active bookings of one resource may not overlap,
    # half-open ranges so back to back is allowed. Written by hand: Alembic does not model it.
    if op.get_bind().dialect.name == "postgresql":
        # In ``public`` and named with its schema: a migration run with another schema first on the
        # search path (the benchmarks' own schemas) would otherwise create the extension there, out of
        # sight of every other schema of the database.
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
        op.execute(
            "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_no_overlap EXCLUDE USING gist "
            "(resource_id public.gist_int4_ops WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
            "WHERE (status IN ('held', 'pending_approval', 'awaiting_payment', 'confirmed', 'completed'))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bookings DROP CONSTRAINT IF EXISTS ex_bookings_no_overlap")
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_entries_startup_kind')
        batch_op.drop_index(batch_op.f('ix_credit_entries_org_id'))
        batch_op.drop_index(batch_op.f('ix_credit_entries_cohort_id'))
        batch_op.drop_index(batch_op.f('ix_credit_entries_booking_id'))

    op.drop_table('credit_entries')
    with op.batch_alter_table('opening_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opening_hours_resource_id'))
        batch_op.drop_index(batch_op.f('ix_opening_hours_org_id'))

    op.drop_table('opening_hours')
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.drop_index('ix_closures_resource_start')
        batch_op.drop_index(batch_op.f('ix_closures_org_id'))

    op.drop_table('closures')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_user_start')
        batch_op.drop_index(batch_op.f('ix_bookings_startup_id'))
        batch_op.drop_index('ix_bookings_status_hold')
        batch_op.drop_index('ix_bookings_resource_start')
        batch_op.drop_index(batch_op.f('ix_bookings_org_id'))

    op.drop_table('bookings')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resources_training_id'))
        batch_op.drop_index(batch_op.f('ix_resources_org_id'))
        batch_op.drop_index(batch_op.f('ix_resources_lab_id'))

    op.drop_table('resources')
    with op.batch_alter_table('certifications', schema=None) as batch_op:
        batch_op.drop_index('ix_certifications_user_training')
        batch_op.drop_index(batch_op.f('ix_certifications_user_id'))
        batch_op.drop_index(batch_op.f('ix_certifications_training_id'))
        batch_op.drop_index(batch_op.f('ix_certifications_org_id'))

    op.drop_table('certifications')
    with op.batch_alter_table('trainings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trainings_org_id'))

    op.drop_table('trainings')
    with op.batch_alter_table('labs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_labs_org_id'))

    op.drop_table('labs')
    with op.batch_alter_table('booking_feed_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_feed_tokens_org_id'))

    op.drop_table('booking_feed_tokens')
