"""The policies themselves: inside a real request for organisation A, SQL that the ORM filter never
sees (raw ``SELECT``, ``INSERT``, ``UPDATE``) reaches A's rows only; B's are invisible and refused."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import text

from incubator.cohorts.models import Startup
from incubator.core.permissions import Role
from incubator.models import Base
from tests.factories import OrgFactory, member
from tests.rls.conftest import rls_app

MIGRATION = importlib.import_module("migrations.versions.0017a_row_level_security")
ORG_TABLES = sorted(table.name for table in Base.metadata.tables.values() if "org_id" in table.c)
RLS_VIOLATION = "42501"  # insufficient_privilege: "new row violates row-level security policy"


@pytest.fixture(scope="module")
def app(database_url):
    """The folder's app, with the probe routes (tests/rls/conftest.py) that run raw SQL in a request."""
    application = rls_app(database_url, probe=True)
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture()
def two(session, sign_in):
    """Organisations A and B, a startup in each; A's manager signed in."""
    a, b = OrgFactory(slug="org-a"), OrgFactory(slug="org-b")
    manager = member(a, Role.MANAGER)
    session.add_all([Startup(org_id=a.id, name="Alpha"), Startup(org_id=b.id, name="Beta")])
    session.flush()
    sign_in(manager)
    return a, b, manager


def test_every_organisation_owned_table_is_listed_forced_and_has_its_policy(session):
    assert sorted(MIGRATION.ORG_TABLES) == ORG_TABLES  # a new org-owned table is added on purpose
    found = session.execute(text(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, count(p.polname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
        "LEFT JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = 'org_isolation' "
        "WHERE c.relname = ANY(:tables) GROUP BY 1, 2, 3 ORDER BY 1"), {"tables": ORG_TABLES}).all()
    assert [tuple(row) for row in found] == [(name, True, True, 1) for name in ORG_TABLES]


def test_the_app_role_is_held_to_the_policies(session):
    role = session.execute(text("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                                "WHERE rolname = current_user")).one()
    assert tuple(role) == ("incubator_app", False, False)


def test_raw_sql_inside_a_request_for_a_sees_none_of_bs_rows(client, two):
    a, b, _manager = two
    assert client.get(f"/o/org-a/_rls/rows/startups?org={b.id}").get_json() == []
    assert client.get("/o/org-a/_rls/rows/startups").get_json() == [a.id]  # no WHERE: A's rows only
    assert client.get(f"/o/org-a/_rls/rows/startups?org={a.id}").get_json() == [a.id]
    assert client.get(f"/o/org-a/_rls/rows/memberships?org={b.id}").get_json() == []


@pytest.mark.parametrize("table", ORG_TABLES)
def test_no_table_shows_another_organisations_rows(client, session, two, table):
    """Every listed table: B's rows (planted by the all-organisations test session) stay unseen."""
    _a, b, _manager = two
    rows = session.execute(text(f'SELECT count(*) FROM "{table}" WHERE org_id = :b'), {"b": b.id}).scalar()  # noqa: S608
    if rows == 0 and table == "startups":
        pytest.fail("the fixture planted a startup in B")
    assert client.get(f"/o/org-a/_rls/rows/{table}?org={b.id}").get_json() == []


def test_an_insert_or_update_into_b_is_refused(client, session, two):
    a, b, _manager = two
    planted = client.post("/o/org-a/_rls/write", json={
        "sql": "INSERT INTO startups (org_id, name, sector, stage, origin, team_size, is_st_enterprise, description, "
               "created_at, updated_at) VALUES (:b, 'Planted', '', 'idea', 'independent', 1, false, '', now(), now())",
        "params": {"b": b.id}}).get_json()
    assert planted["refused"] == RLS_VIOLATION, planted
    moved = client.post("/o/org-a/_rls/write", json={
        "sql": "UPDATE startups SET org_id = :b WHERE org_id = :a", "params": {"a": a.id, "b": b.id}}).get_json()
    assert moved["refused"] == RLS_VIOLATION, moved
    unseen = client.post("/o/org-a/_rls/write", json={
        "sql": "DELETE FROM startups WHERE org_id = :b", "params": {"b": b.id}}).get_json()
    assert unseen["refused"] is None  # B's rows are not there to delete
    names = session.execute(text("SELECT org_id, name FROM startups ORDER BY name")).all()
    assert [tuple(row) for row in names] == [(a.id, "Alpha"), (b.id, "Beta")]  # nothing planted, moved or lost


def test_own_rows_can_be_written(client, session, two):
    a, _b, _manager = two
    done = client.post("/o/org-a/_rls/write", json={
        "sql": "UPDATE startups SET sector = 'agritech' WHERE org_id = :a", "params": {"a": a.id}}).get_json()
    assert done["refused"] is None
    assert session.execute(text("SELECT sector FROM startups WHERE name = 'Alpha'")).scalar() == "agritech"


def test_the_organisation_chosen_mid_request_is_the_one_the_database_sees(client, session, two):
    _a, _b, manager = two
    member_of_b = OrgFactory(slug="org-c")
    session.add(Startup(org_id=member_of_b.id, name="Gamma"))
    from tests.factories import MembershipFactory

    MembershipFactory(user=manager, org=member_of_b, role=Role.MANAGER)
    seen = client.get("/o/org-a/_rls/rows/startups?switch=org-c").get_json()
    assert seen == [member_of_b.id]



def test_flask_db_upgrade_makes_the_app_role_and_grants_it_every_table(database_url):
    """``DATABASE_ROLE`` in production (compose.yaml): ``flask db upgrade``, run by the owner, creates the
    role when missing and grants it every table, so the app can ``SET ROLE`` to it and be held."""
    import uuid

    from sqlalchemy import create_engine

    from incubator import create_app
    from incubator.models import Base

    role = f"incubator_t{uuid.uuid4().hex[:8]}"
    application = create_app({"DATABASE_URL": database_url, "DATABASE_ROLE": role})
    engine = create_engine(database_url)
    try:
        done = application.test_cli_runner().invoke(args=["db", "upgrade"])
        assert done.exit_code == 0, done.output
        with engine.connect() as conn:
            found = conn.execute(text("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :r"),
                                 {"r": role}).one()
            assert tuple(found) == (False, False, False)
            missing = [t for t in Base.metadata.tables if not conn.execute(
                text("SELECT has_table_privilege(:r, quote_ident(current_schema()) || '.' || quote_ident(:t), "
                     "'SELECT, INSERT, UPDATE, DELETE')"), {"r": role, "t": t}).scalar()]
            assert missing == []
            assert conn.execute(text("SELECT pg_has_role(current_user, :r, 'MEMBER')"), {"r": role}).scalar()
    finally:
        application.extensions["db_engine"].dispose()
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        engine.dispose()
