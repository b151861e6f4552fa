"""Prometheus metrics (prometheus-client): requests, jobs, webhook deliveries, reconciliations, the pool.

``GET /metrics`` answers only to ``Authorization: Bearer $METRICS_TOKEN`` (compared in constant time): 401
with a wrong or missing token, 404 when ``METRICS_TOKEN`` is unset (metrics are off). The job worker serves
the same answer on ``METRICS_PORT`` (``serve_worker_metrics``): its jobs are counted in its own process.

Several gunicorn workers are several processes: with ``PROMETHEUS_MULTIPROC_DIR`` set (an empty folder
of that container, set before the app starts), each writes its values there and a scrape of any worker
adds them up (prometheus-client's multiprocess mode; ``config.child_exit`` clears a dead worker's
gauges). Without it the values are the scraped process's own (development, tests, one process).

Labels stay few: the Flask endpoint name (never the raw path, which holds ids), the status class, the
task's name, an outcome.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

REQUEST_SECONDS = Histogram(
    "incubator_http_request_duration_seconds", "Time to answer a request, by Flask endpoint.",
    ["endpoint", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
RESPONSES = Counter("incubator_http_responses", "Answers by Flask endpoint and status class (2xx..5xx).",
                    ["endpoint", "status_class"])
JOB_SECONDS = Histogram("incubator_job_duration_seconds", "Time a Huey job ran, by task, whatever its outcome.",
                        ["task"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900))
JOBS = Counter("incubator_jobs", "Huey jobs by task and outcome (complete, error, retrying, ...).",
               ["task", "outcome"])
WEBHOOK_DELIVERIES = Counter("incubator_webhook_deliveries", "Webhook delivery attempts by outcome: succeeded, "
                             "retrying (failed, tried again later), failed (failed, given up).", ["outcome"])
RECONCILIATIONS = Counter("incubator_payment_reconciliations", "Payments read back by the reconciliation job, by "
                          "outcome: the payment's status afterwards, skipped (settled meanwhile) or error.",
                          ["outcome"])
POOL_CHECKED_OUT = Gauge("incubator_db_pool_checked_out", "Database connections in use (checked out of the pool).",
                         multiprocess_mode="livesum")
POOL_OPEN = Gauge("incubator_db_pool_connections", "Database connections open (in use or idle in the pool).",
                  multiprocess_mode="livesum")
POOL_CAPACITY = Gauge("incubator_db_pool_capacity", "Connections the pools may open (size + overflow), summed over "
                      "processes.", multiprocess_mode="livesum")

OUTCOMES = {"complete", "error", "retrying", "revoked", "expired", "interrupted", "timeout", "locked", "canceled",
            "rate-limited"}


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


class QueueCollector(Collector):
    """The Huey queue's depth, read from its storage (Redis in production) when scraped."""

    def __init__(self, huey: Any = None) -> None:
        self.huey = huey  # None: the app's queue (core.jobs.huey)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from incubator.core import jobs

        huey = self.huey or jobs.huey
        pending = GaugeMetricFamily("incubator_job_queue_depth", "Jobs waiting in the Huey queue.")
        scheduled = GaugeMetricFamily("incubator_job_scheduled", "Jobs scheduled for later (retries, delays).")
        try:
            pending.add_metric([], huey.pending_count())
            scheduled.add_metric([], huey.scheduled_count())
        except Exception:  # the queue is down: no sample (readiness says so); the scrape still answers
            return
        yield pending
        yield scheduled


def registry(app: Flask) -> CollectorRegistry:
    """What a scrape reports: every process's values (multiprocess mode) or this one's, and the queue."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        scraped = CollectorRegistry()
        multiprocess.MultiProcessCollector(scraped)  # type: ignore[no-untyped-call]
        scraped.register(QueueCollector())
        return scraped
    return REGISTRY


if not multiprocess_dir():  # one process: the default registry holds everything, the queue included
    REGISTRY.register(QueueCollector())


def authorised(header: str | None, token: str) -> bool:
    scheme, _sep, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def answer(app: Flask, authorization: str | None) -> tuple[int, dict[str, str], bytes]:
    """The scrape's status, headers and body, for the web's view and the worker's server alike."""
    token = app.config.get("METRICS_TOKEN")
    if not token:
        return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"Not Found\n"
    if not authorised(authorization, token):
        return 401, {"Content-Type": "text/plain; charset=utf-8", "WWW-Authenticate": 'Bearer realm="metrics"'}, \
            b"Unauthorized\n"
    return 200, {"Content-Type": CONTENT_TYPE_LATEST}, generate_latest(registry(app))


# -- recording ----------------------------------------------------------------------------------------------

def status_class(status: int) -> str:
    return f"{status // 100}xx"


def _endpoint() -> str:
    return request.url_rule.endpoint if request.url_rule is not None else "unmatched"


def init_app(app: Flask) -> None:
    from incubator.core import jobs

    watch_pool(app.extensions["db_engine"])
    install_job_signals(jobs.huey)

    @app.before_request
    def _metrics_start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _metrics_record(response: Any) -> Any:
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = _endpoint()
            REQUEST_SECONDS.labels(endpoint, request.method).observe(time.perf_counter() - started)
            RESPONSES.labels(endpoint, status_class(response.status_code)).inc()
        return response


def watch_pool(engine: Any) -> None:
    """Count the engine's connections by the pool's own events: opened, closed, checked out, checked in."""
    from sqlalchemy import event

    pool = engine.pool
    if getattr(pool, "_incubator_metrics", False):
        return
    pool._incubator_metrics = True
    size, overflow = getattr(pool, "size", None), getattr(pool, "_max_overflow", 0)
    counted: set[int] = set()

    def connected(*_args: Any) -> None:
        POOL_OPEN.inc()
        # The capacity is counted by each process that uses the pool, on its first connection: a gunicorn
        # master that created the app before forking (and never connects) counts none.
        if callable(size) and os.getpid() not in counted:
            counted.add(os.getpid())
            POOL_CAPACITY.inc(size() + max(overflow, 0))

    event.listen(pool, "connect", connected)
    event.listen(pool, "close", lambda *_args: POOL_OPEN.dec())
    event.listen(pool, "detach", lambda *_args: POOL_OPEN.dec())
    event.listen(pool, "checkout", lambda *_args: POOL_CHECKED_OUT.inc())
    event.listen(pool, "checkin", lambda *_args: POOL_CHECKED_OUT.dec())


def install_job_signals(huey: Any) -> None:
    """Time every job and count its outcome, from Huey's signals (they fire where the job runs)."""
    if getattr(huey, "_incubator_metrics", False):
        return
    huey._incubator_metrics = True
    started: dict[str, float] = {}

    def executing(_signal: str, task: Any, *_args: Any) -> None:
        started[task.id] = time.perf_counter()

    def finished(signal: str, task: Any, *_args: Any) -> None:
        began = started.pop(task.id, None)
        if began is not None:
            JOB_SECONDS.labels(task.name).observe(time.perf_counter() - began)
        JOBS.labels(task.name, signal).inc()

    huey.signal("executing")(executing)
    huey.signal(*OUTCOMES)(finished)


def record_webhook_delivery(outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(outcome).inc()


def record_reconciliation(outcome: str) -> None:
    RECONCILIATIONS.labels(outcome).inc()


# -- the worker's own scrape address ------------------------------------------------------------------------

def worker_wsgi(app: Flask) -> Any:
    """A WSGI app answering ``/metrics`` only, as the web does (for the job worker's process)."""
    def application(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"Not Found\n"]
        status, headers, body = answer(app, environ.get("HTTP_AUTHORIZATION"))
        reasons = {200: "OK", 401: "Unauthorized", 404: "Not Found"}
        start_response(f"{status} {reasons[status]}", list(headers.items()))
        return [body]

    return application


def serve_worker_metrics(app: Flask, port: int, host: str = "0.0.0.0") -> Any:  # noqa: S104 (in its container)
    """Serve ``worker_wsgi`` on a daemon thread; answers the server (``shutdown()`` stops it)."""
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
            pass

    server = make_server(host, port, worker_wsgi(app), handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
