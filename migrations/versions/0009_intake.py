"""intake: calls, versioned forms, applications, pipeline, reviews, letters

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 19:12:57.714772
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('letter_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_letter_templates_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_templates')),
    sa.UniqueConstraint('org_id', 'outcome', 'locale', name=op.f('uq_letter_templates_org_id_outcome_locale'))
    )
    with op.batch_alter_table('letter_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_templates_org_id'), ['org_id'], unique=False)

    op.create_table('pending_founders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_pending_founders_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_pending_founders_startup_id_startups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_founders')),
    sa.UniqueConstraint('startup_id', 'email', name=op.f('uq_pending_founders_startup_id_email'))
    )
    with op.batch_alter_table('pending_founders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_founders_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_founders_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_founders_startup_id'), ['startup_id'], unique=False)

    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('title_en', sa.String(length=255), nullable=False),
    sa.Column('title_vi', sa.String(length=255), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('description_vi', sa.Text(), nullable=False),
    sa.Column('opens_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('cap', sa.Integer(), nullable=True),
    sa.Column('fee_minor', sa.Integer(), nullable=True),
    sa.Column('allow_edits', sa.Boolean(), nullable=False),
    sa.Column('blind_review', sa.Boolean(), nullable=False),
    sa.Column('reviewers_per_application', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('cap IS NULL OR cap > 0', name=op.f('ck_calls_cap_positive')),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_calls_dates_in_order')),
    sa.CheckConstraint('fee_minor IS NULL OR fee_minor >= 0', name=op.f('ck_calls_fee_not_negative')),
    sa.CheckConstraint('reviewers_per_application >= 1', name=op.f('ck_calls_reviewers_positive')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_calls_cohort_id_cohorts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_calls_org_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_calls_programme_id_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_programme_id'), ['programme_id'], unique=False)

    op.create_table('criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('label_en', sa.String(length=255), nullable=False),
    sa.Column('label_vi', sa.String(length=255), nullable=False),
    sa.Column('scale_min', sa.Integer(), nullable=False),
    sa.Column('scale_max', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Double(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('scale_max > scale_min', name=op.f('ck_criteria_scale')),
    sa.CheckConstraint('weight > 0', name=op.f('ck_criteria_weight_positive')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_criteria_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_criteria_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criteria')),
    sa.UniqueConstraint('call_id', 'key', name=op.f('uq_criteria_call_id_key'))
    )
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criteria_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_criteria_org_id'), ['org_id'], unique=False)

    op.create_table('form_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_form_versions_call_id_calls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_form_versions_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_versions')),
    sa.UniqueConstraint('call_id', 'number', name=op.f('uq_form_versions_call_id_number'))
    )
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_versions_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_versions_org_id'), ['org_id'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('submitted_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('startup_id', sa.Integer(), nullable=True),
    sa.Column('decided_cohort_id', sa.Integer(), nullable=True),
    sa.Column('letter_sent_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['users.id'], name=op.f('fk_applications_applicant_id_users')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_applications_call_id_calls')),
    sa.ForeignKeyConstraint(['decided_cohort_id'], ['cohorts.id'], name=op.f('fk_applications_decided_cohort_id_cohorts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_applications_form_version_id_form_versions')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_applications_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_applications_startup_id_startups'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('call_id', 'applicant_id', name=op.f('uq_applications_call_id_applicant_id'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_applications_applicant_id'), ['applicant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_applications_call_stage', ['call_id', 'stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_decided_cohort_id'), ['decided_cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_form_version_id'), ['form_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_startup_id'), ['startup_id'], unique=False)

    op.create_table('application_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=40), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_files_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_application_files_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_files')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_application_files_storage_key'))
    )
    with op.batch_alter_table('application_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_files_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_files_org_id'), ['org_id'], unique=False)

    op.create_table('application_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('from_stage', sa.String(length=20), nullable=False),
    sa.Column('to_stage', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_application_transitions_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_application_transitions_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_application_transitions_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application_transitions'))
    )
    with op.batch_alter_table('application_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_application_transitions_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_transitions_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_transitions_org_id'), ['org_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('recommendation', sa.String(length=8), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('conflict_reason', sa.Text(), nullable=False),
    sa.Column('conflict_declared_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('assigned_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_reviews_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_reviews_org_id_organisations')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_reviews_reviewer_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('application_id', 'reviewer_id', name=op.f('uq_reviews_application_id_reviewer_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_reviewer_id'), ['reviewer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_org_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_application_id'))

    op.drop_table('reviews')
    with op.batch_alter_table('application_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_transitions_org_id'))
        batch_op.drop_index(batch_op.f('ix_application_transitions_application_id'))
        batch_op.drop_index(batch_op.f('ix_application_transitions_actor_id'))

    op.drop_table('application_transitions')
    with op.batch_alter_table('application_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_files_org_id'))
        batch_op.drop_index(batch_op.f('ix_application_files_application_id'))

    op.drop_table('application_files')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_startup_id'))
        batch_op.drop_index(batch_op.f('ix_applications_org_id'))
        batch_op.drop_index(batch_op.f('ix_applications_form_version_id'))
        batch_op.drop_index(batch_op.f('ix_applications_decided_cohort_id'))
        batch_op.drop_index('ix_applications_call_stage')
        batch_op.drop_index(batch_op.f('ix_applications_call_id'))
        batch_op.drop_index(batch_op.f('ix_applications_applicant_id'))

    op.drop_table('applications')
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_versions_org_id'))
        batch_op.drop_index(batch_op.f('ix_form_versions_call_id'))

    op.drop_table('form_versions')
    with op.batch_alter_table('criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criteria_org_id'))
        batch_op.drop_index(batch_op.f('ix_criteria_call_id'))

    op.drop_table('criteria')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_programme_id'))
        batch_op.drop_index(batch_op.f('ix_calls_org_id'))
        batch_op.drop_index(batch_op.f('ix_calls_cohort_id'))
        batch_op.drop_index(batch_op.f('ix_calls_closes_at'))

    op.drop_table('calls')
    with op.batch_alter_table('pending_founders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_founders_startup_id'))
        batch_op.drop_index(batch_op.f('ix_pending_founders_org_id'))
        batch_op.drop_index(batch_op.f('ix_pending_founders_email'))

    op.drop_table('pending_founders')
    with op.batch_alter_table('letter_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_templates_org_id'))

    op.drop_table('letter_templates')
