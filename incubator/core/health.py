"""Readiness: can this instance serve now? The database, Redis (when configured) and the file storage.

``/healthz`` (liveness) asks the database only; ``/readyz`` asks every dependency, each on its own
thread and all at once, and gives each ``READYZ_TIMEOUT_SECONDS``: a dependency that does not answer by
then is reported down (``timeout``), whatever its client's own timeouts are. The answer names what is
down, never why (the reason is logged): the probe is public.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from typing import Any

from flask import Flask
from sqlalchemy import text

log = logging.getLogger(__name__)
OK, DOWN, TIMEOUT, NOT_CONFIGURED = "ok", "unreachable", "timeout", "not configured"


def check_database(app: Flask) -> None:
    from incubator.extensions import db

    session = db.new_session(app)  # a session of its own, as a request's (tests: their one connection)
    try:
        session.execute(text("SELECT 1"))
    finally:
        session.close()


def check_redis(app: Flask) -> None:
    import redis

    seconds = float(app.config.get("READYZ_TIMEOUT_SECONDS") or 2)
    client = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=seconds, socket_timeout=seconds)
    try:
        client.ping()
    finally:
        client.close()


def check_storage(app: Flask) -> None:
    from incubator.core.storage import storage

    with app.app_context():
        backend = storage()
    backend.check()


def checks(app: Flask) -> dict[str, Callable[[Flask], None] | None]:
    """What readiness asks, by name; ``None`` for what is not configured."""
    return {"database": check_database,
            "redis": check_redis if app.config.get("REDIS_URL") else None,
            "storage": check_storage}


def readiness(app: Flask) -> dict[str, str]:
    """Each dependency's state: ``ok``, ``unreachable``, ``timeout`` or ``not configured``."""
    seconds = float(app.config.get("READYZ_TIMEOUT_SECONDS") or 2)
    wanted = checks(app)
    states = {name: NOT_CONFIGURED for name, check in wanted.items() if check is None}
    # No ``with``: its exit would wait for a check that hangs; the thread ends with its client's timeout.
    pool = ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="readyz")
    futures: dict[str, Future[None]] = {name: pool.submit(check, app)
                                        for name, check in wanted.items() if check is not None}
    pool.shutdown(wait=False)
    wait_for(futures.values(), timeout=seconds)
    for name, future in futures.items():
        states[name] = _state(name, future)
    return {name: states[name] for name in wanted}


def _state(name: str, future: Future[Any]) -> str:
    if not future.done():
        log.warning("readiness: %s did not answer in time", name)
        return TIMEOUT
    error = future.exception()
    if error is not None:
        log.warning("readiness: %s is unreachable: %s: %s", name, type(error).__name__, error)
        return DOWN
    return OK
