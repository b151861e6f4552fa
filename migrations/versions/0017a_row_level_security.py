"""tenancy: PostgreSQL row-level security on every organisation-owned table (the second wall)

Every table with an ``org_id`` is listed below, on purpose: a later organisation-owned table must add
itself here (or in its own migration), and ``tests/core/test_rls.py`` fails until it does.

Each table gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` (FORCE: the table's owner, which the app
usually connects as, is held to the policy too; superusers and ``BYPASSRLS`` roles never are) and one
policy, ``org_isolation``: a row is seen and written only inside its own organisation, the one the
app sets per transaction (``SET LOCAL app.org_id``, ``incubator.core.rls``), or by code that spans
organisations on purpose (``app.bypass_rls = on``: the ORM's ``all_orgs``, and the migrations).

A few tables are read across organisations by design, and their policy says so (reads only: the
``WITH CHECK`` side stays the organisation's own):

* ``bookings``: a partner organisation's bookings of a shared lab belong to the lab's owner and name
  the partner (``partner_org_id``); the partner sees them.
* ``resource_shares``: the partner sees what is shared with it.
* ``cohort_funders``: a funder organisation sees the cohorts that name it.
* ``memberships``: a person's own memberships, in every organisation (``app.user_id``, the signed-in
  person): the landing page and the organisation switcher read them before an organisation is chosen.
* ``api_tokens``: a personal token belongs to no organisation (``org_id`` NULL); it is read when the
  bearer signs in, before any organisation is known.

With neither setting (a connection that never said which organisation it works for) no row matches:
the policy fails closed. Nothing changes on SQLite, which keeps the ORM's filter alone.

Revision ID: 0017a
Revises: 0016b
Create Date: 2026-12-01 20:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0017a'
down_revision: str | None = '0016b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORG_TABLES = (
    'action_items', 'api_tokens', 'application_files', 'application_transitions', 'applications',
    'availability_windows', 'bookings', 'calls', 'certifications', 'checkin_revisions', 'checkins',
    'closures', 'cohort_funders', 'cohort_lab_credits', 'cohorts', 'criteria', 'enrolments', 'feed_tokens',
    'form_versions', 'invitations', 'kpi_definitions', 'labs', 'ledger_entries', 'letter_templates',
    'match_runs', 'matches', 'memberships', 'mentor_conflicts', 'mentor_profiles', 'mentor_sessions',
    'mentoring_needs', 'milestone_templates', 'milestones', 'opening_hours', 'payment_accounts', 'payments',
    'pending_founders', 'programmes', 'reminder_logs', 'report_brandings', 'report_exports',
    'report_targets', 'resource_shares', 'resources', 'reviews', 'startup_founders', 'startups',
    'trainings', 'waitlist_entries', 'webhook_attempts', 'webhook_deliveries', 'webhook_outbox',
    'webhook_subscriptions',
)

# The organisation of this transaction ('' once a SET LOCAL has ended: NULLIF makes it no organisation)
CURRENT_ORG = "NULLIF(current_setting('app.org_id', true), '')::integer"
BYPASS = "current_setting('app.bypass_rls', true) = 'on'"
OWN_ROWS = f"org_id = {CURRENT_ORG} OR {BYPASS}"

# Rows another organisation may read (see the module docstring)
ALSO_READ_BY = {
    'bookings': f"partner_org_id = {CURRENT_ORG}",
    'resource_shares': f"partner_org_id = {CURRENT_ORG}",
    'cohort_funders': f"funder_org_id = {CURRENT_ORG}",
    'api_tokens': "org_id IS NULL",
    'memberships': "user_id = NULLIF(current_setting('app.user_id', true), '')::integer",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in ORG_TABLES:
        using = OWN_ROWS + (f" OR {ALSO_READ_BY[table]}" if table in ALSO_READ_BY else "")
        check = OWN_ROWS + (" OR org_id IS NULL" if table == 'api_tokens' else "")
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY org_isolation ON "{table}" USING ({using}) WITH CHECK ({check})')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in ORG_TABLES:
        op.execute(f'DROP POLICY IF EXISTS org_isolation ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
