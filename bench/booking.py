"""Benchmark on PostgreSQL: booking with every check, and a week's availability for 50 resources,
with 1,000,000 existing bookings.

    .venv/bin/python bench/booking.py [--bookings N] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

It works in its own schema (``bench``) of that database, rebuilt by the migrations, so the test
data of the suite is left alone. The last line is a JSON object with the medians in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="incubator-bench-"))
os.environ["INCUBATOR_ENV"] = "testing"

from sqlalchemy import create_engine, make_url, text  # noqa: E402

RESOURCES = 50


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
            VALUES ('bench@example.org', 'Bench', 'x', false, true, 1, now(), now());
            INSERT INTO memberships (user_id, org_id, role, created_at, updated_at)
            VALUES (1, 1, 'staff', now(), now());
            INSERT INTO labs (org_id, name, site, description) VALUES (1, 'Lab', '', '');
            INSERT INTO resources (org_id, lab_id, name, kind, description, active, open_24h, slot_minutes, min_minutes,
                max_minutes, buffer_minutes, max_days_ahead, min_notice_minutes, needs_approval,
                free_cancellation_hours, no_show_minutes, price_member, price_partner, price_external, created_at,
                updated_at)
            SELECT 1, 1, 'Machine ' || g, 'machine', '', true, false, 30, 30, 240, 0, 60, 0, false, 24, 15, 0, 0, 0,
                   now(), now() FROM generate_series(1, {RESOURCES}) g;
            INSERT INTO opening_hours (org_id, resource_id, weekday, opens, closes)
            SELECT 1, r, d, '08:00', '20:00' FROM generate_series(1, {RESOURCES}) r, generate_series(0, 6) d;
        """
        for statement in filter(str.strip, setup.split(";")):
            conn.execute(text(statement))
        # Past bookings, one hour each, 3 hours apart, per resource: history that the checks must skip.
        conn.execute(text("""
            INSERT INTO bookings (org_id, resource_id, user_id, starts_at, ends_at, blocked_until, status,
                credit_minutes, price, currency, note, created_at, updated_at)
            SELECT 1, r, 1, t, t + interval '1 hour', t + interval '1 hour', 'completed', 0, 0, 'VND', '', now(), now()
            FROM generate_series(1, :resources) r,
                 LATERAL (SELECT date_trunc('hour', now()) - make_interval(hours => 3 * i) AS t
                          FROM generate_series(1, :per) i) past
        """), {"resources": RESOURCES, "per": per_resource})
        conn.execute(text("ANALYZE"))
        count = conn.execute(text("SELECT count(*) FROM bookings")).scalar_one()
    engine.dispose()
    print(f"prepared {count} bookings on {RESOURCES} resources", file=sys.stderr)


def measure(url: str) -> dict[str, float]:
    from sqlalchemy import select

    from incubator import create_app
    from incubator.accounts.models import User
    from incubator.booking import services
    from incubator.booking.models import Resource
    from incubator.core.tenancy import set_current_org
    from incubator.extensions import db
    from incubator.orgs.models import Organisation

    app = create_app({"DATABASE_URL": url})
    create_ms, availability_ms = [], []
    with app.test_request_context():
        session = db.session
        org = session.execute(select(Organisation)).scalar_one()
        set_current_org(session, org)
        user = session.execute(select(User)).scalar_one()
        resources = session.execute(select(Resource).order_by(Resource.id)).scalars().all()
        for r in resources:
            _ = r.hours  # loaded once, like a warm request
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
        monday = base - timedelta(days=base.weekday())
        for i in range(200):
            resource = resources[i % RESOURCES]
            day = monday + timedelta(days=7 + (i // RESOURCES) % 5)
            start = day.replace(hour=2) + timedelta(hours=(i // (RESOURCES * 5)) % 8)  # 09:00+ in Saigon
            began = time.perf_counter()
            services.create_booking(session, org, resource, user, start, start + timedelta(hours=1), is_staff=True)
            session.commit()
            create_ms.append((time.perf_counter() - began) * 1000)
            set_current_org(session, org)
        for _run in range(30):
            began = time.perf_counter()
            services.free_intervals(session, org, resources, monday + timedelta(days=7),
                                    monday + timedelta(days=14))
            availability_ms.append((time.perf_counter() - began) * 1000)
        session.rollback()
    app.extensions["db_engine"].dispose()
    return {"create_booking_median_ms": round(statistics.median(create_ms), 2),
            "create_booking_p95_ms": round(sorted(create_ms)[int(len(create_ms) * 0.95)], 2),
            "week_availability_50_resources_median_ms": round(statistics.median(availability_ms), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL",
                                                        "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    url = make_url(args.url).update_query_dict({"options": "-csearch_path=bench"}).render_as_string(
        hide_password=False)
    began = time.perf_counter()
    prepare(url, args.bookings)
    print(f"prepared in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    result = measure(url)
    print(json.dumps({"existing_bookings": args.bookings, "resources": RESOURCES, **result}))


if __name__ == "__main__":
    main()
