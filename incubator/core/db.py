"""Database: declarative base, column types, one session per app context, SQLite hardening.

Views, jobs and CLI commands use ``db.session``; the request commits once at the end (see
``incubator.__init__``), services only ``flush()``.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from flask import Flask, current_app, g, has_request_context
from sqlalchemy import DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored in UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
str40 = Annotated[str, mapped_column(String(40))]
str120 = Annotated[str, mapped_column(String(120))]
str255 = Annotated[str, mapped_column(String(255))]
utc_datetime = Annotated[datetime, mapped_column(UTCDateTime())]


def local_month(session: Session, column: Any, tz_name: str, months: list[date]) -> Any:
    """In SQL, the month ("YYYY-MM") in the time zone of a stored UTC moment that falls within ``months`` (their
    first days, consecutive, in order). PostgreSQL converts the moment (``AT TIME ZONE``). SQLite knows no time
    zones: the moment is compared with the UTC instants at which each month begins there (worked out with
    zoneinfo), which is exact for zones with summer time too, and brings no row back to Python."""
    from sqlalchemy import case, func, literal

    from incubator.core.timezones import add_months, day_start_utc

    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone(tz_name, column), "YYYY-MM")
    labels = [m.strftime("%Y-%m") for m in months]
    if len(labels) < 2:  # noqa: PLR2004 (one month, or none: no comparison to make)
        return literal(labels[0] if labels else None)
    return case(*((column < day_start_utc(add_months(month, 1), tz_name), label)
                  for month, label in zip(months[:-1], labels, strict=False)), else_=labels[-1])


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic: skip what migrations write by hand (the index behind an exclusion constraint ``ex_*``)."""
    return not (type_ == "index" and reflected and compare_to is None and (name or "").startswith("ex_"))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class OrgScoped:
    """A row owned by one organisation. Queries are filtered to the current one (core.tenancy)."""

    @declared_attr
    def org_id(cls) -> Mapped[int]:
        from sqlalchemy import ForeignKey

        return mapped_column(ForeignKey("organisations.id"), index=True)

    @declared_attr
    def org(cls) -> Mapped[Any]:
        """The owning organisation (read-only: set ``org_id``)."""
        from sqlalchemy.orm import relationship

        name = cls.__name__  # type: ignore[attr-defined]  # declared_attr hands over the mapped class
        return relationship("Organisation", foreign_keys=f"{name}.org_id", viewonly=True)


_Row = TypeVar("_Row")


def get_required(session: Session, model: type[_Row], ident: Any) -> _Row:
    """``session.get`` for a row that must be there (a foreign key, or a job's argument, points at it).

    A row that is gone, or that the tenant filter hides, raises ``NotFound`` (404 on a page and in the
    API) instead of handing ``None`` on to code that reads its attributes."""
    obj = session.get(model, ident)
    if obj is None:
        from flask_babel import gettext as _

        from incubator.core.errors import NotFound

        raise NotFound(_("Not found"))
    return obj


# SQLite: BEGIN IMMEDIATE for write transactions so that check-then-insert rules hold when several
# requests race; reads (GET/HEAD/OPTIONS) use a deferred BEGIN and so never block each other.
_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_begin_immediate", default=True)


@contextlib.contextmanager
def deferred_begin() -> Iterator[None]:
    """For a job that mostly reads (and then works slowly): SQLite's write lock is taken only when it
    writes, so a slow step (rendering a PDF, say) does not hold up every request."""
    token = _immediate.set(False)
    try:
        yield
    finally:
        _immediate.reset(token)


def _harden_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN (the documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _immediate.get() else "BEGIN")


# A pooled server connection is replaced once it is this old, before a server or proxy idle timeout
# (PgBouncer, a cloud load balancer) can cut it. See make_engine.
POOL_RECYCLE_SECONDS = 1800


def make_engine(url: str, echo: bool = False) -> Engine:
    """The app's engine. On a server database, disconnects are handled optimistically (SQLAlchemy's
    "Disconnect Handling - Optimistic"), not with ``pool_pre_ping``, which costs a round trip
    (``SELECT 1``) on every checkout, i.e. on every request and job. When the server restarts, the
    first statement on a stale pooled connection fails; SQLAlchemy sees a disconnect, invalidates
    that connection and every other one pooled before it, and later checkouts open fresh ones. That
    one request answers 503 (``core.errors``: retry later) and the next ones work. ``pool_recycle``
    replaces connections old enough for something in between to have closed them silently."""
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
    else:
        kwargs["pool_recycle"] = POOL_RECYCLE_SECONDS
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _harden_sqlite(engine)
    return engine


class Database:
    """An engine per app, and a session bound to the current app context."""

    def __init__(self) -> None:
        self.Session = sessionmaker(expire_on_commit=False)

    def init_app(self, app: Flask) -> None:
        from incubator.core import rls

        engine = make_engine(app.config["DATABASE_URL"], echo=app.config.get("SQLALCHEMY_ECHO", False))
        app.extensions["db_engine"] = engine
        app.extensions["db_rls"] = rls.install(app, engine)  # PostgreSQL with DATABASE_RLS on
        app.teardown_appcontext(self._teardown)

    @property
    def engine(self) -> Engine:
        engine: Engine = current_app.extensions["db_engine"]
        return engine

    def new_session(self, app: Flask | None = None) -> Session:
        extensions = (app or current_app).extensions
        # Tests bind every session of their app to one connection inside an outer transaction.
        connection = extensions.get("db_test_connection")
        if connection is not None:
            session = self.Session(bind=connection, join_transaction_mode="create_savepoint")
        else:
            session = self.Session(bind=extensions["db_engine"])
        # core.tenancy: an org-owned query with no organisation raises here instead of matching nothing
        session.info["tenancy_strict"] = bool((app or current_app).config.get("TENANCY_STRICT"))
        # core.rls: the session tells PostgreSQL its organisation, for the row-level security policies
        session.info["rls"] = bool(extensions.get("db_rls"))
        return session

    @property
    def session(self) -> Session:
        session: Session | None = g.get("_db_session")
        if session is None:
            session = g._db_session = self.new_session()
        return session

    @contextlib.contextmanager
    def side_transaction(self, *, wait: bool = True) -> Iterator[Any]:
        """A short transaction on its own connection, committed at once: bookkeeping (a token's
        ``last_used_at``) that must neither join nor wait for the request's transaction.

        With ``wait=False`` SQLite gives up at once when another connection holds the write lock
        (the caller catches ``OperationalError``); on PostgreSQL use ``SKIP LOCKED`` in the statement.
        Tests run inside one outer transaction: there it is a savepoint of the test connection."""
        test_connection = current_app.extensions.get("db_test_connection")
        if test_connection is not None:
            with test_connection.begin_nested():
                yield test_connection
            return
        with self.engine.connect() as conn:
            # (set on the driver's connection: through SQLAlchemy the PRAGMA would begin a transaction)
            # (None only once a connection is invalidated; this one was just checked out)
            driver = conn.connection.driver_connection if conn.dialect.name == "sqlite" and not wait else None
            if driver is not None:
                driver.execute("PRAGMA busy_timeout=0")
            try:
                with conn.begin():
                    yield conn
            finally:
                if driver is not None:
                    driver.execute("PRAGMA busy_timeout=10000")

    def after_request_transaction(self, write: Callable[[], Any]) -> None:
        """Run ``write`` once the request's own transaction has ended (committed or rolled back) and
        given its connection back; outside a request, at once. For bookkeeping in a
        ``side_transaction`` that must not hold a second connection while the request holds locks."""
        if has_request_context():
            g.setdefault("_after_request_transaction", []).append(write)
        else:
            write()

    def run_after_request_transaction(self) -> None:
        for write in g.pop("_after_request_transaction", []):
            write()

    def has_session(self) -> bool:
        return g.get("_db_session") is not None

    def _teardown(self, exc: BaseException | None) -> None:
        session = g.pop("_db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()
