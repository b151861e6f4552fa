"""Benchmark on PostgreSQL: what creating a booking costs next to a bare ``INSERT ... COMMIT`` of the same
row, for staff and for a founder, and a week's availability for 50 resources, with 1,000,000 existing
bookings.

    .venv/bin/python bench/booking.py [--bookings N] [--rounds N] [--show-sql]
                                      [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

It works in its own schema (``bench``) of that database, rebuilt by the migrations, so the test
data of the suite is left alone.

Each round runs, in a rotating order, three writes of a fresh one-hour slot (no clash) through the
application's engine, each with its own connection checkout and commit, as a request would:

* ``insert``: a bare ``INSERT`` of the booking row (SQLAlchemy Core) and ``COMMIT``;
* ``staff``: ``services.create_booking`` for a staff member (every rule, no credits);
* ``founder``: ``services.create_booking`` for a founder whose startup is in an active cohort with lab
  credits, who holds the training the resource requires, on a resource with a weekly quota: so the
  training, quota, credit balance and ledger run too.

The machine's load varies, so the figures to compare are the ratios of medians taken in the same run.
The last line is a JSON object: the medians in milliseconds, ``staff_ratio_to_insert`` and
``founder_ratio_to_insert``, and the statements (and connection checkouts) each write ran.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="incubator-bench-"))
os.environ["INCUBATOR_ENV"] = "testing"

from sqlalchemy import create_engine, event, insert, make_url, text  # noqa: E402

RESOURCES = 50
QUOTA_HOURS = 40  # the founder's weekly quota on each resource: checked, never reached
WARMUP = 6  # rounds not measured (statement caches, the first checkouts)
KINDS = ("insert", "staff", "founder")


def prepare(url: str, bookings: int) -> None:
    from alembic import command

    from incubator.cli import alembic_config

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS bench CASCADE"))
        conn.execute(text("CREATE SCHEMA bench"))
    engine.dispose()
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    per_resource = bookings // RESOURCES
    with engine.begin() as conn:
        setup = f"""
            INSERT INTO organisations (slug, name, kind, timezone, currency, default_locale, created_at, updated_at)
            VALUES ('bench', 'Bench lab', 'incubator', 'Asia/Ho_Chi_Minh', 'VND', 'vi', now(), now());
            INSERT INTO users (email, name, password_hash, is_admin, active, session_version, created_at, updated_at)
            VALUES ('bench@example.org', 'Bench', 'x', false, true, 1, now(), now()),
                   ('founder@example.org', 'Founder', 'x', false, true, 1, now(), now());
            INSERT INTO memberships (user_id, org_id, role, created_at, updated_at)
            VALUES (1, 1, 'staff', now(), now()), (2, 1, 'founder', now(), now());
            INSERT INTO labs (org_id, name, site, description) VALUES (1, 'Lab', '', '');
            INSERT INTO trainings (org_id, name, validity_months) VALUES (1, 'Machine safety', 12);
            INSERT INTO certifications (org_id, training_id, user_id, certified_on, expires_on)
            VALUES (1, 1, 1, current_date - 10, current_date + 300), (1, 1, 2, current_date - 10, current_date + 300);
            INSERT INTO resources (org_id, lab_id, name, kind, description, active, open_24h, slot_minutes, min_minutes,
                max_minutes, buffer_minutes, max_days_ahead, min_notice_minutes, needs_approval,
                free_cancellation_hours, no_show_minutes, price_member, price_partner, price_external, training_id,
                max_hours_per_week, created_at, updated_at)
            SELECT 1, 1, 'Machine ' || g, 'machine', '', true, false, 30, 30, 240, 0, 90, 0, false, 24, 15, 0, 0, 0,
                   1, {QUOTA_HOURS}, now(), now() FROM generate_series(1, {RESOURCES}) g;
            INSERT INTO opening_hours (org_id, resource_id, weekday, opens, closes)
            SELECT 1, r, d, '08:00', '20:00' FROM generate_series(1, {RESOURCES}) r, generate_series(0, 6) d;
            INSERT INTO programmes (org_id, name, kind, description, created_at, updated_at)
            VALUES (1, 'Incubation', 'incubation', '', now(), now());
            INSERT INTO cohorts (org_id, programme_id, name, starts_on, ends_on, checkin_frequency,
                mentoring_hours_per_startup, created_at, updated_at)
            VALUES (1, 1, 'Cohort', current_date - 90, current_date + 270, 'monthly', 0, now(), now());
            INSERT INTO startups (org_id, name, sector, stage, origin, team_size, is_st_enterprise, description,
                version, created_at, updated_at)
            VALUES (1, 'Bench startup', '', 'idea', 'independent', 1, false, '', 1, now(), now());
            INSERT INTO startup_founders (org_id, startup_id, user_id) VALUES (1, 1, 2);
            INSERT INTO enrolments (org_id, cohort_id, startup_id, status, enrolled_on)
            VALUES (1, 1, 1, 'active', current_date - 90);
            INSERT INTO cohort_lab_credits (org_id, cohort_id, resource_kind, hours) VALUES (1, 1, 'machine', 1000000)
        """
        for statement in filter(str.strip, setup.split(";")):
            conn.execute(text(statement))
        # Past bookings, one hour each, 3 hours apart, per resource: history that the checks must skip.
        # Every other one is the founder's startup's, so its quota and credits have history too.
        conn.execute(text("""
            INSERT INTO bookings (org_id, resource_id, user_id, startup_id, starts_at, ends_at, blocked_until,
                status, credit_minutes, price, currency, note, created_at, updated_at)
            SELECT 1, r, 1 + i % 2, CASE WHEN i % 2 = 1 THEN 1 END, t, t + interval '1 hour', t + interval '1 hour',
                   'completed', 0, 0, 'VND', '', now(), now()
            FROM generate_series(1, :resources) r,
                 LATERAL (SELECT i, date_trunc('hour', now()) - make_interval(hours => 3 * i) AS t
                          FROM generate_series(1, :per) i) past
        """), {"resources": RESOURCES, "per": per_resource})
        conn.execute(text("ANALYZE"))
        count = conn.execute(text("SELECT count(*) FROM bookings")).scalar_one()
    engine.dispose()
    print(f"prepared {count} bookings on {RESOURCES} resources", file=sys.stderr)


def fresh_slots(first_monday: datetime) -> Iterator[tuple[int, datetime]]:
    """(resource index, start in UTC) of one-hour slots nobody has booked, 09:00-19:00 in Saigon on
    weekdays, spread over the resources, then the days, then the hours, then the weeks."""
    per_week = RESOURCES * 5 * 10
    k = 0
    while True:
        week, rest = divmod(k, per_week)
        resource, rest = rest % RESOURCES, rest // RESOURCES
        day, hour = rest % 5, rest // 5
        yield resource, first_monday + timedelta(weeks=week, days=day, hours=2 + hour)  # 02:00 UTC is 09:00
        k += 1


class Counter:
    """Statements sent to the database and connection checkouts, on one engine."""

    def __init__(self, engine: Any, show: bool) -> None:
        self.statements = self.checkouts = 0
        self.show = show
        self.log: list[str] = []
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "checkout", self._checkout)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements += 1
        if self.show:
            self.log.append(" ".join(statement.split())[:160])

    def _checkout(self, *_args: Any) -> None:
        self.checkouts += 1
        if self.show:
            self.log.append("-- checkout")

    def take(self) -> tuple[int, int, list[str]]:
        seen = self.statements, self.checkouts, self.log
        self.statements = self.checkouts = 0
        self.log = []
        return seen


def measure(url: str, rounds: int, show_sql: bool) -> dict[str, Any]:
    from sqlalchemy import select

    from incubator import create_app
    from incubator.accounts.models import User
    from incubator.booking import availability, services
    from incubator.booking.models import Booking, Resource
    from incubator.core.tenancy import set_current_org
    from incubator.extensions import db
    from incubator.orgs.models import Organisation

    app = create_app({"DATABASE_URL": url})
    engine = app.extensions["db_engine"]
    table = Booking.__table__
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    counts: dict[str, list[tuple[int, int]]] = {kind: [] for kind in KINDS}
    availability_ms = []
    with app.test_request_context():
        session = db.session
        org = session.execute(select(Organisation)).scalar_one()
        set_current_org(session, org)
        staff, founder = session.execute(select(User).order_by(User.id)).scalars().all()
        resources = session.execute(select(Resource).order_by(Resource.id)).scalars().all()
        for r in resources:
            _ = r.hours  # loaded once, like a warm request
        session.commit()
        base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
        monday = base - timedelta(days=base.weekday())
        slots = fresh_slots(monday + timedelta(days=7))

        def bare_insert(resource: Resource, start: datetime) -> None:
            now = datetime.now(UTC)
            with engine.connect() as conn:
                conn.execute(insert(table).values(
                    org_id=org.id, resource_id=resource.id, user_id=staff.id, starts_at=start,
                    ends_at=start + timedelta(hours=1), blocked_until=start + timedelta(hours=1), status="confirmed",
                    credit_minutes=0, price=0, currency=org.currency, note="", created_at=now, updated_at=now))
                conn.commit()

        def booker(user: User, is_staff: bool) -> Callable[[Resource, datetime], None]:
            def book(resource: Resource, start: datetime) -> None:
                services.create_booking(session, org, resource, user, start, start + timedelta(hours=1),
                                        is_staff=is_staff)
                session.commit()
            return book

        writes = {"insert": bare_insert, "staff": booker(staff, True), "founder": booker(founder, False)}
        counter = Counter(engine, show_sql)
        for i in range(WARMUP + rounds):
            for kind in KINDS[i % 3:] + KINDS[:i % 3]:  # interleaved, in a rotating order
                index, start = next(slots)
                counter.take()
                began = time.perf_counter()
                writes[kind](resources[index], start)
                elapsed = (time.perf_counter() - began) * 1000
                statements, checkouts, log = counter.take()
                if i >= WARMUP:
                    times[kind].append(elapsed)
                    counts[kind].append((statements, checkouts))
                if show_sql and i == WARMUP:
                    print(f"-- {kind}: {statements} statements, {checkouts} checkouts", *log, sep="\n",
                          file=sys.stderr)
        for _run in range(30):
            began = time.perf_counter()
            availability.free_intervals(session, org, resources, monday + timedelta(days=7),
                                    monday + timedelta(days=14))
            availability_ms.append((time.perf_counter() - began) * 1000)
        session.rollback()
    engine.dispose()
    medians = {kind: statistics.median(values) for kind, values in times.items()}
    out: dict[str, Any] = {
        "staff_ratio_to_insert": round(medians["staff"] / medians["insert"], 2),
        "founder_ratio_to_insert": round(medians["founder"] / medians["insert"], 2),
    }
    for kind in KINDS:
        out[f"{kind}_median_ms"] = round(medians[kind], 2)
        out[f"{kind}_p95_ms"] = round(sorted(times[kind])[int(len(times[kind]) * 0.95)], 2)
        out[f"{kind}_statements"] = max(s for s, _c in counts[kind])
        out[f"{kind}_checkouts"] = max(c for _s, c in counts[kind])
    out["week_availability_50_resources_median_ms"] = round(statistics.median(availability_ms), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=200, help="measured rounds of the three writes")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one round")
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL",
                                                        "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    url = make_url(args.url).update_query_dict({"options": "-csearch_path=bench"}).render_as_string(
        hide_password=False)
    began = time.perf_counter()
    prepare(url, args.bookings)
    print(f"prepared in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    result = measure(url, args.rounds, args.show_sql)
    print(json.dumps({"existing_bookings": args.bookings, "resources": RESOURCES, "rounds": args.rounds,
                      **result}))


if __name__ == "__main__":
    main()
