"""Job worker entry point: ``huey_consumer incubator.worker.huey``.

With ``METRICS_TOKEN`` and ``METRICS_PORT`` set, the worker answers Prometheus' scrape on that port
(``/metrics``, the same bearer token as the web): its jobs' durations and outcomes are counted here.
"""

from incubator import create_app
from incubator.core import jobs, metrics

app = create_app()
jobs.set_worker_app(app)
huey = jobs.huey
if app.config.get("METRICS_TOKEN") and app.config.get("METRICS_PORT"):
    metrics_server = metrics.serve_worker_metrics(app, int(app.config["METRICS_PORT"]))
