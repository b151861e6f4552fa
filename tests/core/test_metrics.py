"""/metrics: bearer-protected, off without METRICS_TOKEN; requests by endpoint, status classes, jobs, the
queue and the database pool, read back through a scrape parsed by prometheus-client's own parser."""

from __future__ import annotations

import re

import pytest
from huey import Huey
from huey.storage import MemoryStorage

from incubator import create_app
from incubator.core import jobs, metrics
from tests.metrics_helpers import TOKEN, labels_of, scrape, value

DURATION = "incubator_http_request_duration_seconds"


@pytest.fixture()
def token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    return TOKEN


def test_metrics_are_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-of-some-length", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                    f"bearer{TOKEN}", "Bearer "])
def test_metrics_answer_only_to_the_token(client, token, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "incubator_" not in response.get_data(as_text=True)


def test_a_request_shows_up_in_the_histogram_under_its_endpoint(client, token):
    before = scrape(client)
    assert client.get("/auth/login").status_code == 200
    assert client.get("/auth/login").status_code == 200
    after = scrape(client)
    labels = {"endpoint": "accounts.login", "method": "GET"}
    assert value(after, DURATION + "_count", **labels) - value(before, DURATION + "_count", **labels) == 2
    assert value(after, DURATION + "_bucket", le="+Inf", **labels) == value(after, DURATION + "_count", **labels)
    assert value(after, DURATION + "_sum", **labels) > value(before, DURATION + "_sum", **labels)
    got = value(after, "incubator_http_responses_total", endpoint="accounts.login", status_class="2xx")
    assert got - value(before, "incubator_http_responses_total", endpoint="accounts.login", status_class="2xx") == 2


def test_labels_are_endpoint_names_never_paths(app, client, token):
    before = scrape(client)
    assert client.get("/no/such/page/12345").status_code == 404
    assert client.get("/o/no-such-org-777/").status_code in (302, 404)
    after = scrape(client)
    assert value(after, "incubator_http_responses_total", endpoint="unmatched", status_class="4xx") \
        - value(before, "incubator_http_responses_total", endpoint="unmatched", status_class="4xx") == 1
    endpoints = labels_of(after, DURATION + "_count", "endpoint")
    # (other tests' apps count in the same process: names only, each an endpoint's dotted name)
    assert [name for name in endpoints if not re.fullmatch(r"[A-Za-z_][\w.-]*", name)] == []
    assert not any("777" in name or "12345" in name for name in endpoints)
    rule = app.url_map.bind("localhost").match("/o/no-such-org-777/")[0]
    assert rule in endpoints


def test_server_errors_are_counted_as_5xx(tmp_path, token):
    dead = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/nope/db.sqlite", "METRICS_TOKEN": TOKEN})
    client = dead.test_client()
    before = scrape(client)
    assert client.get("/healthz").status_code == 503
    after = scrape(client)
    key = {"endpoint": "main.healthz", "status_class": "5xx"}
    assert value(after, "incubator_http_responses_total", **key) \
        - value(before, "incubator_http_responses_total", **key) == 1


def test_the_pool_gauges_follow_connections_in_use(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/pool.db", "METRICS_TOKEN": TOKEN})
    client, engine = app.test_client(), app.extensions["db_engine"]
    try:
        before = scrape(client)
        first, second = engine.connect(), engine.connect()  # two checkouts (no statement: no SQLite lock)
        busy = scrape(client)
        assert value(busy, "incubator_db_pool_checked_out") - value(before, "incubator_db_pool_checked_out") == 2
        assert value(busy, "incubator_db_pool_connections") - value(before, "incubator_db_pool_connections") == 2
        first.close()
        second.close()
        idle = scrape(client)
        assert value(idle, "incubator_db_pool_checked_out") == value(before, "incubator_db_pool_checked_out")
        assert value(idle, "incubator_db_pool_connections") - value(before, "incubator_db_pool_connections") == 2
        assert value(idle, "incubator_db_pool_capacity") >= engine.pool.size()
        engine.dispose()  # the pool closes its idle connections
        closed = scrape(client)
        assert value(closed, "incubator_db_pool_connections") == value(before, "incubator_db_pool_connections")
    finally:
        engine.dispose()


def test_the_queue_depth_is_read_from_the_queue_when_scraped(client, token):
    storage = jobs.huey.storage
    storage.flush_queue()
    for message in (b"one", b"two", b"three"):
        storage.enqueue(message)
    try:
        assert value(scrape(client), "incubator_job_queue_depth") == 3
        storage.dequeue()
        assert value(scrape(client), "incubator_job_queue_depth") == 2
    finally:
        storage.flush_queue()
    assert value(scrape(client), "incubator_job_queue_depth") == 0


def test_a_queue_that_is_down_leaves_the_scrape_answering():
    class Down(Huey):
        def pending_count(self):
            raise ConnectionError("the queue is down")

    assert list(metrics.QueueCollector(Down("down", storage_class=MemoryStorage)).collect()) == []


@jobs.job()
def metrics_probe_job(fail: bool) -> str:
    if fail:
        raise ValueError("this job fails")
    return "done"


def test_jobs_are_timed_and_counted_by_outcome(app, client, token):
    before = scrape(client)
    with app.app_context():
        assert metrics_probe_job(False)() == "done"
        assert metrics_probe_job(False)() == "done"
        with pytest.raises(Exception, match="this job fails"):
            metrics_probe_job(True)()
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("incubator_jobs_total", task="metrics_probe_job", outcome="complete") == 2
    assert moved("incubator_jobs_total", task="metrics_probe_job", outcome="error") == 1
    assert moved("incubator_job_duration_seconds_count", task="metrics_probe_job") == 3


def test_the_worker_serves_the_same_scrape(app, token):
    import socket
    import urllib.error
    import urllib.request

    from tests.conftest import ALLOWED_PORTS

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ALLOWED_PORTS.add(port)
    server = metrics.serve_worker_metrics(app, port, host="127.0.0.1")
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 (a loopback URL the test made)
        assert refused.value.code == 401
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            assert answer.status == 200 and b"incubator_jobs_total" in answer.read()
        with pytest.raises(urllib.error.HTTPError) as elsewhere:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)  # noqa: S310
        assert elsewhere.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
        ALLOWED_PORTS.discard(port)
