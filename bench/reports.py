"""Benchmark of the report downloads.

    .venv/bin/python bench/reports.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/NAME] [--bookings N]

1. A cohort of 100 startups with 24 months of check-ins: the time to render its PDF (target: 2 s).
2. The XLSX of a report with 200,000 lab bookings, written in a child process: its time (target: 5 s)
   and its peak memory (target: 150 MB): the child's maximum resident set size, and how much of it the
   writing added to the loaded application.

Times are wall-clock seconds, with the CPU seconds of the process beside them (``*_cpu_seconds``): on
a shared machine the wall time grows with the other load, the CPU time much less. The JSON also
carries the targets and whether each figure meets its own.

It works in a SQLite file of its own (default) or, with --url, in a ``bench_reports`` schema of that
PostgreSQL database, rebuilt by the migrations. The last line is a JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="incubator-bench-"))
os.environ["INCUBATOR_ENV"] = "testing"

STARTUPS, MONTHS, RESOURCES = 100, 24, 50
FIRST = date(2024, 1, 1)
TARGETS = {"xlsx_seconds": 5.0, "xlsx_max_rss_mb": 150.0, "pdf_seconds_median": 2.0}


def _url(args: argparse.Namespace) -> str:
    if args.url:
        separator = "&" if "?" in args.url else "?"
        return f"{args.url}{separator}options=-csearch_path%3Dbench_reports"
    return f"sqlite:///{Path(os.environ['INSTANCE_PATH']) / 'bench-reports.db'}"


def prepare(url: str, bookings: int) -> None:
    from alembic import command
    from sqlalchemy import create_engine, insert, make_url, text

    from incubator.booking.models import Booking, Lab, Resource
    from incubator.cli import alembic_config
    from incubator.cohorts.models import CheckIn, Cohort, Enrolment, Programme, Startup
    from incubator.core.db import utcnow
    from incubator.orgs.models import Organisation

    if make_url(url).get_backend_name() == "postgresql":
        engine = create_engine(url.split("?")[0])
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS bench_reports CASCADE"))
            conn.execute(text("CREATE SCHEMA bench_reports"))
        engine.dispose()
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        org_id = conn.execute(insert(Organisation).values(
            slug="bench", name="Trung tâm Ươm tạo Bench", kind="incubator", timezone="Asia/Ho_Chi_Minh",
            currency="VND", default_locale="vi", created_at=now, updated_at=now).returning(Organisation.id)).scalar()
        conn.execute(text("INSERT INTO users (email, name, password_hash, is_admin, active, session_version, "
                          "created_at, updated_at) VALUES ('bench@example.org', 'Bench', 'x', false, true, 1, "
                          ":now, :now)"), {"now": now})
        user_id = conn.execute(text("SELECT id FROM users WHERE email = 'bench@example.org'")).scalar()
        programme_id = conn.execute(insert(Programme).values(org_id=org_id, name="Programme", kind="incubation",
                                                             description="", created_at=now, updated_at=now)
                                    .returning(Programme.id)).scalar()
        cohort_id = conn.execute(insert(Cohort).values(
            org_id=org_id, programme_id=programme_id, name="Cohort 2024–2025", starts_on=FIRST,
            ends_on=date(2025, 12, 31), checkin_frequency="monthly", mentoring_hours_per_startup=0,
            created_at=now, updated_at=now).returning(Cohort.id)).scalar()
        startup_ids = []
        for n in range(STARTUPS):
            startup_ids.append(conn.execute(insert(Startup).values(
                org_id=org_id, name=f"Startup {n:03d}", registration_number=f"37{n:08d}", sector="", stage="mvp",
                origin="independent", team_size=3, is_st_enterprise=n % 7 == 0, description="",
                created_at=now, updated_at=now).returning(Startup.id)).scalar())
        conn.execute(insert(Enrolment), [{"org_id": org_id, "cohort_id": cohort_id, "startup_id": sid,
                                          "status": "active", "enrolled_on": FIRST} for sid in startup_ids])
        rows = []
        for index, sid in enumerate(startup_ids):
            for month in range(MONTHS):
                period = date(FIRST.year + month // 12, month % 12 + 1, 1)
                rows.append({"org_id": org_id, "startup_id": sid, "period": period, "is_baseline": month == 0,
                             "revenue": (index + 1) * 1_000_000 + month * 250_000, "employees_full_time": 3,
                             "employees_part_time": 1, "jobs_created": month % 3 == 0, "funding_equity": 0,
                             "funding_debt": 0, "funding_grant": 50_000_000 if month == 6 else 0, "customers": month,
                             "products_commercialised": month == 12, "ip_filings": month == 18, "custom": {},
                             "notes": "", "created_at": now, "updated_at": now})
        conn.execute(insert(CheckIn), rows)
        lab_id = conn.execute(insert(Lab).values(org_id=org_id, name="Lab", site="", description="")
                              .returning(Lab.id)).scalar()
        resource_ids = [conn.execute(insert(Resource).values(
            org_id=org_id, lab_id=lab_id, name=f"Machine {r}", kind="machine" if r % 2 else "bench", description="",
            active=True, open_24h=True, slot_minutes=30, min_minutes=30, max_minutes=240, buffer_minutes=0,
            max_days_ahead=60, min_notice_minutes=0, needs_approval=False, free_cancellation_hours=24,
            no_show_minutes=15, price_member=100_000, price_partner=120_000, price_external=200_000,
            created_at=now, updated_at=now).returning(Resource.id)).scalar() for r in range(RESOURCES)]
        start = datetime(2024, 1, 1, tzinfo=UTC)
        batch: list[dict] = []
        for n in range(bookings):
            rid = resource_ids[n % RESOURCES]
            begins = start + timedelta(hours=n // RESOURCES)
            ends = begins + timedelta(minutes=60)
            batch.append({"org_id": org_id, "resource_id": rid, "user_id": user_id,
                          "startup_id": startup_ids[n % STARTUPS], "starts_at": begins, "ends_at": ends,
                          "blocked_until": ends, "status": "completed", "credit_minutes": 60 if n % 3 else 0,
                          "price": 0 if n % 3 else 100_000, "currency": "VND", "note": "", "created_at": now,
                          "updated_at": now})
            if len(batch) == 10_000:
                conn.execute(insert(Booking), batch)
                batch = []
        if batch:
            conn.execute(insert(Booking), batch)
    engine.dispose()


def _request(url: str, fmt: str):
    from sqlalchemy import select

    from incubator import create_app
    from incubator.cohorts.models import Cohort
    from incubator.extensions import db
    from incubator.orgs.models import Organisation
    from incubator.reporting.scope import Period
    from incubator.reporting.services import Request

    app = create_app({"DATABASE_URL": url})
    ctx = app.test_request_context()
    ctx.push()
    session = db.session
    session.info["all_orgs"] = True
    org = session.execute(select(Organisation)).scalar_one()
    cohorts = list(session.execute(select(Cohort)).scalars())
    period = Period("custom", FIRST, date(FIRST.year + 2, 1, 1))
    return session, Request(viewer=org, cohorts=cohorts, period=period, fmt=fmt, locale="vi")


def bench_pdf(url: str) -> dict:
    from incubator.reporting import pdf  # noqa: F401  (imports matplotlib and WeasyPrint once, as a worker has)
    from incubator.reporting.services import render

    session, request = _request(url, "pdf")
    timings, cpu_timings, size = [], [], 0
    for _ in range(3):
        began, cpu = time.perf_counter(), time.process_time()
        path = render(session, request, date(2026, 1, 1))
        timings.append(time.perf_counter() - began)
        cpu_timings.append(time.process_time() - cpu)
        size = Path(path).stat().st_size
        Path(path).unlink()
    return {"pdf_seconds_first": round(timings[0], 2), "pdf_seconds_median": round(statistics.median(timings), 2),
            "pdf_cpu_seconds_median": round(statistics.median(cpu_timings), 2), "pdf_bytes": size}


def child_xlsx(url: str) -> None:
    """Runs in a child process: write the XLSX, print its figures as JSON."""
    from incubator.reporting.services import render

    session, request = _request(url, "xlsx")
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the app and its libraries, loaded
    began, cpu = time.perf_counter(), time.process_time()
    path = render(session, request, date(2026, 1, 1))
    seconds, cpu_seconds = time.perf_counter() - began, time.process_time() - cpu
    size = Path(path).stat().st_size
    Path(path).unlink()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"xlsx_seconds": round(seconds, 1), "xlsx_cpu_seconds": round(cpu_seconds, 1), "xlsx_bytes": size,
                      "xlsx_max_rss_mb": round(rss_mb, 1),
                      "xlsx_rss_before_mb": round(before_mb, 1), "xlsx_rss_growth_mb": round(rss_mb - before_mb, 1)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--bookings", type=int, default=200_000)
    parser.add_argument("--child-xlsx", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_xlsx:
        child_xlsx(args.child_xlsx)
        return
    url = _url(args)
    began = time.perf_counter()
    prepare(url, args.bookings)
    print(f"data: {STARTUPS} startups x {MONTHS} months of check-ins, {args.bookings} bookings "
          f"({time.perf_counter() - began:.0f} s to load)", file=sys.stderr)
    figures = {"startups": STARTUPS, "months": MONTHS, "bookings": args.bookings}
    # The PDF on its own data: 100 startups, 24 months (the bookings only add lab totals).
    child = subprocess.run([sys.executable, __file__, "--child-xlsx", url], capture_output=True, text=True,
                           check=True, env={**os.environ})
    figures.update(json.loads(child.stdout.strip().splitlines()[-1]))
    figures.update(bench_pdf(url))
    figures["targets"] = TARGETS
    figures["met"] = {name: figures[name] <= limit for name, limit in TARGETS.items()}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
