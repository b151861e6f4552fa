"""Background jobs with Huey: SQLite file by default, Redis when REDIS_URL is set, immediate in tests.

Tasks are declared with ``@job`` and run inside an app context with their own database session,
committed when the task returns. The worker is ``huey_consumer incubator.worker.huey``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

huey = Huey("incubator", storage_class=MemoryStorage, immediate=True)
_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    if app.config.get("HUEY_IMMEDIATE"):
        huey.immediate = True
        return
    if app.config.get("REDIS_URL"):
        huey.storage_class = RedisStorage
        huey.storage_kwargs = {"url": app.config["REDIS_URL"]}
    else:
        path = Path(app.config["HUEY_SQLITE_PATH"])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class = SqliteStorage
        huey.storage_kwargs = {"filename": str(path)}
    huey._immediate = False
    huey.storage = huey.create_storage()


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
                return _run_with_own_session(current_app._get_current_object(), fn, args, kwargs)
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


AFTER_COMMIT_KEY = "jobs_after_commit"


def after_commit(session: Any, task: Any, *args: Any) -> None:
    """Enqueue ``task(*args)`` once ``session`` commits (nothing if it rolls back), so that the job
    sees what the transaction wrote."""
    session.connection()  # begin the transaction now, so that its rollback drops the call
    session.info.setdefault(AFTER_COMMIT_KEY, []).append((task, args))


def _install_session_hooks() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    @event.listens_for(Session, "after_commit")
    def _enqueue(session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint released (SQLAlchemy calls after_commit then too)
            return
        for task, args in session.info.pop(AFTER_COMMIT_KEY, []):
            task(*args)

    @event.listens_for(Session, "after_soft_rollback")
    def _drop(session: Session, previous_transaction: Any) -> None:
        if previous_transaction.parent is None:
            session.info.pop(AFTER_COMMIT_KEY, None)


_install_session_hooks()
