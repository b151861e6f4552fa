"""Multiprocess mode: under gunicorn (config.py's settings, two workers) one scrape adds up every worker's
requests and pool connections, and gunicorn starts from an emptied PROMETHEUS_MULTIPROC_DIR."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.metrics_helpers import TOKEN

ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 30


def _get(url: str, **headers: str) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as answer:  # noqa: S310
        return bytes(answer.read())


def test_one_scrape_adds_up_every_gunicorn_worker(tmp_path):
    from tests.conftest import ALLOWED_PORTS

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"left by a previous run")
    env = {**os.environ, "INCUBATOR_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}",
           "INSTANCE_PATH": str(tmp_path), "PROMETHEUS_MULTIPROC_DIR": str(folder), "METRICS_TOKEN": TOKEN,
           "GUNICORN_CMD_ARGS": "", "GUNICORN_GRACEFUL_TIMEOUT": "1", "LOG_LEVEL": "WARNING"}
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:config", "--bind", f"127.0.0.1:{port}",
                               "--workers", "2", "--worker-class", "sync", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    ALLOWED_PORTS.add(port)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            try:
                _get(base + "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        made = 1  # the readiness wait's request
        workers: set[str] = set()
        while made < REQUESTS or len(workers) < 2:  # until both workers have answered some (bounded)
            assert made < 500, "one gunicorn worker answered every request"
            _get(base + "/healthz")
            made += 1
            workers = {path.stem.rsplit("_", 1)[1] for path in folder.glob("histogram_*.db")}
        samples = {}
        for _ in range(4):  # whichever worker answers the scrape, it reports them all
            text = _get(base + "/metrics", Authorization=f"Bearer {TOKEN}").decode()
            samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                       for family in text_string_to_metric_families(text) for s in family.samples}
            count = samples[("incubator_http_request_duration_seconds_count",
                             (("endpoint", "main.healthz"), ("method", "GET")))]
            assert count == made
        assert not (folder / "counter_999999.db").exists()  # emptied when gunicorn started
        assert samples[("incubator_db_pool_connections", ())] == 2  # one connection per worker, added up
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        ALLOWED_PORTS.discard(port)
