"""Alembic environment: every domain's models are imported through ``incubator.models``."""

from alembic import context

from incubator.core.db import include_object, make_engine
from incubator.core.rls import grant_app_role
from incubator.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite and not connection.in_transaction():
        # SQLite rebuilds a table to drop or change a column (batch mode): the old copy is dropped,
        # and with foreign keys on that drop cascades to (or is refused by) the rows referencing it.
        # Alembic's advice: foreign keys off while migrating, checked once done. (Set on the driver's
        # connection: a PRAGMA through SQLAlchemy would begin a transaction, where it does nothing.)
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            _migrate(connection)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.rollback()  # (the check's read transaction)
            if broken:
                raise RuntimeError(f"the migrations left rows whose foreign keys point nowhere: {broken[:5]}")
        finally:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        return
    _migrate(connection)


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      include_object=include_object,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Migrations span every organisation: the row-level security policies (0017a) let them
            # through, for this transaction only (the table owner is held to them: FORCE)
            connection.exec_driver_sql("SELECT set_config('app.bypass_rls', 'on', true)")
        context.run_migrations()
        if connection.dialect.name == "postgresql" and _app_role():
            grant_app_role(connection, _app_role())


def _app_role() -> str | None:
    """``DATABASE_ROLE``: the role the app switches to (``SET ROLE``) so that row-level security holds it."""
    from flask import current_app, has_app_context

    return current_app.config.get("DATABASE_ROLE") if has_app_context() else None


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
