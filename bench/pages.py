"""Benchmark of the key pages on PostgreSQL, served by gunicorn (3 sync workers), as the data grows.

    .venv/bin/python bench/pages.py [--pages a,b] [--scales 1,10,100] [--requests N]
                                    [--url postgresql+psycopg://postgres@127.0.0.1:5432/test_h4] [--port 5140]
                                    [--reuse]

It builds the demo (``incubator.demo.seed``, as ``flask seed-demo``) in a schema of its own per scale
(``bench_pages_1x``, ``bench_pages_10x``, ``bench_pages_100x``) of that database, rebuilt by the
migrations (``--reuse`` keeps those of a previous run), and serves each with gunicorn on 127.0.0.1
(free ports from ``--port``), so that the scales are measured side by side. It signs in as the demo
users (manager, founder and funder of bbi, the province's funder at dost-bd) and issues an API token
with ``flask issue-token`` for the manager.
Then it warms the pages up and measures the median latency of ``--requests`` requests per page and
scale, interleaving every page of every scale and the bare routes in a shuffled order each round so
that the machine's load hits them all alike. A run of every page takes about 3 to 5 minutes on a
shared 2-core machine.

Scales: 1x is the demo. 10x clones in SQL (new keys, ``INSERT ... SELECT`` over ``generate_series``)
the startups of the reported cohorts with their enrolments, check-ins, milestones, mentor matches and
sessions (90 startups in BBI Cohort 2026), the applications of the open call with their applicants,
reviews (scores varied), files and timelines (300 applications), and the bookings of bbi's lab with
their ledger rows, spread over the weeks before and after (ten times as many). 100x grows BBI Cohort
2026 to 900 startups, for the cohort dashboard only.

The bare route is ``/healthz``: one ``SELECT 1``, no session. ``ratio_to_bare`` is a page's median
at 1x over the bare route's median at 1x; ``growth_10x`` (``growth_100x``) is its median at 10x (100x)
over its median at 1x. Human lines go to stderr; the last line on stdout is one JSON object.

The pages: ``ranking`` is the pipeline list of the open call in its default order (weighted total),
``pipeline`` the same list narrowed to one stage and sorted by the normalised score, ``ranking_api``
its API twin; ``funder_portal`` is the reports page as bbi's funder, ``province_rollup`` as the
funder of the Department of Science and Technology (dost-bd), whose cohorts span organisations.

It imports the application from the repository it sits in, so a copy in another worktree measures
that worktree's code.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="incubator-bench-pages-"))
os.environ["INCUBATOR_ENV"] = "testing"

import requests  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlalchemy.engine import Connection  # noqa: E402

SCHEMA = "bench_pages"
PASSWORD = "incubator-demo-2026"  # noqa: S105 (the demo accounts' published password)
TARGETS = {"ratio_to_bare": 4, "growth_10x": 1.3}
USERS = {"manager": "manager@bbi.example.com", "founder": "founder@bbi.example.com",
         "funder": "funder@bbi.example.com", "province": "funder@dost-bd.example.com"}
# page: (who, path template); the ids are filled in from the demo. The 100x scale measures DASHBOARD_ONLY.
PAGES: dict[str, tuple[str, str]] = {
    "dashboard": ("manager", "/o/bbi/cohorts/{cohort}"),
    "reports": ("manager", "/o/bbi/reports"),
    "ranking": ("manager", "/o/bbi/calls/{call}/applications"),
    "pipeline": ("manager", "/o/bbi/calls/{call}/applications?stage=in_review&sort=normalised"),
    "ranking_api": ("api", "/api/v1/orgs/bbi/calls/{call}/ranking"),
    "week_grid": ("founder", "/o/bbi/resources/{resource}"),
    "my_bookings": ("founder", "/o/bbi/bookings"),
    "api_report": ("api", "/api/v1/orgs/bbi/cohorts/{cohort}/report"),
    "funder_portal": ("funder", "/o/bbi/reports"),
    "province_rollup": ("province", "/o/dost-bd/reports"),
}
DASHBOARD_ONLY = ("dashboard",)
BARE = "/healthz"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the data ---------------------------------------------------------------------------------------

def schema_url(url: str, scale: int) -> str:
    """The database URL whose search path is the scale's own schema."""
    return make_url(url).update_query_dict({"options": f"-csearch_path={SCHEMA}_{scale}x"}).render_as_string(
        hide_password=False)


def prepare(url: str, scale: int) -> None:
    """The scale's schema rebuilt by the migrations, the demo in it, grown to the scale."""
    from alembic import command

    from incubator import create_app
    from incubator.cli import alembic_config
    from incubator.demo import seed
    from incubator.extensions import db

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA}_{scale}x CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}_{scale}x"))
    engine.dispose()
    url = schema_url(url, scale)
    command.upgrade(alembic_config(url), "head")
    app = create_app({"DATABASE_URL": url})
    with app.app_context():
        seed(db.session, app.config["DEMO_PASSWORD"])
        db.session.commit()
        db.engine.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        page_ids = ids(conn)
        if scale >= 10:
            grow_startups(conn, [page_ids["cohort"], page_ids["tdmu_cohort"]], 1, 9)
            grow_applications(conn, page_ids["call"], 1, 9)
            grow_bookings(conn, 1, 9)
        if scale == 100:  # for the dashboard: BBI Cohort 2026 alone grows further
            grow_startups(conn, [page_ids["cohort"]], 10, 99)
        conn.execute(text("ANALYZE"))
        counts = {t: conn.execute(text(q), page_ids).scalar_one() for t, q in (
            ("startups in the cohort", "SELECT count(*) FROM enrolments WHERE cohort_id = :cohort"),
            ("applications in the call", "SELECT count(*) FROM applications WHERE call_id = :call"),
            ("reviews", "SELECT count(*) FROM reviews"), ("check-ins", "SELECT count(*) FROM checkins"),
            ("bookings", "SELECT count(*) FROM bookings"))}
    engine.dispose()
    log(f"{scale}x in {SCHEMA}_{scale}x: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def built(url: str, scale: int) -> bool:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM information_schema.tables WHERE table_schema = :schema "
                                  "AND table_name = 'alembic_version'"), {"schema": f"{SCHEMA}_{scale}x"}).first()
    engine.dispose()
    return found is not None


def ids(conn: Connection) -> dict[str, int]:
    return {
        "cohort": conn.execute(text("SELECT id FROM cohorts WHERE name = 'BBI Cohort 2026'")).scalar_one(),
        "tdmu_cohort": conn.execute(text("SELECT id FROM cohorts WHERE name = 'TDMU Cohort 2026'")).scalar_one(),
        "call": conn.execute(text("SELECT id FROM calls WHERE title_en = 'BBI Incubation 2027'")).scalar_one(),
        "resource": conn.execute(text("SELECT id FROM resources WHERE name LIKE 'Laser cutter%'")).scalar_one(),
    }


def _columns(conn: Connection, table: str) -> list[str]:
    return list(conn.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = :schema AND table_name = :table "
        "ORDER BY ordinal_position"), {"schema": _schema(conn), "table": table}).scalars())


def _schema(conn: Connection) -> str:
    return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def _clone(conn: Connection, table: str, source: str, **overrides: str) -> int:
    """``INSERT INTO table SELECT`` each column from the source row ``s`` unless overridden (an
    expression); ``id`` is the sequence's unless given."""
    columns = [c for c in _columns(conn, table) if c != "id" or "id" in overrides]
    values = ", ".join(overrides.get(c, f"s.{c}") for c in columns)
    result = conn.execute(text(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} FROM {source}"))
    return result.rowcount


def _key_map(conn: Connection, name: str, table: str, source: str, first: int, last: int) -> None:
    """``name (old, copy, new)``: a new key from ``table``'s sequence for each source row ``s`` and copy."""
    schema = _schema(conn)
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    conn.execute(text(
        f"CREATE TEMP TABLE {name} AS SELECT s.id AS old, g AS copy, "
        f"nextval(pg_get_serial_sequence('{schema}.{table}', 'id')) AS new "
        f"FROM generate_series({first}, {last}) g, {source}"))
    conn.execute(text(f"CREATE INDEX ON {name} (old, copy)"))


def grow_startups(conn: Connection, cohort_ids: list[int], first: int, last: int) -> None:
    """Copies ``first..last`` of the demo's startups in those cohorts, with what hangs off them."""
    cohorts = ", ".join(str(i) for i in cohort_ids)
    _key_map(conn, "map_startups", "startups",
             f"startups s WHERE s.name NOT LIKE '% #%' AND s.id IN "
             f"(SELECT startup_id FROM enrolments WHERE cohort_id IN ({cohorts}))", first, last)
    _clone(conn, "startups", "startups s JOIN map_startups m ON m.old = s.id", id="m.new",
           name="s.name || ' #' || m.copy", registration_number="coalesce(s.registration_number, 'n' || s.id) || "
                                                                "'-' || m.copy")
    _clone(conn, "enrolments", f"enrolments s JOIN map_startups m ON m.old = s.startup_id "
                               f"WHERE s.cohort_id IN ({cohorts})", startup_id="m.new")
    for table in ("checkins", "milestones"):
        _clone(conn, table, f"{table} s JOIN map_startups m ON m.old = s.startup_id", startup_id="m.new")
    _key_map(conn, "map_matches", "matches", "matches s WHERE s.startup_id IN (SELECT old FROM map_startups)",
             first, last)
    _clone(conn, "matches", "matches s JOIN map_matches mm ON mm.old = s.id "
           "JOIN map_startups m ON m.old = s.startup_id AND m.copy = mm.copy", id="mm.new", startup_id="m.new")
    _clone(conn, "mentor_sessions", "mentor_sessions s JOIN map_matches mm ON mm.old = s.match_id",
           match_id="mm.new")


def grow_applications(conn: Connection, call_id: int, first: int, last: int) -> None:
    """Copies of the open call's applications by new applicants, with reviews (scores moved by -1..+1
    within the criterion's scale), files and timelines."""
    originals = f"applications s WHERE s.call_id = {call_id} AND s.applicant_id IN " \
                "(SELECT id FROM users WHERE email NOT LIKE '%+%')"
    _key_map(conn, "map_users", "users", f"users s WHERE s.id IN (SELECT s.applicant_id FROM {originals})",
             first, last)
    _clone(conn, "users", "users s JOIN map_users m ON m.old = s.id", id="m.new",
           email="replace(s.email, '@', '+' || m.copy || '@')", name="s.name || ' #' || m.copy")
    _key_map(conn, "map_apps", "applications", originals, first, last)
    _clone(conn, "applications", "applications s JOIN map_apps ma ON ma.old = s.id "
           "JOIN map_users m ON m.old = s.applicant_id AND m.copy = ma.copy", id="ma.new", applicant_id="m.new",
           answers="(s.answers::jsonb || jsonb_build_object('startup_name', "
                   "coalesce(s.answers->>'startup_name', '') || ' #' || ma.copy))::json")
    scores = (f"CASE WHEN s.scores IS NULL THEN NULL ELSE coalesce((SELECT jsonb_object_agg(e.key, "
              f"LEAST(c.scale_max, GREATEST(c.scale_min, (e.value #>> '{{}}')::numeric "
              f"+ (ma.copy + s.id + length(e.key)) % 3 - 1))) FROM jsonb_each(s.scores::jsonb) e "
              f"JOIN criteria c ON c.call_id = {call_id} AND c.key = e.key), '{{}}'::jsonb)::json END")
    _clone(conn, "reviews", "reviews s JOIN map_apps ma ON ma.old = s.application_id", application_id="ma.new",
           scores=scores)
    _clone(conn, "application_files", "application_files s JOIN map_apps ma ON ma.old = s.application_id",
           application_id="ma.new", storage_key="s.storage_key || '.' || ma.copy")
    _clone(conn, "application_transitions", "application_transitions s JOIN map_apps ma "
           "ON ma.old = s.application_id", application_id="ma.new",
           actor_id="CASE WHEN s.actor_id = (SELECT applicant_id FROM applications WHERE id = s.application_id) "
                    "THEN (SELECT new FROM map_users WHERE old = s.actor_id AND copy = ma.copy) ELSE s.actor_id END")


def grow_bookings(conn: Connection, first: int, last: int) -> None:
    """Copies of the demo's bookings, copy k moved by ceil(k/2) four-week spans, back for odd k and
    forward for even k (the demo's bookings span less than four weeks, so none overlap)."""
    shift = "make_interval(days => 28 * (CASE WHEN m.copy % 2 = 1 THEN -(m.copy + 1) / 2 ELSE m.copy / 2 END))"
    _key_map(conn, "map_bookings", "bookings", "bookings s", first, last)
    moved = f"s.starts_at + {shift}"
    _clone(conn, "bookings", "bookings s JOIN map_bookings m ON m.old = s.id", id="m.new",
           starts_at=moved, ends_at=f"s.ends_at + {shift}", blocked_until=f"s.blocked_until + {shift}",
           status=f"CASE WHEN s.status IN ('completed', 'confirmed') THEN CASE WHEN {moved} < now() "
                  f"THEN 'completed' ELSE 'confirmed' END ELSE s.status END")
    _clone(conn, "ledger_entries", "ledger_entries s JOIN map_bookings m ON m.old = s.booking_id",
           booking_id="m.new", reference="s.reference || '-' || m.copy")


# -- the server and the clients ---------------------------------------------------------------------

def free_port(start: int) -> int:
    for port in range(start, start + 10):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {start}..{start + 9}")


def server_env(url: str) -> dict[str, str]:
    """The development configuration on that database, quiet, and with the cheap password hashing the
    demo was seeded with (signing in measures nothing here, and would otherwise rehash)."""
    return {**os.environ, "INCUBATOR_ENV": "development", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "bench-pages-" + "x" * 32, "FLASK_DEBUG": "0", "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST": "1024", "ARGON2_PARALLELISM": "1"}


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    logfile = (Path(os.environ["INSTANCE_PATH"]) / f"gunicorn-{port}.log").open("wb")  # noqa: SIM115 (the server's)
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "3", "--worker-class", "sync",
                             "--bind", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
                            cwd=ROOT, env=server_env(url), stdout=logfile, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_until_up(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(f"{base}{BARE}", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still loading the app
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {base}; see {os.environ['INSTANCE_PATH']}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def sign_in(base: str, email: str) -> requests.Session:
    client = requests.Session()
    page = client.get(f"{base}/auth/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit("no CSRF token on the sign-in page")
    answer = client.post(f"{base}/auth/login", data={"csrf_token": token.group(1), "email": email,
                                                     "password": PASSWORD}, timeout=30, allow_redirects=False)
    if answer.status_code not in (302, 303):
        raise SystemExit(f"{email} could not sign in: {answer.status_code}")
    return client


def issue_token(url: str, email: str) -> subprocess.Popen[str]:
    """``flask issue-token`` for ``email``, running (its last word is the token)."""
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "issue-token", email, "--name", "bench"],
                            cwd=ROOT, env=server_env(url), stdout=subprocess.PIPE, text=True)


def api_client(command: subprocess.Popen[str]) -> requests.Session:
    out, _err = command.communicate(timeout=180)
    if command.returncode != 0:
        raise SystemExit("flask issue-token failed")
    client = requests.Session()
    client.headers["Authorization"] = f"Bearer {out.split()[-1]}"
    return client


# -- the measurement --------------------------------------------------------------------------------

def fetch(client: requests.Session, url: str) -> float:
    began = time.perf_counter()
    answer = client.get(url, timeout=120, allow_redirects=False)
    elapsed = (time.perf_counter() - began) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{url} answered {answer.status_code}")
    return elapsed


def measure(targets: dict[tuple[int, str], tuple[requests.Session, str]], rounds: int,
            warmup: int = 3) -> tuple[dict[tuple[int, str], float], dict[tuple[int, str], int]]:
    """The median in ms of each (scale, page), and each one's size in bytes; the requests of a round go
    in a shuffled order over every scale and page, so that a change of the machine's load hits all."""
    sizes = {}
    for key, (client, url) in targets.items():
        for _ in range(warmup):
            fetch(client, url)
        sizes[key] = len(client.get(url, timeout=120).content)
    samples: dict[tuple[int, str], list[float]] = {key: [] for key in targets}
    order = list(targets)
    rng = random.Random(15)
    for _ in range(rounds):
        rng.shuffle(order)
        for key in order:
            client, url = targets[key]
            samples[key].append(fetch(client, url))
    return {key: statistics.median(values) for key, values in samples.items()}, sizes


def options() -> tuple[argparse.Namespace, list[str], list[int]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", default=",".join(PAGES), help=f"comma-separated, of {', '.join(PAGES)}")
    parser.add_argument("--scales", default="1,10,100", help="1 is always measured; 100 measures the dashboard")
    parser.add_argument("--requests", type=int, default=20, help="requests per page and scale (after warming up)")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test_h4")
    parser.add_argument("--port", type=int, default=5140, help="the first port tried")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the schemas a previous run built (same code's migrations) instead of rebuilding")
    args = parser.parse_args()
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = set(pages) - set(PAGES)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    scales = sorted({1, *(int(s) for s in args.scales.split(",") if s.strip())})
    if set(scales) - {1, 10, 100}:
        parser.error("scales are 1, 10 and 100")
    if 100 in scales and not set(pages) & set(DASHBOARD_ONLY):
        scales.remove(100)
    return args, pages, scales


def start(args: argparse.Namespace, pages: list[str], scales: list[int], page_ids: dict[str, int],
          servers: list[subprocess.Popen[bytes]]) -> dict[tuple[int, str], tuple[requests.Session, str]]:
    """A server per scale (appended to ``servers``; they start side by side), its signed-in clients, and
    what to fetch."""
    port, bases, tokens = args.port, {}, {}
    for scale in scales:
        port = free_port(port)
        servers.append(serve(schema_url(args.url, scale), port))
        bases[scale] = f"http://127.0.0.1:{port}"
        port += 1
        measured = [p for p in pages if scale < 100 or p in DASHBOARD_ONLY]
        if any(PAGES[p][0] == "api" for p in measured):
            tokens[scale] = issue_token(schema_url(args.url, scale), USERS["manager"])
    targets: dict[tuple[int, str], tuple[requests.Session, str]] = {}
    for scale, server in zip(scales, servers, strict=True):
        base = bases[scale]
        wait_until_up(server, base)
        measured = [p for p in pages if scale < 100 or p in DASHBOARD_ONLY]
        clients = {role: sign_in(base, email) for role, email in USERS.items()
                   if role in {PAGES[p][0] for p in measured}}
        if scale in tokens:
            clients["api"] = api_client(tokens[scale])
        for page in measured:
            role, path = PAGES[page]
            targets[scale, page] = clients[role], base + path.format(**page_ids)
        targets[scale, "bare"] = requests.Session(), base + BARE
        log(f"{scale}x: gunicorn (3 sync workers) on {base}, signed in as {', '.join(sorted(clients))}")
    return targets


def summary(pages: list[str], scales: list[int], medians: dict[tuple[int, str], float]) -> dict[str, Any]:
    bare = medians[1, "bare"]
    result: dict[str, Any] = {}
    for page in pages:
        line = {"ratio_to_bare": round(medians[1, page] / bare, 2), "median_ms_1x": round(medians[1, page], 1)}
        for scale in scales[1:]:
            if (scale, page) in medians:
                line[f"growth_{scale}x"] = round(medians[scale, page] / medians[1, page], 2)
                line[f"median_ms_{scale}x"] = round(medians[scale, page], 1)
        result[page] = line
    return {"pages": result, "bare_ms": round(bare, 2),
            "bare_ms_by_scale": {str(s): round(medians[s, "bare"], 2) for s in scales}, "targets": TARGETS}


def main() -> None:
    args, pages, scales = options()
    began = time.perf_counter()
    for scale in scales:
        if not (args.reuse and built(args.url, scale)):
            prepare(args.url, scale)
    engine = create_engine(schema_url(args.url, 1))
    with engine.connect() as conn:
        page_ids = ids(conn)
    engine.dispose()
    log(f"demo built and grown in {time.perf_counter() - began:.0f} s: {page_ids}")
    servers: list[subprocess.Popen[bytes]] = []
    try:
        targets = start(args, pages, scales, page_ids, servers)
        log(f"servers up at {time.perf_counter() - began:.0f} s; measuring {args.requests} requests per page")
        medians, sizes = measure(targets, args.requests)
    finally:
        for server in servers:
            stop(server)
    for (scale, page), median in medians.items():
        log(f"{scale:>3}x {page:<16} median {median:8.1f} ms  {sizes[scale, page] / 1024:7.1f} KB")
    log(f"done in {time.perf_counter() - began:.0f} s (the bare route {BARE} is one SELECT 1; "
        f"the machine is shared, so read the ratios, not the milliseconds)")
    print(json.dumps(summary(pages, scales, medians)))


if __name__ == "__main__":
    main()
