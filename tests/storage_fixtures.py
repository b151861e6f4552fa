"""A real S3 API for the storage tests: moto's server mode, in a subprocess on a free loopback port.

Fixtures (registered in ``tests/conftest.py``):

* ``s3_endpoint``: the server's URL (``http://127.0.0.1:<port>``), started once per run (per xdist worker)
  and stopped at its end, with one bucket, ``S3_BUCKET``. The no-network guard lets the tests reach it.
* ``s3_settings``: app settings (``STORAGE_URL`` and the rest) for a prefix of that bucket of the test's own.
* ``any_storage``: parametrised, ``local`` then ``s3``: the session app's storage for the test is a fresh
  folder, then the bucket (a test that uploads and downloads through the views runs against both).

The server runs in its own process so that a test can measure the app side's memory alone.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

S3_BUCKET = "incubator-test"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"moto's server stopped at start (exit {server.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto's server did not answer on port {port} within {seconds} s")


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    from tests.conftest import ALLOWED_PORTS

    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "server.log").open("wb")
    env = {**os.environ, **S3_KEYS}
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    ALLOWED_PORTS.add(port)  # the no-network guard lets the tests reach this server only
    try:
        _wait_for(port, server)
        url = f"http://127.0.0.1:{port}"
        _client(url).create_bucket(Bucket=S3_BUCKET)
        yield url
    finally:
        ALLOWED_PORTS.discard(port)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _client(endpoint: str):
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name=S3_KEYS["AWS_DEFAULT_REGION"],
                                          aws_access_key_id=S3_KEYS["AWS_ACCESS_KEY_ID"],
                                          aws_secret_access_key=S3_KEYS["AWS_SECRET_ACCESS_KEY"])


@pytest.fixture()
def s3_settings(s3_endpoint) -> dict[str, str]:
    """Settings for a bucket prefix no other test uses."""
    return {"STORAGE_URL": f"s3://{S3_BUCKET}/t-{uuid.uuid4().hex[:12]}", "S3_ENDPOINT_URL": s3_endpoint, **S3_KEYS}


@pytest.fixture()
def s3_client(s3_endpoint):
    """A plain boto3 client of the server, to look at the bucket behind the app's back."""
    return _client(s3_endpoint)


@pytest.fixture(params=["local", "s3"])
def any_storage(request, app, tmp_path):
    from incubator.core.storage import make_storage

    if request.param == "s3":
        settings = request.getfixturevalue("s3_settings")
    else:
        settings = {"STORAGE_URL": f"file://{tmp_path / 'uploads'}"}
    backend = make_storage(settings)
    before = app.extensions.get("storage")
    app.extensions["storage"] = backend
    try:
        yield backend
    finally:
        if before is None:
            app.extensions.pop("storage", None)
        else:
            app.extensions["storage"] = before
