"""Test set-up.

* The database is built once per run by the migrations: a SQLite file, or the PostgreSQL database
  named by ``TEST_DATABASE_URL`` (its ``public`` schema is emptied first).
* Each test runs inside one transaction that is rolled back; requests and the ``session`` fixture
  share its connection, each in a savepoint.
* No test reaches the network: a guard fails any socket connection other than to the local
  database, Redis, or a live server the browser tests started.
* Under pytest-xdist (``-n 2``) each worker is a process with its own everything: its own
  ``INSTANCE_PATH`` folder, its own SQLite files (``tmp_path_factory`` is per worker), and on
  PostgreSQL its own database, ``<database>_<worker>`` (``test_gw0``, ``test_gw1``), created when
  missing. ``TEST_DATABASE_URL`` is rewritten to it inside the worker, so every fixture that derives a
  schema from it (the browser journeys' ``browser``, the crawl's ``crawl``) stays per worker too.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... in an xdist worker; None in a plain run


def worker_database_url(url: str, worker: str | None = WORKER) -> str:
    """The PostgreSQL database of one xdist worker: the same server, ``<database>_<worker>``."""
    if not worker or not url.startswith("postgresql"):
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


# Workers inherit the controller's environment: each takes a folder and a database of its own.
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="incubator-test-"))
if WORKER and Path(os.environ["INSTANCE_PATH"]).name != WORKER:
    os.environ["INSTANCE_PATH"] = str(Path(os.environ["INSTANCE_PATH"]) / WORKER)
    Path(os.environ["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    if os.environ.get("TEST_DATABASE_URL"):
        os.environ["TEST_DATABASE_URL"] = worker_database_url(os.environ["TEST_DATABASE_URL"])
os.environ["INCUBATOR_ENV"] = "testing"


from incubator.core import jobs, mail  # noqa: E402
from incubator.core.tenancy import ALL_ORGS  # noqa: E402
from incubator.extensions import db, limiter  # noqa: E402
from tests import factories  # noqa: E402

# Domain fixtures shared across test folders.
pytest_plugins = ["tests.cohorts.fixtures", "tests.mentoring.fixtures", "tests.booking.fixtures",
                  "tests.intake.fixtures", "tests.payments.fixtures", "tests.reporting.fixtures", "tests.live",
                  "tests.storage_fixtures"]



@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its own hook of the same name)
def pytest_collection_modifyitems(config, items):
    """Under xdist, the tests of a module that shares a module-scoped fixture (the crawl's demo
    database, an app with routes of its own) form one group, which ``--dist loadgroup`` sends to one
    worker: the fixture is built once, not once per worker. The groups run first (see below)."""
    if not WORKER:
        return
    grouped: set[pytest.Item] = set()
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        scopes = {d.scope for defs in info.name2fixturedefs.values() for d in defs} if info else set()
        if scopes & {"module", "class", "package"}:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
            grouped.add(item)
    # The long units first: the browser journeys (one group, minutes: tests/browser/conftest.py), then
    # the other groups (the crawl's is a minute or more); the many short tests left fill both workers to
    # the end, instead of one worker finishing a long unit alone.
    items.sort(key=lambda item: 0 if item.get_closest_marker("browser") else 1 if item in grouped else 2)


LOOPBACK = {"127.0.0.1", "::1", "localhost"}
ALLOWED_PORTS = {5432, 6379}


def create_database_if_missing(url: str) -> None:
    """CREATE DATABASE for a PostgreSQL URL whose database does not exist yet (an xdist worker's)."""
    parsed = make_url(url)
    server = create_engine(parsed.set(database="postgres", query={}), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": parsed.database}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        server.dispose()


def reset_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and Path(parsed.database).exists():
            Path(parsed.database).unlink()
        return
    create_database_if_missing(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        schema = parsed.query.get("options", "")
        name = re.search(r"search_path=(\w+)", schema)
        schema_name = name.group(1) if name else "public"
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    engine.dispose()


APP_ROLE = "incubator_app"  # a role held to row-level security (config.Testing, TEST_DATABASE_RLS)


def migrate(url: str) -> None:
    from alembic import command

    from incubator.cli import alembic_config

    command.upgrade(alembic_config(url), "head")
    grant_app_role(url)


def grant_app_role(url: str) -> None:
    """On PostgreSQL: the role ``incubator_app`` (created when missing: roles belong to the whole
    server) may use the tables the migrations just made, as the app does with ``DATABASE_ROLE``.
    It is no superuser and has no ``BYPASSRLS``: the policies hold it, where they never hold postgres."""
    if make_url(url).get_backend_name() != "postgresql":
        return
    from incubator.core.rls import grant_app_role as grant

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            grant(conn, APP_ROLE)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    reset_database(url)
    migrate(url)
    return url


@pytest.fixture(scope="session")
def app(database_url: str):
    from incubator import create_app

    application = create_app({"DATABASE_URL": database_url})
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture()
def connection(app):
    """One transaction per test, rolled back at the end."""
    conn = app.extensions["db_engine"].connect()
    trans = conn.begin()
    app.extensions["db_test_connection"] = conn
    try:
        yield conn
    finally:
        app.extensions.pop("db_test_connection", None)
        trans.rollback()
        conn.close()


@pytest.fixture()
def session(app, connection):
    """A session for arranging and checking data; it sees every organisation."""
    s = db.new_session(app)
    s.info[ALL_ORGS] = True
    factories._Session.current = s
    try:
        yield s
    finally:
        factories._Session.current = None
        s.close()


@pytest.fixture()
def client(app, connection):
    """A browser whose language is English unless a test says otherwise."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


QUEUE_STATE = ("storage_class", "storage_kwargs", "storage", "_immediate")


@pytest.fixture(autouse=True)
def _fresh_state(request):
    """Mail and rate limits start empty. The rate limiter and the job queue are module-level objects that
    each ``create_app`` points at its own storage: a test that builds an app of its own (one whose Redis is
    down, say) leaves them as they were, for the next test's app."""
    mail.outbox.clear()
    limiter_state = dict(vars(limiter))
    queue_state = {name: getattr(jobs.huey, name) for name in QUEUE_STATE}
    if "app" in request.fixturenames:
        with request.getfixturevalue("app").app_context():
            limiter.reset()
    yield
    vars(limiter).update(limiter_state)
    for name, value in queue_state.items():
        setattr(jobs.huey, name, value)


# -- no network ------------------------------------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(sock: socket.socket, address) -> None:
    if sock.family == socket.AF_UNIX:
        return
    host, port = address[0], address[1]
    if host in LOOPBACK and port in ALLOWED_PORTS:
        return
    raise RuntimeError(f"network access in a test: {host}:{port}")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    def connect(self, address):
        _check_address(self, address)
        return _real_connect(self, address)

    def connect_ex(self, address):
        _check_address(self, address)
        return _real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield


# -- helpers ---------------------------------------------------------------------------------------

@contextmanager
def statements(app):
    """The SQL statements run inside the block (to hold list pages to a fixed number of queries). Under
    row-level security (tests/rls) the transaction's ``set_config`` of its organisation is not a query
    of the page's rows and is not counted: bench/rls.py measures that cost."""
    from sqlalchemy import event

    seen: list[str] = []

    def listener(*args) -> None:
        if not args[2].startswith("SELECT set_config('app."):
            seen.append(args[2])

    engine = app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def page_queries(app, client, url: str) -> int:
    """How many statements one GET of ``url`` runs (it must answer 200)."""
    with statements(app) as seen:
        assert client.get(url).status_code == 200
    return len(seen)


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, url: str = "/auth/login") -> str:
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def login(client, email: str, password: str = factories.PASSWORD):
    token = csrf_token(client, "/auth/login")
    return client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture()
def sign_in(client):
    def _sign_in(user, password: str = factories.PASSWORD):
        response = login(client, user.email, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _sign_in
