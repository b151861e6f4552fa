"""/readyz: 200 when the database, Redis (if configured) and the storage answer; else 503 naming what is down."""

from __future__ import annotations

import socket
import time

import pytest

from incubator import create_app
from incubator.core.storage import LocalStorage, make_storage
from tests.storage_fixtures import S3_BUCKET

CLOSED_PORT = 5137  # in this project's range; nothing listens there (checked by closed_port)


@pytest.fixture()
def closed_port():
    from tests.conftest import ALLOWED_PORTS

    ALLOWED_PORTS.add(CLOSED_PORT)  # the no-network guard lets the app try this loopback port
    try:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", CLOSED_PORT)) == 0:
                pytest.skip(f"something listens on {CLOSED_PORT}")
        yield CLOSED_PORT
    finally:
        ALLOWED_PORTS.discard(CLOSED_PORT)


def _redis_is_up() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


def _ready(app) -> tuple[int, dict]:
    response = app.test_client().get("/readyz")
    assert response.is_json
    return response.status_code, response.get_json()


def test_ready_when_everything_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "down": [],
                                   "checks": {"database": "ok", "redis": "not configured", "storage": "ok"}}


def test_an_unreachable_redis_is_named(database_url, closed_port):
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": f"redis://127.0.0.1:{closed_port}/0"})
    try:
        status, body = _ready(app)
    finally:
        app.extensions["db_engine"].dispose()
    assert status == 503
    assert body["down"] == ["redis"] and body["status"] == "unavailable"
    assert body["checks"] == {"database": "ok", "redis": "unreachable", "storage": "ok"}


@pytest.mark.skipif(not _redis_is_up(), reason="no Redis on 127.0.0.1:6379")
def test_a_reachable_redis_is_ok(database_url):
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:6379/15"})
    try:
        status, body = _ready(app)
    finally:
        app.extensions["db_engine"].dispose()
    assert (status, body["checks"]["redis"]) == (200, "ok")


def test_an_unreachable_database_is_named(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite"})
    status, body = _ready(app)
    assert status == 503 and body["down"] == ["database"]
    assert body["checks"]["storage"] == "ok"


def test_a_storage_that_cannot_store_is_named(app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app.extensions["storage"] = LocalStorage(blocker / "uploads")  # mkdir under a file raises
    try:
        status, body = _ready(app)
    finally:
        app.extensions.pop("storage")
    assert status == 503 and body["down"] == ["storage"]
    assert body["checks"]["database"] == "ok"


def test_a_bucket_that_is_missing_is_named_and_one_that_exists_is_ok(app, s3_settings):
    app.extensions["storage"] = make_storage({**s3_settings, "STORAGE_URL": "s3://no-such-bucket-here/x"})
    try:
        status, body = _ready(app)
        assert status == 503 and body["down"] == ["storage"]
        app.extensions["storage"] = make_storage(s3_settings)
        assert s3_settings["STORAGE_URL"].startswith(f"s3://{S3_BUCKET}/")
        status, body = _ready(app)
        assert status == 200 and body["checks"]["storage"] == "ok"
    finally:
        app.extensions.pop("storage")


def test_a_dependency_that_hangs_is_reported_after_the_timeout(app):
    class Hanging(LocalStorage):
        def check(self) -> None:
            time.sleep(3)

    app.config["READYZ_TIMEOUT_SECONDS"] = 0.3
    app.extensions["storage"] = Hanging(app.instance_path)
    try:
        began = time.monotonic()
        status, body = _ready(app)
        took = time.monotonic() - began
    finally:
        app.extensions.pop("storage")
        app.config["READYZ_TIMEOUT_SECONDS"] = 2.0
    assert status == 503 and body["checks"]["storage"] == "timeout" and body["down"] == ["storage"]
    assert took < 2


def test_readyz_is_not_redirected_to_https(app):
    app.extensions["talisman"].force_https = True
    try:
        assert app.test_client().get("/readyz").status_code == 200
    finally:
        app.extensions["talisman"].force_https = False
