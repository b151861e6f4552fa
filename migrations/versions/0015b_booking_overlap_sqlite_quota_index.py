"""booking: SQLite refuses overlapping bookings like PostgreSQL's exclusion constraint; the weekly quota's index

The application no longer checks for an overlap before inserting a booking: the database refuses it
in the insert. PostgreSQL has done so since 0004 (``ex_bookings_no_overlap``); on SQLite two triggers
do the same, before an insert and before an update of the columns the constraint reads, and abort
with a message that names the constraint, so that the application recognises the refusal on both.

Note for later migrations: SQLite's batch mode (``batch_alter_table`` that recreates ``bookings``)
drops the table's triggers; such a migration must create them again (``create_sqlite_triggers``).
``tests/booking/test_overlap.py`` fails when they are missing.

The startup's index becomes (startup_id, resource_id, starts_at): the weekly quota of one resource is
an index range, and lookups by startup alone still use its first column.

Revision ID: 0015b
Revises: 0013d
Create Date: 2026-12-01 16:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0015b'
down_revision: str | None = '0013d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The trigger's message is PostgreSQL's refusal word for word, so one test recognises both.


# Written out in full (no SQL is built from values): the statuses are those of ACTIVE_STATUSES.
CLASH = ("SELECT RAISE(ABORT, 'conflicting key value violates exclusion constraint \"ex_bookings_no_overlap\"') "
         "WHERE EXISTS (SELECT 1 FROM bookings AS other WHERE other.resource_id = NEW.resource_id "
         "AND other.status IN ('held', 'pending_approval', 'awaiting_payment', 'confirmed', 'completed') "
         "AND other.starts_at < NEW.blocked_until AND other.blocked_until > NEW.starts_at")
WHEN_ACTIVE = "WHEN NEW.status IN ('held', 'pending_approval', 'awaiting_payment', 'confirmed', 'completed')"


def create_sqlite_triggers() -> None:
    op.execute("CREATE TRIGGER ex_bookings_no_overlap_insert BEFORE INSERT ON bookings "
               + WHEN_ACTIVE + " BEGIN " + CLASH + "); END")
    op.execute("CREATE TRIGGER ex_bookings_no_overlap_update "
               "BEFORE UPDATE OF resource_id, starts_at, blocked_until, status ON bookings "
               + WHEN_ACTIVE + " BEGIN " + CLASH + " AND other.id != NEW.id); END")


def upgrade() -> None:
    op.create_index('ix_bookings_startup_resource_start', 'bookings', ['startup_id', 'resource_id', 'starts_at'],
                    unique=False)
    op.drop_index('ix_bookings_startup_id', table_name='bookings')
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ex_bookings_no_overlap_update")
        op.execute("DROP TRIGGER IF EXISTS ex_bookings_no_overlap_insert")
    op.create_index('ix_bookings_startup_id', 'bookings', ['startup_id'], unique=False)
    op.drop_index('ix_bookings_startup_resource_start', table_name='bookings')
