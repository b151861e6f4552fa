"""cohorts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:03:18.902191
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import incubator.core.db

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kpi_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=12), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_kpi_definitions_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_definitions')),
    sa.UniqueConstraint('org_id', 'key', name=op.f('uq_kpi_definitions_org_id_key'))
    )
    with op.batch_alter_table('kpi_definitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_definitions_org_id'), ['org_id'], unique=False)

    op.create_table('programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_programmes_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes'))
    )
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programmes_org_id'), ['org_id'], unique=False)

    op.create_table('startups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('legal_name', sa.String(length=255), nullable=True),
    sa.Column('registration_number', sa.String(length=40), nullable=True),
    sa.Column('sector', sa.String(length=120), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('partner_institution', sa.String(length=255), nullable=True),
    sa.Column('team_size', sa.Integer(), nullable=False),
    sa.Column('website', sa.String(length=255), nullable=True),
    sa.Column('logo_key', sa.String(length=64), nullable=True),
    sa.Column('is_st_enterprise', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('team_size >= 0', name=op.f('ck_startups_team_size')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_startups_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_startups')),
    sa.UniqueConstraint('org_id', 'registration_number', name=op.f('uq_startups_org_id_registration_number'))
    )
    with op.batch_alter_table('startups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_startups_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_startups_registration_number'), ['registration_number'], unique=False)

    op.create_table('checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('is_baseline', sa.Boolean(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('employees_full_time', sa.Integer(), nullable=False),
    sa.Column('employees_part_time', sa.Integer(), nullable=False),
    sa.Column('jobs_created', sa.Integer(), nullable=False),
    sa.Column('funding_equity', sa.BigInteger(), nullable=False),
    sa.Column('funding_debt', sa.BigInteger(), nullable=False),
    sa.Column('funding_grant', sa.BigInteger(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('products_commercialised', sa.Integer(), nullable=False),
    sa.Column('ip_filings', sa.Integer(), nullable=False),
    sa.Column('custom', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('evidence_key', sa.String(length=64), nullable=True),
    sa.Column('evidence_name', sa.String(length=255), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_at', incubator.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('customers >= 0', name=op.f('ck_checkins_customers_not_negative')),
    sa.CheckConstraint('employees_full_time >= 0', name=op.f('ck_checkins_employees_full_time_not_negative')),
    sa.CheckConstraint('employees_part_time >= 0', name=op.f('ck_checkins_employees_part_time_not_negative')),
    sa.CheckConstraint('funding_debt >= 0', name=op.f('ck_checkins_funding_debt_not_negative')),
    sa.CheckConstraint('funding_equity >= 0', name=op.f('ck_checkins_funding_equity_not_negative')),
    sa.CheckConstraint('funding_grant >= 0', name=op.f('ck_checkins_funding_grant_not_negative')),
    sa.CheckConstraint('ip_filings >= 0', name=op.f('ck_checkins_ip_filings_not_negative')),
    sa.CheckConstraint('jobs_created >= 0', name=op.f('ck_checkins_jobs_created_not_negative')),
    sa.CheckConstraint('products_commercialised >= 0', name=op.f('ck_checkins_products_commercialised_not_negative')),
    sa.CheckConstraint('revenue >= 0', name=op.f('ck_checkins_revenue_not_negative')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_checkins_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_checkins_startup_id_startups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_checkins_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_checkins_verified_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins')),
    sa.UniqueConstraint('startup_id', 'period', name=op.f('uq_checkins_startup_id_period'))
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkins_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_startup_id'), ['startup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_submitted_by_id'), ['submitted_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkins_verified_by_id'), ['verified_by_id'], unique=False)

    op.create_table('cohorts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('checkin_frequency', sa.String(length=12), nullable=False),
    sa.Column('mentoring_hours_per_startup', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_cohorts_dates_in_order')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_cohorts_org_id_organisations')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_cohorts_programme_id_programmes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts'))
    )
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohorts_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohorts_programme_id'), ['programme_id'], unique=False)

    op.create_table('reminder_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('sent_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_reminder_logs_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_reminder_logs_startup_id_startups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_logs')),
    sa.UniqueConstraint('startup_id', 'kind', 'period', name=op.f('uq_reminder_logs_startup_id_kind_period'))
    )
    with op.batch_alter_table('reminder_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_logs_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_logs_startup_id'), ['startup_id'], unique=False)

    op.create_table('startup_founders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_startup_founders_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_startup_founders_startup_id_startups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_startup_founders_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_startup_founders')),
    sa.UniqueConstraint('startup_id', 'user_id', name=op.f('uq_startup_founders_startup_id_user_id'))
    )
    with op.batch_alter_table('startup_founders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_startup_founders_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_startup_founders_startup_id'), ['startup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_startup_founders_user_id'), ['user_id'], unique=False)

    op.create_table('checkin_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_checkin_revisions_checkin_id_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_checkin_revisions_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_checkin_revisions_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_revisions'))
    )
    with op.batch_alter_table('checkin_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_revisions_checkin_id'), ['checkin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_revisions_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_revisions_user_id'), ['user_id'], unique=False)

    op.create_table('cohort_funders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('funder_org_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(user_id IS NULL) <> (funder_org_id IS NULL)', name=op.f('ck_cohort_funders_one_funder')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_funders_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['funder_org_id'], ['organisations.id'], name=op.f('fk_cohort_funders_funder_org_id_organisations')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_cohort_funders_org_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cohort_funders_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_funders')),
    sa.UniqueConstraint('cohort_id', 'funder_org_id', name=op.f('uq_cohort_funders_cohort_id_funder_org_id')),
    sa.UniqueConstraint('cohort_id', 'user_id', name=op.f('uq_cohort_funders_cohort_id_user_id'))
    )
    with op.batch_alter_table('cohort_funders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_funders_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_funders_funder_org_id'), ['funder_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_funders_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_funders_user_id'), ['user_id'], unique=False)

    op.create_table('cohort_lab_credits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('resource_kind', sa.String(length=12), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('hours >= 0', name=op.f('ck_cohort_lab_credits_hours')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_lab_credits_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_cohort_lab_credits_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_lab_credits')),
    sa.UniqueConstraint('cohort_id', 'resource_kind', name=op.f('uq_cohort_lab_credits_cohort_id_resource_kind'))
    )
    with op.batch_alter_table('cohort_lab_credits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_lab_credits_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_lab_credits_org_id'), ['org_id'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.Column('status_changed_on', sa.Date(), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_enrolments_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_enrolments_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_enrolments_startup_id_startups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
    sa.UniqueConstraint('cohort_id', 'startup_id', name=op.f('uq_enrolments_cohort_id_startup_id'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolments_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolments_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolments_startup_id'), ['startup_id'], unique=False)

    op.create_table('milestone_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_milestone_templates_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_milestone_templates_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone_templates'))
    )
    with op.batch_alter_table('milestone_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestone_templates_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_templates_org_id'), ['org_id'], unique=False)

    op.create_table('milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('startup_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('evidence_url', sa.String(length=500), nullable=True),
    sa.Column('evidence_key', sa.String(length=64), nullable=True),
    sa.Column('evidence_name', sa.String(length=255), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('created_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', incubator.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_milestones_org_id_organisations')),
    sa.ForeignKeyConstraint(['startup_id'], ['startups.id'], name=op.f('fk_milestones_startup_id_startups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['milestone_templates.id'], name=op.f('fk_milestones_template_id_milestone_templates'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestones'))
    )
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestones_org_id'), ['org_id'], unique=False)
        batch_op.create_index('ix_milestones_startup_due', ['startup_id', 'due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestones_startup_id'), ['startup_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestones_template_id'), ['template_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestones_template_id'))
        batch_op.drop_index(batch_op.f('ix_milestones_startup_id'))
        batch_op.drop_index('ix_milestones_startup_due')
        batch_op.drop_index(batch_op.f('ix_milestones_org_id'))

    op.drop_table('milestones')
    with op.batch_alter_table('milestone_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_templates_org_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_templates_cohort_id'))

    op.drop_table('milestone_templates')
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolments_startup_id'))
        batch_op.drop_index(batch_op.f('ix_enrolments_org_id'))
        batch_op.drop_index(batch_op.f('ix_enrolments_cohort_id'))

    op.drop_table('enrolments')
    with op.batch_alter_table('cohort_lab_credits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_lab_credits_org_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_lab_credits_cohort_id'))

    op.drop_table('cohort_lab_credits')
    with op.batch_alter_table('cohort_funders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_funders_user_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_funders_org_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_funders_funder_org_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_funders_cohort_id'))

    op.drop_table('cohort_funders')
    with op.batch_alter_table('checkin_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_revisions_user_id'))
        batch_op.drop_index(batch_op.f('ix_checkin_revisions_org_id'))
        batch_op.drop_index(batch_op.f('ix_checkin_revisions_checkin_id'))

    op.drop_table('checkin_revisions')
    with op.batch_alter_table('startup_founders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_startup_founders_user_id'))
        batch_op.drop_index(batch_op.f('ix_startup_founders_startup_id'))
        batch_op.drop_index(batch_op.f('ix_startup_founders_org_id'))

    op.drop_table('startup_founders')
    with op.batch_alter_table('reminder_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_logs_startup_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_logs_org_id'))

    op.drop_table('reminder_logs')
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohorts_programme_id'))
        batch_op.drop_index(batch_op.f('ix_cohorts_org_id'))

    op.drop_table('cohorts')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkins_verified_by_id'))
        batch_op.drop_index(batch_op.f('ix_checkins_submitted_by_id'))
        batch_op.drop_index(batch_op.f('ix_checkins_startup_id'))
        batch_op.drop_index(batch_op.f('ix_checkins_period'))
        batch_op.drop_index(batch_op.f('ix_checkins_org_id'))

    op.drop_table('checkins')
    with op.batch_alter_table('startups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_startups_registration_number'))
        batch_op.drop_index(batch_op.f('ix_startups_org_id'))

    op.drop_table('startups')
    with op.batch_alter_table('programmes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programmes_org_id'))

    op.drop_table('programmes')
    with op.batch_alter_table('kpi_definitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_definitions_org_id'))

    op.drop_table('kpi_definitions')
