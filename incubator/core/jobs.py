"""Background jobs with Huey: SQLite file by default, Redis when REDIS_URL is set, immediate in tests.

Tasks are declared with ``@job`` and run inside an app context with their own database session,
committed when the task returns. The worker is ``huey_consumer incubator.worker.huey``.

While Redis is down a job cannot be queued, and a request that would queue one fails cleanly instead of
half-succeeding: before a transaction with after-commit calls commits, the queue is pinged, and when it does
not answer the commit does not happen: redis' ``ConnectionError`` rolls the request back and the commit
point answers 503 with Retry-After (``core.errors``). Calls marked ``@queue_optional``, whose rows a sweep
sends later, do not ask. A short blip is waited out: the Redis client retries a refused connection a few
times with a growing pause (about 2 s in all) before it gives up.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from redis import ConnectionPool
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

huey = Huey("incubator", storage_class=MemoryStorage, immediate=True)
_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    if app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True
        return
    if app.config.get("REDIS_URL"):
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"connection_pool": ConnectionPool.from_url(app.config["REDIS_URL"],
                                                                          **redis_client_options())}
    else:
        path = Path(app.config["HUEY_SQLITE_PATH"])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": str(path)}
    huey._immediate = False
    huey.storage = huey.create_storage()


def redis_client_options() -> dict[str, Any]:
    """redis-py's options for the queue: bounded timeouts, and a few retries of a refused connection
    (after 0.2, 0.4, 0.5, 0.5 and 0.5 s) so that a restart of Redis is waited out rather than failed at once."""
    return {"socket_connect_timeout": 2, "socket_timeout": 5, "health_check_interval": 30,
            "retry": Retry(ExponentialBackoff(cap=0.5, base=0.1), 5),
            "retry_on_error": [RedisConnectionError, RedisTimeoutError]}


def check_queue() -> None:
    """Raise redis' ConnectionError when the job queue is Redis and it does not answer."""
    if huey.immediate or not isinstance(huey.storage, RedisStorage):
        return
    huey.storage.conn.ping()


def queue_optional(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an after-commit call that loses nothing when the queue is down (its rows are an outbox that a
    periodic sweep sends): a transaction that queues only such calls commits without asking the queue."""
    setattr(fn, "queue_optional", True)  # noqa: B010 (an attribute a function does not declare)
    return fn


def set_worker_app(app: Flask | None) -> None:
    global _worker_app
    _worker_app = app


def job(**task_options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a Huey task that runs with an app context and commits its own session."""
    return _declare(huey.task, **task_options)


def periodic(schedule: Any, **task_options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a periodic Huey task (``schedule`` is a ``huey.crontab``), run by the worker."""
    return _declare(huey.periodic_task, schedule, **task_options)


def _declare(register: Callable[..., Any], *register_args: Any, **task_options: Any) -> Callable[..., Any]:
    def decorator(fn: Callable[..., Any]) -> Any:
        @wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            if has_app_context() and huey.immediate:
                # Immediate mode (tests): run in the caller's app, with a session of its own.
                # Flask types the current_app proxy as Flask, hiding LocalProxy's _get_current_object.
                app_obj = current_app._get_current_object()  # type: ignore[attr-defined]
                return _run_with_own_session(app_obj, fn, args, kwargs)
            app = _worker_app
            if app is None:
                from incubator import create_app

                app = create_app()
                set_worker_app(app)
            return _run_with_own_session(app, fn, args, kwargs)

        return register(*register_args, **task_options)(run)

    return decorator


def _run_with_own_session(app: Flask, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    from incubator.extensions import db

    with app.app_context():
        session = db.session
        try:
            result = fn(*args, **kwargs)
            session.commit()
            return result
        except Exception:
            session.rollback()
            raise


# -- the one after-commit queue -------------------------------------------------------------------------
#
# Anything a commit must trigger (mail, jobs, report exports, webhook deliveries) is queued here, on the
# session it belongs to: ``after_commit(session, fn, *args)`` calls ``fn(*args)`` once that session's
# transaction commits, in the order queued. A rollback drops what was queued in the transaction that
# rolled back: all of it for the outermost one, and for a savepoint (``begin_nested``) what was queued
# inside that savepoint, so that a refused service that queued a mail before refusing sends nothing.

AFTER_COMMIT_KEY = "after_commit"


def after_commit(session: Any, fn: Callable[..., Any], *args: Any) -> None:
    """Call ``fn(*args)`` once ``session`` commits (never if what queued it rolls back). ``fn`` is
    usually a ``@job`` (enqueued then, so the worker sees what the transaction wrote) or a plain function."""
    session.connection()  # begin the transaction now, so that its rollback drops the call
    transaction = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(AFTER_COMMIT_KEY, []).append((fn, args, transaction))


def pending(session: Any, fn: Callable[..., Any] | None = None) -> list[tuple[Any, ...]]:
    """The arguments of the calls still waiting for ``session`` to commit (only those of ``fn`` if given)."""
    return [args for queued, args, _transaction in session.info.get(AFTER_COMMIT_KEY, [])
            if fn is None or queued is fn]


def _inside(transaction: Any, ended: Any) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _install_session_hooks() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    @event.listens_for(Session, "before_commit")
    def _queue_reachable(session: Session) -> None:
        """A transaction that will queue jobs commits only while the queue answers (see the top)."""
        if not session.in_nested_transaction() and any(
                not getattr(fn, "queue_optional", False) for fn, _args, _t in session.info.get(AFTER_COMMIT_KEY, [])):
            check_queue()

    @event.listens_for(Session, "after_commit")
    def _run(session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint released (SQLAlchemy calls after_commit then too)
            return
        failures = []
        for fn, args, _transaction in session.info.pop(AFTER_COMMIT_KEY, []):
            try:  # one failing call (a queue that is down) does not cost the others their turn
                fn(*args)
            except Exception as error:
                failures.append(error)
        if failures:
            raise failures[0]

    @event.listens_for(Session, "after_soft_rollback")
    def _drop(session: Session, previous_transaction: Any) -> None:
        if previous_transaction.parent is None:  # the outermost transaction rolled back: nothing goes
            session.info.pop(AFTER_COMMIT_KEY, None)
        elif AFTER_COMMIT_KEY in session.info:  # a savepoint: what it queued goes with it
            session.info[AFTER_COMMIT_KEY] = [entry for entry in session.info[AFTER_COMMIT_KEY]
                                              if not _inside(entry[2], previous_transaction)]


_install_session_hooks()
