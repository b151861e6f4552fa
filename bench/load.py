"""Load and fault run: locust users of every role against gunicorn, PostgreSQL and Redis of its own.

    .venv/bin/python bench/load.py [--users 20] [--seconds 30] [--fault none|postgres-restart|redis-stop]
                                   [--fault-at 10] [--outage 5] [--port 5150]

It starts everything itself on 127.0.0.1, from ``--port`` up (5150: gunicorn, 5151: PostgreSQL, 5152:
Redis), and stops it all at the end:

* a PostgreSQL cluster made with ``initdb`` in a temporary folder (``/usr/lib/postgresql/15/bin``; as the
  ``postgres`` user when run as root), started with ``pg_ctl``; the migrations and the demo
  (``incubator.demo.seed``, as ``flask seed-demo``) in it, and an API token per role;
* ``redis-server`` with an append-only file written at every command (a job queued before a stop is still
  there after the start), the job queue (Huey) and the rate limits of the app;
* gunicorn, 4 workers x 2 threads (the production settings of ``config.py``, ``--preload``), development
  configuration. No Huey consumer runs: every queued job stays in Redis, where it is counted.

Locust runs as a library (``Environment`` and a local runner): ``--users`` users, a mix of managers,
founders, mentors and funders, signed in through the sign-in form, reading pages and the API and writing
through the API, each write tagged with a unique marker: managers create startups (name) and invite
members (an address, which queues a mail job), founders book machines (the booking's note). After the
run the database is asked for every marker of a write that was answered 2xx (``lost_writes``: the ones
missing), and Redis for the mail job of every acknowledged invitation (``lost_jobs``).

``--fault postgres-restart`` stops PostgreSQL at ``--fault-at`` seconds (``pg_ctl stop -m fast``) and starts
it again ``--outage`` seconds later; ``--fault redis-stop`` does the same with Redis. The JSON then says
what was answered while the service was away (``during_outage``: status -> count of the requests in flight
at any moment of it; 0 is a failed connection), and ``recovery_s``: from the service answering again to the
first 2xx of a probe that needs it, sent one at a time every 0.25 s from the fault on (``/healthz``, a
``SELECT 1``, for PostgreSQL; an invitation, which queues a job, for Redis).

The last line on stdout is one JSON object: requests/s, p50/p95/p99 in ms, errors by status, the 500 count,
acknowledged and lost writes and jobs. Human lines go to stderr. About 1.5 minutes on a shared 2-core
machine for 20 users and 30 seconds (most of it the demo's seeding).
"""

from __future__ import annotations  # noqa: I001 (locust first, see below)

# locust patches the standard library for gevent when it is imported: first, before anything opens sockets.
import locust
from locust import HttpUser, between, task
from locust.env import Environment

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="incubator-bench-load-"))
os.environ.setdefault("INSTANCE_PATH", str(WORK / "instance"))
os.environ["INCUBATOR_ENV"] = "development"

from sqlalchemy import create_engine, text  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "incubator-demo-2026"  # noqa: S105 (the demo accounts' published password)
EMAILS = {"manager": "manager@bbi.example.com", "founder": "founder@bbi.example.com",
          "mentor": "mentor@bbi.example.com", "funder": "funder@bbi.example.com"}
RUN = uuid.uuid4().hex[:8]  # in every marker of this run
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the services ---------------------------------------------------------------------------------------

def _as_postgres(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: as root, run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Postgres:
    def __init__(self, port: int) -> None:
        self.port = port
        self.data = WORK / "pgdata"
        self.logfile = WORK / "postgres.log"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/incubator_load"

    def init(self) -> None:
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(WORK, "postgres")
            shutil.chown(self.data, "postgres")
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True)
        self.start()
        subprocess.run(_as_postgres([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                                     "postgres", "incubator_load"]), check=True)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {WORK} -c max_connections=100 -c fsync=on"
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                                     "-o", options, "-w", "start"]), check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       check=False, capture_output=True)


class Redis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.folder = WORK / "redis"
        self.folder.mkdir()
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=(WORK / "redis.log").open("ab"), stderr=subprocess.STDOUT)
        import redis

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis flushes its append-only file and exits
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_env(pg: Postgres, redis_url: str) -> dict[str, str]:
    return {**os.environ, "INCUBATOR_ENV": "development", "DATABASE_URL": pg.url, "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING", "SECRET_KEY": "bench-load-" + "x" * 32, "FLASK_DEBUG": "0",
            "LOGIN_LIMIT_PER_IP": "10000 per minute", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024",
            "ARGON2_PARALLELISM": "1", "STORAGE_URL": f"file://{WORK / 'uploads'}"}


def prepare(pg: Postgres, redis_url: str) -> dict[str, Any]:
    """The migrations and the demo in the bench's database; API tokens and the ids the users need."""
    from alembic import command

    from incubator import create_app
    from incubator.accounts import services
    from incubator.cli import alembic_config
    from incubator.demo import seed
    from incubator.extensions import db

    os.environ.update({k: v for k, v in server_env(pg, redis_url).items() if k.startswith("ARGON2")})
    command.upgrade(alembic_config(pg.url), "head")
    app = create_app({"DATABASE_URL": pg.url, "REDIS_URL": None, "HUEY_IMMEDIATE": True})
    with app.app_context():
        seed(db.session, app.config["DEMO_PASSWORD"])
        tokens = {}
        for role, email in EMAILS.items():
            user = services.get_user_by_email(db.session, email)
            assert user is not None, email
            tokens[role], _record = services.create_api_token(db.session, user, "bench-load")
        db.session.commit()
        db.engine.dispose()
    engine = create_engine(pg.url)
    with engine.connect() as conn:
        cohort = conn.execute(text("SELECT id FROM cohorts WHERE name = 'BBI Cohort 2026'")).scalar_one()
        resources = list(conn.execute(text(
            "SELECT id FROM resources WHERE name LIKE 'Laser cutter%' OR name LIKE '3D printer%'")).scalars())
    engine.dispose()
    return {"tokens": tokens, "cohort": cohort, "resources": resources}


def serve(pg: Postgres, redis_url: str, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:config", "--workers", "4",
                             "--threads", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "60", "wsgi:app"],
                            cwd=ROOT, env=server_env(pg, redis_url), stdout=(WORK / "gunicorn.log").open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:  # noqa: S310 (loopback)
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {base}; see {WORK / 'gunicorn.log'}")


# -- what the users do ----------------------------------------------------------------------------------

SAMPLES: list[tuple[float, float, int, str]] = []  # (start, end, status, name), monotonic seconds
ACKED: list[tuple[str, str]] = []  # (kind, marker) of each write answered 2xx
SETUP: dict[str, Any] = {}


def _record(name: str, began: float, status: int) -> None:
    SAMPLES.append((began, time.monotonic(), status, name))


class Role(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    role = ""

    def on_start(self) -> None:
        self.api = {"Authorization": f"Bearer {SETUP['tokens'][self.role]}"}
        self.signed_in = False
        self.sign_in()

    def sign_in(self) -> None:
        page = self.call("GET", "/auth/login", "sign-in page")
        token = CSRF_RE.search(page.text) if page is not None and page.status_code == 200 else None
        if token is None:
            return
        done = self.call("POST", "/auth/login", "sign in", data={"csrf_token": token.group(1),
                                                                 "email": EMAILS[self.role], "password": PASSWORD})
        self.signed_in = done is not None and done.status_code == 302

    def call(self, method: str, path: str, name: str, **kwargs: Any) -> Any:
        began = time.monotonic()
        try:
            answer = self.client.request(method, path, name=name, timeout=30, allow_redirects=False, **kwargs)
        except Exception:  # noqa: BLE001 (a refused or cut connection is an answer of its own: 0)
            _record(name, began, 0)
            return None
        _record(name, began, answer.status_code)
        return answer

    def page(self, path: str, name: str) -> None:
        if not self.signed_in:
            self.sign_in()
            return
        self.call("GET", path, name)

    def write(self, kind: str, path: str, body: dict[str, Any], marker: str) -> None:
        answer = self.call("POST", path, f"POST {kind}", json=body, headers=self.api)
        if answer is not None and 200 <= answer.status_code < 300:
            ACKED.append((kind, marker))


def marker(kind: str) -> str:
    return f"load-{RUN}-{kind}-{uuid.uuid4().hex[:12]}"


class Manager(Role):
    weight = 2
    role = "manager"

    @task(2)
    def dashboard(self) -> None:
        self.page(f"/o/bbi/cohorts/{SETUP['cohort']}", "page cohort dashboard")

    @task(2)
    def startups_api(self) -> None:
        self.call("GET", "/api/v1/orgs/bbi/startups", "api startups", headers=self.api)

    @task(2)
    def create_startup(self) -> None:
        name = marker("startup")
        self.write("startup", "/api/v1/orgs/bbi/startups", {"name": name}, name)

    @task(4)
    def invite(self) -> None:
        email = marker("invite") + "@load.example.org"
        self.write("invitation", "/api/v1/orgs/bbi/invitations", {"email": email, "role": "mentor"}, email)


class Founder(Role):
    weight = 4
    role = "founder"

    @task(3)
    def my_bookings(self) -> None:
        self.page("/o/bbi/bookings", "page my bookings")

    @task(2)
    def week_grid(self) -> None:
        self.page(f"/o/bbi/resources/{random.choice(SETUP['resources'])}", "page week grid")

    @task(3)
    def book(self) -> None:
        """An hour on a machine the founder is certified for, some day of the next weeks (many are
        refused: taken, over the quota, closed; those are 4xx and not counted as writes)."""
        day = datetime.now(UTC).date() + timedelta(days=random.randint(1, 40))
        starts = datetime(day.year, day.month, day.day, random.randint(2, 9), 0, tzinfo=UTC)  # 9:00-16:00 ICT
        note = marker("booking")
        self.write("booking", "/api/v1/orgs/bbi/bookings", {
            "resource_id": random.choice(SETUP["resources"]), "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=1)).isoformat(), "note": note}, note)


class Mentor(Role):
    weight = 2
    role = "mentor"

    @task(2)
    def home(self) -> None:
        self.page("/o/bbi/", "page org home")

    @task(1)
    def mentors(self) -> None:
        self.page("/o/bbi/mentors", "page mentors")

    @task(1)
    def me(self) -> None:
        self.call("GET", "/api/v1/me", "api me", headers=self.api)


class Funder(Role):
    weight = 1
    role = "funder"

    @task(2)
    def reports(self) -> None:
        self.page("/o/bbi/reports", "page funder reports")

    @task(1)
    def report_api(self) -> None:
        self.call("GET", f"/api/v1/orgs/bbi/cohorts/{SETUP['cohort']}/report", "api cohort report",
                  headers=self.api)


# -- the run and its figures ----------------------------------------------------------------------------

def inject(fault: str, at: float, outage: float, pg: Postgres, redis_server: Redis, marks: dict[str, float]) -> None:
    gevent.sleep(at)
    marks["down"] = time.monotonic()
    log(f"fault: {fault}, stopping at {at:.0f} s for {outage:.0f} s")
    (pg.stop if fault == "postgres-restart" else redis_server.stop)()
    marks["stopped"] = time.monotonic()
    gevent.sleep(max(0.0, outage - (marks["stopped"] - marks["down"])))
    (pg.start if fault == "postgres-restart" else redis_server.start)()  # returns once it answers
    marks["back"] = time.monotonic()
    log(f"fault: {fault} back after {marks['back'] - marks['down']:.1f} s")


def probe(base: str, fault: str, marks: dict[str, float], until: float) -> None:
    """From the fault on, one request at a time (every 0.25 s) that needs the stopped service: ``/healthz``
    (a ``SELECT 1``) for PostgreSQL, an invitation (it queues a job) for Redis; ``recovery_s`` is read from
    these, so that it does not depend on which task a user happens to pick."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {SETUP['tokens']['manager']}"
    while "down" not in marks:
        gevent.sleep(0.1)
    while time.monotonic() < until:
        began = time.monotonic()
        email = marker("invite") + "@load.example.org"
        try:
            if fault == "postgres-restart":
                status = session.get(f"{base}/healthz", timeout=30).status_code
            else:
                status = session.post(f"{base}/api/v1/orgs/bbi/invitations", json={"email": email, "role": "mentor"},
                                      timeout=30).status_code
                if 200 <= status < 300:
                    ACKED.append(("invitation", email))
        except requests.RequestException:
            status = 0
        _record(PROBES[fault], began, status)
        gevent.sleep(0.25)


PROBES = {"postgres-restart": "probe healthz", "redis-stop": "probe invitation"}


def lost(pg: Postgres, redis_url: str) -> dict[str, Any]:
    """The acknowledged writes missing from the database, and the acknowledged invitations whose mail job
    is not in Redis."""
    from flask import Flask

    from incubator.core import jobs

    queries = {"startup": "SELECT name FROM startups WHERE name LIKE :run",
               "booking": "SELECT note FROM bookings WHERE note LIKE :run",
               "invitation": "SELECT email FROM invitations WHERE email LIKE :run"}
    engine = create_engine(pg.url)
    with engine.connect() as conn:
        found = {kind: set(conn.execute(text(q), {"run": f"load-{RUN}-%"}).scalars()) for kind, q in queries.items()}
    engine.dispose()
    missing = [(kind, m) for kind, m in ACKED if m not in found[kind]]
    probe = Flask("probe")
    probe.config.update(HUEY_IMMEDIATE=False, REDIS_URL=redis_url)
    jobs.init_app(probe)
    queued = set()
    for pending in jobs.huey.pending():
        data = pending.args[0] if pending.args else None
        if isinstance(data, dict):
            queued.update(data.get("to", []))
    invited = [m for kind, m in ACKED if kind == "invitation"]
    return {"lost_writes": len(missing), "lost_examples": missing[:5],
            "acknowledged_invitations": len(invited), "lost_jobs": sum(1 for m in invited if m not in queued),
            "in_database_not_acknowledged": sum(len(v) for v in found.values()) - (len(ACKED) - len(missing))}


def figures(began: float, ended: float, marks: dict[str, float], fault: str) -> dict[str, Any]:
    times = sorted((end - start) * 1000 for start, end, _s, _n in SAMPLES)
    quantiles = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
    by_status: dict[str, int] = {}
    by_request: dict[str, dict[str, int]] = {}
    for _start, _end, status, name in SAMPLES:
        by_status[str(status)] = by_status.get(str(status), 0) + 1
        counts = by_request.setdefault(name, {})
        counts[str(status)] = counts.get(str(status), 0) + 1
    result: dict[str, Any] = {
        "requests": len(SAMPLES), "requests_per_s": round(len(SAMPLES) / (ended - began), 1),
        "p50_ms": round(quantiles[49], 1), "p95_ms": round(quantiles[94], 1), "p99_ms": round(quantiles[98], 1),
        "by_status": dict(sorted(by_status.items())),
        "errors_by_status": {s: n for s, n in sorted(by_status.items()) if s == "0" or int(s) >= 400},
        "status_500": by_status.get("500", 0),
        "by_request": by_request,
        "acknowledged_writes": {kind: sum(1 for k, _m in ACKED if k == kind)
                                for kind in ("startup", "booking", "invitation")},
    }
    if "back" in marks:
        during: dict[str, int] = {}
        for start, end, status, _name in SAMPLES:
            if end >= marks["down"] and start <= marks["back"]:
                during[str(status)] = during.get(str(status), 0) + 1
        result["during_outage"] = dict(sorted(during.items()))  # requests in flight at any moment of it
        firsts = [end for start, end, status, name in SAMPLES
                  if start >= marks["back"] and 200 <= status < 300 and name == PROBES[fault]]
        result["outage_s"] = round(marks["back"] - marks["down"], 2)
        result["recovery_s"] = round(min(firsts) - marks["back"], 2) if firsts else None
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--fault", choices=["none", "postgres-restart", "redis-stop"], default="none")
    parser.add_argument("--fault-at", type=float, default=10, help="seconds into the run")
    parser.add_argument("--outage", type=float, default=5, help="seconds the service stays away")
    parser.add_argument("--port", type=int, default=5150, help="gunicorn's; PostgreSQL +1, Redis +2")
    args = parser.parse_args()
    if not 0 < args.users <= 100 or not 0 < args.seconds <= 600:
        parser.error("at most 100 users and 600 seconds")
    pg, redis_server = Postgres(args.port + 1), Redis(args.port + 2)
    server = None
    try:
        began = time.monotonic()
        pg.init()
        redis_server.start()
        SETUP.update(prepare(pg, redis_server.url))
        server = serve(pg, redis_server.url, args.port)
        base = f"http://127.0.0.1:{args.port}"
        wait_until_up(base, server)
        log(f"ready in {time.monotonic() - began:.0f} s: gunicorn {base}, PostgreSQL :{pg.port}, "
            f"Redis :{redis_server.port}; {args.users} users for {args.seconds:.0f} s, fault {args.fault}")
        env = Environment(user_classes=[Manager, Founder, Mentor, Funder], host=base)
        runner = env.create_local_runner()
        marks: dict[str, float] = {}
        if args.fault != "none":
            gevent.spawn(inject, args.fault, args.fault_at, args.outage, pg, redis_server, marks)
        started = time.monotonic()
        if args.fault != "none":
            gevent.spawn(probe, base, args.fault, marks, started + args.seconds - 1)
        runner.start(args.users, spawn_rate=args.users)
        gevent.spawn_later(args.seconds, runner.quit)
        runner.greenlet.join()
        ended = time.monotonic()
        result = {"users": args.users, "seconds": args.seconds, "fault": args.fault, "locust": locust.__version__,
                  **figures(started, ended, marks, args.fault), **lost(pg, redis_server.url)}
        log(json.dumps(result, indent=1))
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)  # gunicorn's quick shutdown: the run is over
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        try:
            redis_server.stop()
        finally:
            pg.stop()
    shutil.rmtree(WORK, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
