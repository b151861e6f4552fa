"""Benchmark of a web worker's memory: gunicorn with 3 sync workers, with and without ``--preload``.

    .venv/bin/python bench/workers.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/NAME] [--requests N]

Each run starts gunicorn on 127.0.0.1 on a free port (the production configuration, a SQLite file of its
own unless --url is given), waits until ``/healthz`` answers, and reads one worker's memory from /proc:
its resident set (VmRSS in ``/proc/PID/status``), and from ``/proc/PID/smaps_rollup`` its proportional
share (PSS: shared pages split between the processes that map them) and its unique set (USS: private
pages, what stopping that worker would give back). With ``--preload`` the app is imported once in the
master and the workers share those pages, so their RSS stays about the same while PSS and USS drop.
The figures are read after start and again after N requests to the login page. The last line is a
JSON object with the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def memory(pid: int) -> dict[str, float]:
    """VmRSS, PSS and USS of one process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    rollup: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_unit = line.split()
        rollup[name.rstrip(":")] = int(value)
    uss_kb = rollup["Private_Clean"] + rollup["Private_Dirty"]
    return {"rss_mb": round(rss_kb / 1024, 1), "pss_mb": round(rollup["Pss"] / 1024, 1),
            "uss_mb": round(uss_kb / 1024, 1)}


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wait_until_up(base: str, process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with exit code {process.returncode}")
        try:
            # http:// to the server this script started
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer in time")


def run(preload: bool, url: str, requests: int, instance: str) -> dict[str, object]:
    port = free_port()
    env = {**os.environ, "INCUBATOR_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(40),
           "DATABASE_URL": url, "INSTANCE_PATH": instance, "FORCE_HTTPS": "false", "GUNICORN_CMD_ARGS": "",
           # production needs Redis (the job queue and the rate limits); a local one by default
           "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"}
    # With the project's gunicorn settings (config.py: --preload and the post_fork hook), or gunicorn's defaults.
    config = ["-c", "python:config"] if preload else []
    command = [sys.executable, "-m", "gunicorn", *config, "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
               "--worker-class", "sync", "--log-level", "warning", "wsgi:app"]
    began = time.perf_counter()
    log = (Path(instance) / f"gunicorn-{'preload' if preload else 'no-preload'}.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        started = time.perf_counter() - began
        deadline = time.monotonic() + 60
        while len(children(process.pid)) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = children(process.pid)
        time.sleep(1)  # let the workers finish booting
        after_start = memory(workers[0])
        for _ in range(requests):
            with contextlib.suppress(urllib.error.HTTPError):  # any answer: a worker rendered the page
                urllib.request.urlopen(f"{base}/auth/login", timeout=30).read()  # noqa: S310
        return {"preload": preload, "seconds_to_answer": round(started, 1), "workers": len(workers),
                "master": memory(process.pid), "worker_after_start": after_start,
                "workers_after_requests": [memory(pid) for pid in workers]}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--requests", type=int, default=30, help="requests to the login page before the 2nd reading")
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="incubator-bench-workers-")
    url = args.url or f"sqlite:///{Path(instance) / 'workers.db'}"
    figures: dict[str, object] = {"workers": WORKERS, "database": url.split(":")[0]}
    for preload in (True, False):
        result = run(preload, url, args.requests, instance)
        print(json.dumps(result), file=sys.stderr)
        figures["preload" if preload else "no_preload"] = result
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
