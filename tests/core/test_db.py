from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from incubator.cli import alembic_config
from incubator.core.db import make_engine
from incubator.extensions import db
from incubator.models import Base
from incubator.orgs.models import Invitation
from tests.factories import InvitationFactory, OrgFactory


def test_models_and_migrations_agree(app, connection):
    """The database built by the migrations is exactly what the models describe (alembic check)."""
    from incubator.core.db import include_object

    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
    assert compare_metadata(context, Base.metadata) == []


def test_migrations_go_down_and_up_again(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    assert {"users", "organisations", "memberships"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_times_come_back_in_utc_and_naive_times_are_refused(session):
    org = OrgFactory()
    saigon = timezone(timedelta(hours=7))
    invitation = InvitationFactory(org_id=org.id, expires_at=datetime(2027, 1, 1, 9, 0, tzinfo=saigon))
    session.flush()
    session.expire_all()
    loaded = session.execute(select(Invitation).where(Invitation.id == invitation.id)).scalar_one()
    assert loaded.expires_at == datetime(2027, 1, 1, 2, 0, tzinfo=UTC)
    assert loaded.expires_at.tzinfo is not None
    with pytest.raises(sa.exc.StatementError):
        InvitationFactory(org_id=org.id, expires_at=datetime(2027, 1, 1, 9, 0))


def test_sqlite_is_hardened(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    engine.dispose()


def test_sqlite_write_transactions_take_the_lock_up_front(tmp_path: Path):
    """BEGIN IMMEDIATE: a second writer waits at BEGIN, before it can read stale data and insert."""
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE slots (id INTEGER PRIMARY KEY, taken INTEGER)")
    results: list[str] = []
    errors: list[BaseException] = []
    holding, release = threading.Event(), threading.Event()

    def writer(name: str, first: bool) -> None:
        try:
            with engine.connect() as conn, conn.begin():
                # check, then insert: only correct if nobody can get in between the two
                count = conn.exec_driver_sql("SELECT count(*) FROM slots").scalar()
                if first:
                    holding.set()
                    release.wait(2)
                if count == 0:
                    conn.exec_driver_sql("INSERT INTO slots (taken) VALUES (1)")
                    results.append(name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=writer, args=("first", True))
    first.start()
    holding.wait(2)
    second = threading.Thread(target=writer, args=("second", False))
    second.start()
    second.join(0.3)  # with a deferred BEGIN the second writer would be done by now
    release.set()
    first.join()
    second.join()
    assert errors == []
    assert results == ["first"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM slots").scalar() == 1
    engine.dispose()


def test_a_request_that_fails_saves_nothing(app, connection, session):
    """The request's one commit point: an error status rolls back what the view wrote."""
    from incubator import create_app

    probe = create_app({"DATABASE_URL": app.config["DATABASE_URL"]})
    probe.extensions["db_test_connection"] = connection  # inside this test's transaction
    org = OrgFactory()
    session.flush()

    @probe.route("/_probe/<int:status>", methods=["POST"])
    def _probe(status: int):
        from incubator.core.tenancy import set_current_org

        set_current_org(db.session, org)  # as an organisation's page does (also under row-level security)
        db.session.add(Invitation(org_id=org.id, email=f"s{status}@example.org", role="staff",
                                  token_hash=f"{status:064d}", expires_at=datetime.now(UTC)))
        db.session.flush()
        if status == 500:
            raise RuntimeError("boom")
        return "", status

    probe.config["WTF_CSRF_ENABLED"] = False
    client = probe.test_client()
    responses = {status: client.post(f"/_probe/{status}", headers={"Accept-Language": "en"})
                 for status in (200, 422, 500)}
    assert responses[500].status_code == 500
    assert "Something went wrong" in responses[500].get_data(as_text=True)
    emails = set(session.execute(select(Invitation.email).where(Invitation.org_id == org.id)).scalars())
    assert emails == {"s200@example.org"}


def test_a_restarted_server_costs_one_failed_statement_not_a_ping_per_checkout(app):
    """The pool does not ping before each checkout (``make_engine``). When the server drops a pooled
    connection, as a restart does, the statement that meets it fails once as a disconnect (the request
    answers 503), SQLAlchemy invalidates the pool, and the next checkout works on a fresh connection."""
    url = app.config["DATABASE_URL"]
    if not url.startswith("postgresql"):
        pytest.skip("a server database's connections (SQLite opens a file)")
    engine, admin = make_engine(url), sa.create_engine(url)
    try:
        with engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:  # the server ends the pooled connection
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        with pytest.raises(sa.exc.DBAPIError) as failed, engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        assert failed.value.connection_invalidated
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        engine.dispose()
        admin.dispose()


def test_a_database_migrated_in_another_schema_keeps_the_overlap_rule_for_every_schema(app):
    """The benchmarks migrate their own schema (``search_path=bench``): btree_gist must still go to
    ``public``, or the next schema migrated in that database could not build the no-overlap rule."""
    from sqlalchemy import make_url

    from tests.conftest import create_database_if_missing, migrate, reset_database

    url = app.config["DATABASE_URL"]
    if not url.startswith("postgresql"):
        pytest.skip("a PostgreSQL extension")
    fresh = make_url(url).set(database=f"{make_url(url).database}_schemas")
    server = sa.create_engine(fresh.set(database="postgres", query={}), isolation_level="AUTOCOMMIT")
    try:
        create_database_if_missing(fresh.render_as_string(hide_password=False))
        elsewhere = fresh.update_query_dict({"options": "-csearch_path=elsewhere"})
        elsewhere = elsewhere.render_as_string(hide_password=False)
        reset_database(elsewhere)  # a schema of its own, migrated first, as a benchmark does
        migrate(elsewhere)
        migrate(fresh.render_as_string(hide_password=False))  # then the database's own public schema
        engine = sa.create_engine(fresh)
        with engine.connect() as conn:
            home = conn.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                        "ON n.oid = e.extnamespace WHERE e.extname = 'btree_gist'")).scalar_one()
            rules = conn.execute(sa.text("SELECT count(*) FROM pg_constraint WHERE conname = 'ex_bookings_no_overlap'"))
            assert home == "public" and rules.scalar_one() == 2  # the rule in each schema
        engine.dispose()
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{fresh.database}" WITH (FORCE)'))
        server.dispose()
