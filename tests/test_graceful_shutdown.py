"""A job worker stopped by SIGTERM (``docker stop``, a deploy) finishes the job it is running.

A real ``huey_consumer`` runs with the worker's flags from compose.yaml, on a SQLite queue in a temporary
folder, and a job that sleeps two seconds then writes a marker; SIGTERM arrives while the job runs.
Without ``--graceful-signal TERM`` (Huey's default: SIGTERM interrupts) the same job is cut short.
"""

from __future__ import annotations

import importlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONSUMER = Path(sys.executable).parent / "huey_consumer"

JOBS = '''
import os, time
from huey import SqliteHuey

huey = SqliteHuey("sleepy", filename=os.environ["SLEEPY_QUEUE"])


@huey.task()
def sleepy(marker):
    open(marker + ".started", "w").close()
    time.sleep(2)
    with open(marker, "w") as out:
        out.write("finished")
'''


def worker_flags() -> list[str]:
    """The flags compose.yaml gives the worker, with compose's ${VAR:-default} read as its default."""
    command = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]["worker"]["command"]
    assert command[:2] == ["huey_consumer", "incubator.worker.huey"]
    return [re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", arg) for arg in command[2:]]


def _wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return False


def _run_and_terminate(tmp_path: Path, flags: list[str]) -> tuple[Path, int, float]:
    """Queue the job, start the consumer, SIGTERM it mid-job; answers the marker, the exit code, when it ended."""
    (tmp_path / "sleepy_jobs.py").write_text(JOBS)
    env = {**os.environ, "SLEEPY_QUEUE": str(tmp_path / "queue.db"), "PYTHONPATH": str(tmp_path)}
    os.environ["SLEEPY_QUEUE"] = env["SLEEPY_QUEUE"]
    sys.path.insert(0, str(tmp_path))
    try:
        jobs = importlib.import_module("sleepy_jobs")
        marker = tmp_path / "marker"
        jobs.sleepy(str(marker))  # queued in the SQLite file, for the consumer to take
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("sleepy_jobs", None)
        os.environ.pop("SLEEPY_QUEUE", None)
    log = (tmp_path / "consumer.log").open("wb")
    consumer = subprocess.Popen([str(CONSUMER), "sleepy_jobs.huey", *flags], cwd=tmp_path, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        assert _wait_for(tmp_path / "marker.started", 20), (tmp_path / "consumer.log").read_text()
        time.sleep(0.3)  # well inside the job's two seconds
        consumer.send_signal(signal.SIGTERM)
        code = consumer.wait(timeout=20)
        return marker, code, time.time()
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait()
        log.close()


@pytest.mark.skipif(not CONSUMER.exists(), reason="huey_consumer is not installed beside this Python")
def test_sigterm_lets_the_running_job_finish(tmp_path):
    flags = worker_flags()
    assert flags[flags.index("--graceful-signal") + 1] == "TERM"
    marker, code, ended = _run_and_terminate(tmp_path, flags)
    assert code == 0
    assert marker.read_text() == "finished"
    assert marker.stat().st_mtime <= ended
    assert "Shutting down gracefully" in (tmp_path / "consumer.log").read_text()


@pytest.mark.skipif(not CONSUMER.exists(), reason="huey_consumer is not installed beside this Python")
def test_without_the_flag_sigterm_cuts_the_job_short(tmp_path):
    flags = [arg for pair in zip(worker_flags()[::2], worker_flags()[1::2], strict=True)
             if pair[0] != "--graceful-signal" for arg in pair]
    marker, _code, _ended = _run_and_terminate(tmp_path, flags)
    time.sleep(2.2)  # past the job's end, had it gone on
    assert not marker.exists()
