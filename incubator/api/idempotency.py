"""``Idempotency-Key`` on every POST of the API, once for all operations (installed by ``api_blueprint``).

A POST that carries the header (1 to 255 printable ASCII characters) is remembered for 24 hours per
principal (the token's user: a person, or an organisation's service principal) and key, with its
fingerprint (SHA-256 of method, path with query string, and body) and its answer (status, the
``Location``, ``ETag`` and ``Content-Type`` headers, and the body):

* the same key and the same request again: the stored answer, with ``Idempotent-Replayed: true``,
  and the view does not run again;
* the same key with another request: 422 ``idempotency_key_reused``;
* the same key while the first request is still running: 409 ``idempotency_in_progress``.

Only 2xx and 4xx answers are stored; after a 5xx (or a lost connection) the same key may be retried.

How two requests with one key are kept apart: on PostgreSQL the first takes a transaction-level
advisory lock on (principal, key) that it holds until its transaction ends; a second one that cannot
take it at once answers 409. A 2xx answer is stored in the request's own transaction, so the effect
and the stored answer are committed together (or neither is). On SQLite every POST holds the write
lock from its first statement (``core.db``), so a second request waits for the first and then finds
its answer. The unique constraint on (principal, key) stands behind both. A 4xx answer rolls the
request's transaction back, so it is stored just after, in a short transaction of its own.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from flask import Response, g, request
from flask_smorest import Blueprint
from sqlalchemy import delete, insert, select, text
from sqlalchemy.exc import IntegrityError

from incubator.accounts.models import IdempotencyKey
from incubator.core.db import utcnow
from incubator.core.errors import json_error
from incubator.extensions import db

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEPT_FOR = timedelta(hours=24)
KEPT_HEADERS = ("Location", "ETag", "Content-Type")
KEY_RE = re.compile(r"^[\x20-\x7e]{1,255}$")
HEADER_DOC = ("1 to 255 printable characters chosen by the client, e.g. a UUID. Repeating a POST with the same "
              "key and the same request answers the stored answer (`Idempotent-Replayed: true`) for 24 hours "
              "instead of doing it again; the same key with another request answers 422 "
              "`idempotency_key_reused`, and while the first is still running 409 `idempotency_in_progress`. "
              "Only 2xx and 4xx answers are stored: after a 5xx the same key may be retried.")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.rstrip("?").encode(), request.get_data(cache=True)):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _lock_key(owner_id: int, key: str) -> int:
    """A signed 64-bit number for PostgreSQL's advisory lock on (principal, key)."""
    raw = hashlib.sha256(f"idempotency:{owner_id}:{key}".encode()).digest()[:8]
    return int.from_bytes(raw, "big", signed=True)


def _try_lock(owner_id: int, key: str) -> bool:
    session = db.session
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: the request already holds the write lock (BEGIN IMMEDIATE)
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _lock_key(owner_id, key)})
                .scalar_one())


def replay(row: IdempotencyKey) -> Response:
    response = Response(row.body, status=row.status, headers=dict(row.headers))
    response.headers[REPLAYED] = "true"
    return response


def before() -> Any:
    if request.method != "POST" or HEADER not in request.headers:
        return None
    key = request.headers[HEADER]
    if not KEY_RE.match(key):
        message = "The Idempotency-Key header takes 1 to 255 printable characters."
        return json_error(422, message, "invalid_idempotency_key", fields={HEADER: message})
    owner_id = g.api_user.id
    if not _try_lock(owner_id, key):
        return json_error(409, "A request with this Idempotency-Key is still running; retry once it has finished.",
                          "idempotency_in_progress")
    session = db.session
    row = session.execute(select(IdempotencyKey).where(IdempotencyKey.owner_id == owner_id,
                                                       IdempotencyKey.key == key)).scalar_one_or_none()
    if row is not None and row.expires_at <= utcnow():
        session.delete(row)
        session.flush()
        row = None
    found = fingerprint()
    if row is not None:
        if row.fingerprint != found:
            return json_error(422, "This Idempotency-Key was used for another request.", "idempotency_key_reused",
                              fields={HEADER: "Used for another request (method, path or body differ)."})
        return replay(row)
    g.idempotency = (owner_id, key, found)
    return None


def after(response: Response) -> Response:
    pending = g.pop("idempotency", None)
    status = response.status_code
    if pending is None or response.is_streamed or not (200 <= status < 300 or 400 <= status < 500):
        return response
    owner_id, key, found = pending
    now = utcnow()
    values = {"owner_id": owner_id, "key": key, "fingerprint": found, "status": status,
              "headers": {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers},
              "body": response.get_data(), "created_at": now, "expires_at": now + KEPT_FOR}
    if status < 300:  # committed with what the request did, or not at all
        session = db.session
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.owner_id == owner_id,
                                                     IdempotencyKey.expires_at <= now))
        session.add(IdempotencyKey(**values))
    else:  # the request's transaction is rolled back: stored once it has ended
        db.after_request_transaction(lambda: _store_aside(values))
    return response


def _store_aside(values: dict[str, Any]) -> None:
    try:
        with db.side_transaction() as conn:
            conn.execute(insert(IdempotencyKey).values(**values))
    except IntegrityError:  # a request with the same key stored its answer meanwhile: that one stands
        return


def install(bp: Blueprint) -> None:
    bp.before_request(before)
    bp.after_request(after)
