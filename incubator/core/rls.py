"""PostgreSQL row-level security: the database's own wall behind the ORM's tenant filter.

Migration ``0017a`` puts a policy on every organisation-owned table: a row is seen and written only
when the transaction says it works for the row's organisation (``app.org_id``), or says it spans
organisations on purpose (``app.bypass_rls = on``). This module says both, per transaction, from what
``core.tenancy`` already knows (with ``DATABASE_RLS`` on, on PostgreSQL only):

* ``app.org_id`` is the session's organisation (``set_current_org``: the organisation in the URL, a
  token's organisation, a job's); set again when the organisation changes mid-request.
* ``app.user_id`` is the signed-in person: their own memberships are readable in any organisation.
* ``app.bypass_rls`` is on exactly where the ORM filter is lifted, ``all_orgs(session)`` or a
  statement's ``all_orgs`` option: the named code paths that span organisations (sign-in and
  invitations by token, Stripe webhooks, the province roll-up, shared labs, platform admin,
  jobs over every organisation). For a statement's option it is on for that statement only.

Both are ``SET LOCAL`` (``set_config(..., true)``): they end with the transaction, and a savepoint
rolled back takes its changes with it, so a pooled connection never carries them to the next request.
They are sent only when they change (one round trip at the start of a transaction, one when the
organisation or the bypass changes), right before the statement that needs them: an ORM statement,
a flush, or the first statement of a transaction.

``DATABASE_ROLE`` makes each new connection ``SET ROLE`` to a role without ``BYPASSRLS`` (the tests'
``incubator_app``): superusers and ``BYPASSRLS`` roles are never held to a policy, and a warning is
logged when the app connects as one with ``DATABASE_RLS`` on.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, g, has_request_context
from sqlalchemy import Connection, Engine, event, inspect, text
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from incubator.core.tenancy import ALL_ORGS

ENABLED = "rls"  # session.info: this session's engine enforces row-level security
_APPLIED = "rls_applied"  # connection.info: the (org, bypass) this transaction has set, when known
_SET = text("SELECT set_config('app.org_id', :org, true), set_config('app.bypass_rls', :bypass, true), "
            "set_config('app.user_id', :user, true)")

log = logging.getLogger(__name__)

Wanted = tuple[str, str, str]


def install(app: Flask, engine: Engine) -> bool:
    """Set the engine up for row-level security when ``DATABASE_RLS`` is on and it is PostgreSQL.
    Returns whether sessions of this engine must say their organisation."""
    if engine.dialect.name != "postgresql":
        return False
    if not app.config.get("DATABASE_RLS"):
        return False
    role = app.config.get("DATABASE_ROLE")
    checked: list[bool] = []

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            if role:
                cursor.execute("SELECT set_config('role', %s, false)", (role,))
            if not checked:
                checked.append(True)
                cursor.execute("SELECT rolname, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
                if row and row[1]:
                    log.warning("DATABASE_RLS is on but the database role %s is a superuser or has BYPASSRLS: "
                                "row-level security does not hold it (set DATABASE_ROLE, or connect as "
                                "another role)", row[0])
        dbapi_connection.commit()

    for name in ("begin", "commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, _forget)
    return True


def _forget(conn: Connection, *_args: Any) -> None:
    """A new transaction, or one that ended or rolled back to a savepoint: what was set is unknown."""
    conn.info.pop(_APPLIED, None)


def wanted(session: Session, *, bypass: bool = False) -> Wanted:
    """(organisation, bypass, user): what this session's next statement must run with."""
    org_id = session.info.get("org_id")
    spans = bypass or bool(session.info.get(ALL_ORGS))
    return ("" if org_id is None else str(int(org_id)), "on" if spans else "off", _user_id())


def _user_id() -> str:
    """The signed-in person of this request (a page's session or an API token), once flask-login has
    loaded them: their own memberships are theirs in every organisation (the landing page and the
    organisation switcher read them before any organisation is chosen). Read from ``g``, where
    flask-login keeps them: ``current_user`` would load them, with a query, from inside this hook; and
    their id from the identity map (an attribute of an expired row would be loaded, also with a query)."""
    if not has_request_context():
        return ""
    state = inspect(g.get("_login_user"), raiseerr=False)  # None for the anonymous user
    identity = getattr(state, "identity", None)
    return "" if not identity else str(int(identity[0]))


def apply(connection: Connection, want: Wanted) -> None:
    if connection.info.get(_APPLIED) == want:
        return
    connection.execute(_SET, {"org": want[0], "bypass": want[1], "user": want[2]})
    connection.info[_APPLIED] = want


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, _transaction: SessionTransaction, connection: Connection) -> None:
    if session.info.get(ENABLED):
        apply(connection, wanted(session))


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(ENABLED):
        apply(session.connection(), wanted(session))


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> Any:
    session = state.session
    if not session.info.get(ENABLED):
        return None
    connection = session.connection(bind_arguments=state.bind_arguments)
    usual = wanted(session)
    if not state.execution_options.get(ALL_ORGS) or usual[1] == "on":
        apply(connection, usual)
        return None
    # all_orgs for this one statement: the bypass is on while it runs (its rows are fetched by then:
    # psycopg's default cursors are client-side), then back to the session's own setting. Pending
    # changes are flushed first, as the session's own (the autoflush would run inside the bypass).
    # (``_flushing``: SQLAlchemy's own test in its autoflush; a statement run by a flush hook must not flush)
    if session.autoflush and not session._flushing and (session.new or session.deleted or session.dirty):
        session.flush()
    apply(connection, (usual[0], "on", usual[2]))
    try:
        result = state.invoke_statement()
    except Exception:
        connection.info.pop(_APPLIED, None)
        raise
    apply(connection, usual)
    return result


def grant_app_role(connection: Connection, role: str) -> None:
    """The app's role exists (NOLOGIN: it is only switched to), may be switched to by the user that
    migrates and serves, and reads and writes every table of the schema: created and granted after every
    upgrade, so a table a migration adds is the app's at once. It is neither a superuser nor BYPASSRLS."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"DATABASE_ROLE must be a plain lower-case name, got {role!r}")
    connection.exec_driver_sql(f"""DO $$ BEGIN
        CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- it exists (roles are the server's)
    END $$""")
    if connection.exec_driver_sql("SELECT current_user").scalar_one() != role:
        connection.exec_driver_sql(f"GRANT {role} TO CURRENT_USER")
    name = str(connection.exec_driver_sql("SELECT current_schema()").scalar_one())
    schema = '"' + name.replace('"', '""') + '"'
    connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
    connection.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}")
    connection.exec_driver_sql(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}")
