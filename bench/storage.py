"""Storage backends side by side: save a large file and stream it back through ``send``, to a local
folder and to an S3 API (moto's server mode in a subprocess on a free loopback port), in the same run.

Prints JSON: per backend the best of ``--rounds`` times (seconds, MiB/s) and tracemalloc's peak of the
app's side (moto's memory is its own process's), and the S3/local ratios. moto is a Python server on the
same machine: the ratio measures this code plus moto, not a real S3 across a network.

    .venv/bin/python bench/storage.py            # 64 MiB, 3 rounds
    .venv/bin/python bench/storage.py --mb 16 --rounds 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402

from incubator.core.storage import Storage, make_storage  # noqa: E402

KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def start_moto() -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto's server did not start")


def one_round(app: Flask, backend: Storage, source, size: int) -> dict[str, float]:
    source.seek(0)
    tracemalloc.start()
    started = time.perf_counter()
    key = backend.save(source, ".bin")
    saved = time.perf_counter() - started
    _now, save_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    with app.test_request_context():
        response = backend.send(key, as_attachment=True, download_name="big.bin")
        length = sum(len(block) for block in response.response)
        response.close()
    sent = time.perf_counter() - started
    _now, send_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    backend.delete(key)
    assert length == size, (length, size)
    return {"save_s": saved, "send_s": sent, "save_peak_mib": save_peak / 2**20, "send_peak_mib": send_peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = args.mb << 20
    server, endpoint = start_moto()
    try:
        folder = tempfile.mkdtemp(prefix="storage-bench-")
        backends = {"local": make_storage({"STORAGE_URL": f"file://{folder}"}),
                    "s3": make_storage({"STORAGE_URL": "s3://storage-bench/run", "S3_ENDPOINT_URL": endpoint,
                                        **KEYS})}
        backends["s3"].client.create_bucket(Bucket="storage-bench")
        app = Flask(__name__)
        results: dict[str, dict[str, float]] = {}
        with tempfile.TemporaryFile() as source:
            for n in range(args.mb):
                source.write(hashlib.sha256(str(n).encode()).digest() * (1 << 15))
            for _ in range(args.rounds):  # alternate the backends so that load changes hit both alike
                for name, backend in backends.items():
                    got = one_round(app, backend, source, size)
                    best = results.setdefault(name, got)
                    for field in ("save_s", "send_s"):
                        best[field] = min(best[field], got[field])
                    for field in ("save_peak_mib", "send_peak_mib"):
                        best[field] = max(best[field], got[field])
        for best in results.values():
            best["save_mib_s"] = args.mb / best["save_s"]
            best["send_mib_s"] = args.mb / best["send_s"]
        ratios = {f"s3/local {field}": results["s3"][field] / results["local"][field] for field in ("save_s", "send_s")}
        print(json.dumps({"mib": args.mb, "rounds": args.rounds, "results": results, "ratios": ratios}, indent=2))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
