"""Row-level security on PostgreSQL (``core.rls``, migration ``0017a``): the tests of this folder run
against an app with ``DATABASE_RLS`` on that connects as ``incubator_app``, a role the policies hold
(postgres, a superuser, is never held to one). The ``app`` fixture below stands in for the suite's
own, so ``connection``, ``session``, ``client`` and every domain fixture use it.

Besides the policies' own tests (``test_policies.py``), the ``test_with_<domain>.py`` modules run a
representative set of each domain's existing tests again under row-level security, the cross-org
paths among them (shared labs and partner bookings, the province roll-up, funders, platform admin,
Stripe webhooks, sign-in, invitations, jobs). ``TEST_DATABASE_RLS=on`` runs the whole suite so.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import APP_ROLE


def rls_app(database_url: str, *, probe: bool = False):
    if not database_url.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's: SQLite keeps the ORM filter alone")
    from incubator import create_app

    application = create_app({"DATABASE_URL": database_url, "DATABASE_RLS": True, "DATABASE_ROLE": APP_ROLE})
    assert application.extensions["db_rls"]
    if probe:
        application.register_blueprint(probe_blueprint())  # before any request: Flask refuses later
    return application


@pytest.fixture(scope="session")
def app(database_url: str):
    application = rls_app(database_url)
    yield application
    application.extensions["db_engine"].dispose()


@pytest.fixture(autouse=True)
def _postgresql_only(request, database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("row-level security is PostgreSQL's: SQLite keeps the ORM filter alone")
    if os.environ.get("TEST_DATABASE_RLS") and request.module.__name__.startswith("tests.rls.test_with_"):
        pytest.skip("TEST_DATABASE_RLS=on: the domain's own tests already ran under row-level security")


def probe_blueprint():
    """Routes made for the tests, inside an organisation's pages like any other (``org_blueprint``: the
    organisation from the URL, members only), that run SQL the ORM filter never sees."""
    from flask import jsonify, request
    from flask_login import current_user
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from incubator.core.tenancy import enter_org, load_org, org_blueprint
    from incubator.extensions import csrf, db

    bp = org_blueprint("rls_probe", __name__, "/_rls")

    @bp.route("/rows/<table>")
    def rows(table: str):
        """The rows of ``table`` by organisation, read with raw SQL: all of them, and ``?org=`` only."""
        if "switch" in request.args:  # the organisation chosen mid-request, as the API's token does
            enter_org(load_org(request.args["switch"]), current_user)
        sql = f'SELECT org_id FROM "{table}"'  # noqa: S608 (a table name from the test itself)
        if "org" in request.args:
            sql += " WHERE org_id = :org"
        found = db.session.execute(text(sql), {"org": request.args.get("org", type=int)}).scalars().all()
        return jsonify(sorted(found))

    @bp.route("/write", methods=["POST"])
    @csrf.exempt  # a JSON probe; the pages' own forms keep their tokens
    def write():
        """Raw SQL and its parameters, given by the test (an INSERT or UPDATE of another organisation's row):
        refused or not."""
        try:
            with db.session.begin_nested():
                db.session.execute(text(request.get_json()["sql"]), request.get_json().get("params", {}))
        except DBAPIError as error:
            return jsonify(refused=getattr(error.orig, "sqlstate", None), message=str(error.orig))
        return jsonify(refused=None)

    return bp
