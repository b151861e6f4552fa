"""mentoring

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:18:30.364354
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mentor_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('headline', sa.String(length=255), nullable=False),
    sa.Column('affiliation', sa.String(length=20), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('expertise', sa.JSON(), nullable=False),
    sa.Column('industries', sa.JSON(), nullable=False),
    sa.Column('stages', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('hours_per_month', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('feed_token_hash', sa.String(length=64), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_mentor_profiles_capacity')),
    sa.CheckConstraint('hours_per_month >= 0', name=op.f('ck_mentor_profiles_hours')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_mentor_profiles_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mentor_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_profiles')),
    sa.UniqueConstraint('feed_token_hash', name=op.f('uq_mentor_profiles_feed_token_hash')),
    sa.UniqueConstraint('org_id', 'user_id', name=op.f('uq_mentor_profiles_org_id_user_id'))
    )
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_profiles_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_profiles_user_id'), ['user_id'], unique=False)

    op.create_table('availability_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('starts', sa.Time(), nullable=False),
    sa.Column('ends', sa.Time(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('ends > starts', name=op.f('ck_availability_windows_order')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_availability_windows_weekday')),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor_profiles.id'], name=op.f('fk_availability_windows_mentor_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_availability_windows_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_windows'))
    )
    with op.batch_alter_table('availability_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_windows_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_availability_windows_org_id'), ['org_id'], unique=False)

    op.create_table('mentor_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor_profiles.id'], name=op.f('fk_mentor_conflicts_mentor_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_mentor_conflicts_org_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_mentor_conflicts_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_mentor_conflicts_startup_id_startups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_conflicts')),
    sa.UniqueConstraint('mentor_id', 'startup_id', name=op.f('uq_mentor_conflicts_mentor_id_startup_id'))
    )
    with op.batch_alter_table('mentor_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_conflicts_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_conflicts_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_conflicts_recorded_by_id'), ['recorded_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_conflicts_startup_id'), ['startup_id'], unique=False)

    op.create_table('mentoring_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('needs', sa.JSON(), nullable=False),
    sa.Column('industry', sa.String(length=40), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_mentoring_needs_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_mentoring_needs_startup_id_startups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentoring_needs')),
    sa.UniqueConstraint('startup_id', name=op.f('uq_mentoring_needs_startup_id'))
    )
    with op.batch_alter_table('mentoring_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentoring_needs_org_id'), ['org_id'], unique=False)

    op.create_table('match_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('per_startup', sa.Integer(), nullable=False),
    sa.Column('participation_first', sa.Boolean(), nullable=False),
    sa.Column('total_score', sa.Double(), nullable=False),
    sa.Column('why_not_best', sa.JSON(), nullable=False),
    sa.Column('unmatched', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_match_runs_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_match_runs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_match_runs_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_runs'))
    )
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_runs_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_runs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_runs_org_id'), ['org_id'], unique=False)

    op.create_table('matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('mentor_accepted', sa.Boolean(), nullable=True),
    sa.Column('founder_accepted', sa.Boolean(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_matches_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor_profiles.id'], name=op.f('fk_matches_mentor_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_matches_org_id_organisations')),
    sa.ForeignKeyConstraint(['run_id'], ['match_runs.id'], name=op.f('fk_matches_run_id_match_runs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_matches_startup_id_startups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches'))
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matches_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index('ix_matches_cohort_status', ['cohort_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_startup_id'), ['startup_id'], unique=False)

    op.create_table('mentor_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('format', sa.String(length=12), nullable=False),
    sa.Column('location', sa.String(length=255), nullable=False),
    sa.Column('topics', sa.String(length=500), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rating_comment', sa.Text(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_mentor_sessions_duration')),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_mentor_sessions_rating')),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_mentor_sessions_match_id_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['mentor_profiles.id'], name=op.f('fk_mentor_sessions_mentor_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_mentor_sessions_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_sessions'))
    )
    with op.batch_alter_table('mentor_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_sessions_match_id'), ['match_id'], unique=False)
        batch_op.create_index('ix_mentor_sessions_mentor_start', ['mentor_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_sessions_org_id'), ['org_id'], unique=False)

    op.create_table('action_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('owner', sa.String(length=10), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('done_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_action_items_match_id_matches'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_action_items_org_id_organisations')),
    sa.ForeignKeyConstraint(['session_id'], ['mentor_sessions.id'], name=op.f('fk_action_items_session_id_mentor_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_items'))
    )
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_items_match_id'), ['match_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_items_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_items_session_id'), ['session_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_items_session_id'))
        batch_op.drop_index(batch_op.f('ix_action_items_org_id'))
        batch_op.drop_index(batch_op.f('ix_action_items_match_id'))

    op.drop_table('action_items')
    with op.batch_alter_table('mentor_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_sessions_org_id'))
        batch_op.drop_index('ix_mentor_sessions_mentor_start')
        batch_op.drop_index(batch_op.f('ix_mentor_sessions_match_id'))

    op.drop_table('mentor_sessions')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matches_startup_id'))
        batch_op.drop_index(batch_op.f('ix_matches_run_id'))
        batch_op.drop_index(batch_op.f('ix_matches_org_id'))
        batch_op.drop_index(batch_op.f('ix_matches_mentor_id'))
        batch_op.drop_index('ix_matches_cohort_status')
        batch_op.drop_index(batch_op.f('ix_matches_cohort_id'))

    op.drop_table('matches')
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_runs_org_id'))
        batch_op.drop_index(batch_op.f('ix_match_runs_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_match_runs_cohort_id'))

    op.drop_table('match_runs')
    with op.batch_alter_table('mentoring_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentoring_needs_org_id'))

    op.drop_table('mentoring_needs')
    with op.batch_alter_table('mentor_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_conflicts_startup_id'))
        batch_op.drop_index(batch_op.f('ix_mentor_conflicts_recorded_by_id'))
        batch_op.drop_index(batch_op.f('ix_mentor_conflicts_org_id'))
        batch_op.drop_index(batch_op.f('ix_mentor_conflicts_mentor_id'))

    op.drop_table('mentor_conflicts')
    with op.batch_alter_table('availability_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_windows_org_id'))
        batch_op.drop_index(batch_op.f('ix_availability_windows_mentor_id'))

    op.drop_table('availability_windows')
    with op.batch_alter_table('mentor_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentor_profiles_user_id'))
        batch_op.drop_index(batch_op.f('ix_mentor_profiles_org_id'))

    op.drop_table('mentor_profiles')
