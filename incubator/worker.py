"""Job worker entry point: ``huey_consumer incubator.worker.huey``."""

from incubator import create_app
from incubator.core import jobs

app = create_app()
jobs.set_worker_app(app)
huey = jobs.huey
