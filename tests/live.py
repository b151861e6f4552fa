"""Live HTTP for concurrency tests: the test app served by a threaded werkzeug server on a free
loopback port, against the test database (SQLite file or ``TEST_DATABASE_URL``), with data that is
committed for real and removed afterwards.

Fixtures (registered in ``tests/conftest.py``):

* ``committed``: a ``Committed`` helper. Inside ``with committed.data() as s:`` the factories write
  through ``s`` (an ordinary session on its own connection, seeing every organisation), and the block
  commits at its end. Every organisation and user created through it is remembered, and at teardown
  every row that belongs to them (by ``org_id``, by a reference to one of their users, or by a
  reference to such a row, following the foreign keys) is deleted, children first.
  ``committed.token(user)`` issues a committed API token; ``committed.read()`` opens a session to
  check the outcome.
* ``live``: a ``Live`` server for the session's ``app``. ``live.url``; ``live.client()`` a
  ``requests.Session`` (cookies for the HTML forms); ``live.api(method, path, token, **kwargs)``;
  ``live.csrf(client, path)`` reads a form's token like a browser; ``live.race(n, fn)`` runs ``fn(i)``
  in ``n`` threads released at once by a barrier and answers their results in order (an exception in a
  thread is re-raised).

Under pytest-xdist each worker serves on its own free port (port 0: the system picks one) and
cleans up only what its own tests committed, in its own database (tests/conftest.py).

A test using these must not use ``session``, ``client`` or ``connection``: those bind the app to the
rolled-back test transaction, which no other connection can see.

Note for API races: each request updates its token's ``last_used_at``, which on PostgreSQL locks the
token's row until the request ends; give each racing client its own token, or the token's row lock
serialises the requests and hides the race under test.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from sqlalchemy import delete, event, or_, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from tests import factories

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Committed:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.org_ids: set[int] = set()
        self.user_ids: set[int] = set()

    def _session(self) -> Session:
        from incubator.core.tenancy import ALL_ORGS
        from incubator.extensions import db

        assert "db_test_connection" not in self.app.extensions, \
            "committed data needs a test without the session/client/connection fixtures"
        s = db.new_session(self.app)  # the app's own kind: under row-level security it says it spans orgs
        s.info[ALL_ORGS] = True
        return s

    @contextmanager
    def data(self) -> Iterator[Session]:
        """Arrange rows with the factories (or ``s.add``); committed when the block ends."""
        from incubator.accounts.models import User
        from incubator.orgs.models import Organisation

        s = self._session()

        @event.listens_for(s, "after_flush")
        def _remember(session: Session, _context: Any) -> None:
            for obj in session.new:
                if isinstance(obj, Organisation):
                    self.org_ids.add(obj.id)
                elif isinstance(obj, User):
                    self.user_ids.add(obj.id)

        previous, factories._Session.current = factories._Session.current, s
        try:
            with self.app.app_context():
                yield s
                s.commit()
        finally:
            factories._Session.current = previous
            s.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A fresh session (every organisation) to check what the requests left behind."""
        s = self._session()
        try:
            with self.app.app_context():
                yield s
        finally:
            s.rollback()
            s.close()

    def token(self, user: Any) -> str:
        """A committed API token for ``user`` (one per racing client: see the module's note)."""
        from incubator.accounts.services import create_api_token

        with self.data() as s:
            token, _record = create_api_token(s, s.merge(user), "live")
        return token

    def cleanup(self) -> None:
        from incubator.core.db import Base

        if not (self.org_ids or self.user_ids):
            return
        s = self._session()
        tables = Base.metadata.sorted_tables  # parents before children
        owned: dict[str, Any] = {}  # table name -> condition selecting the rows that go
        for table in tables:
            conditions = []
            if table.name == "organisations":
                conditions.append(table.c.id.in_(self.org_ids or {0}))
            if table.name == "users":
                conditions.append(table.c.id.in_(self.user_ids or {0}))
            if "org_id" in table.c and table.name != "organisations":
                conditions.append(table.c.org_id.in_(self.org_ids or {0}))
            for fk in table.foreign_keys:
                parent = fk.column.table
                if parent.name in owned and parent is not table:
                    conditions.append(fk.parent.in_(select(fk.column).where(owned[parent.name])))
            if conditions:
                owned[table.name] = or_(*conditions)
        try:
            with self.app.app_context():
                for table in reversed(tables):
                    if table.name in owned:
                        s.execute(delete(table).where(owned[table.name]))
                s.commit()
        finally:
            s.close()


class Live:
    def __init__(self, url: str) -> None:
        self.url = url

    def client(self) -> requests.Session:
        c = requests.Session()
        c.headers["Accept-Language"] = "en"
        return c

    def api(self, method: str, path: str, token: str, client: requests.Session | None = None,
            **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return (client or requests).request(method, self.url + path, headers=headers, timeout=60,
                                            allow_redirects=False, **kwargs)

    def csrf(self, client: requests.Session, path: str) -> str:
        page = client.get(self.url + path, timeout=60)
        match = CSRF_RE.search(page.text)
        assert match, f"no CSRF token on {path} ({page.status_code})"
        return match.group(1)

    def sign_in(self, email: str, password: str = factories.PASSWORD) -> requests.Session:
        """A browser-like client signed in through the login form."""
        c = self.client()
        answer = c.post(self.url + "/auth/login", data={"email": email, "password": password,
                                                        "csrf_token": self.csrf(c, "/auth/login")},
                        timeout=60, allow_redirects=False)
        assert answer.status_code == 302, answer.text
        return c

    @staticmethod
    def race(n: int, fn: Callable[[int], Any]) -> list[Any]:
        """``fn(0) ... fn(n-1)`` in ``n`` threads released together; their results, in order."""
        barrier = threading.Barrier(n)
        results: list[Any] = [None] * n
        errors: list[BaseException] = []

        def run(i: int) -> None:
            try:
                barrier.wait(timeout=60)
                results[i] = fn(i)
            except BaseException as exc:  # noqa: BLE001 (re-raised in the test's thread)
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        if errors:
            raise errors[0]
        return results


@pytest.fixture()
def committed(app) -> Iterator[Committed]:
    helper = Committed(app)
    yield helper
    helper.cleanup()


@pytest.fixture()
def live(app) -> Iterator[Live]:
    from tests.conftest import ALLOWED_PORTS

    assert "db_test_connection" not in app.extensions, "a live server cannot see the test's transaction"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    ALLOWED_PORTS.add(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{port}")
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        ALLOWED_PORTS.discard(port)
