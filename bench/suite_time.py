"""How long the suite takes: wall time, CPU time and the 15 slowest tests, as JSON.

    .venv/bin/python bench/suite_time.py                    # like `make test`
    .venv/bin/python bench/suite_time.py -o before.json -- -n 0 tests/api
    .venv/bin/python bench/suite_time.py --against before.json   # the same run, and how it compares

Arguments after ``--`` go to pytest (default: ``-n auto --dist loadgroup``, the whole suite).
The machine may be busy (other jobs, other checkouts): the CPU time (user + system of pytest and its
workers) moves less with the load than the wall time, so compare both, from runs made back to back.
A test's time is its setup, call and teardown (JUnit XML's ``time``). Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET  # noqa: S405 (reads the report pytest just wrote)
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARGS = ["-n", "auto", "--dist", "loadgroup"]


def run(pytest_args: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="suite-time-") as tmp:
        report = Path(tmp) / "junit.xml"
        command = [str(ROOT / ".venv" / "bin" / "pytest"), "-q", f"--junitxml={report}", *pytest_args]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        exit_code = subprocess.call(command, cwd=ROOT, stdout=subprocess.DEVNULL, env=os.environ.copy())
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cases = []
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if report.exists():
            for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314 (our own file)
                name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
                cases.append((float(case.get("time") or 0), name))
                counts["tests"] += 1
                for kind, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
                    if case.find(kind) is not None:
                        counts[key] += 1
    cases.sort(reverse=True)
    return {
        "command": " ".join(command[1:]).replace(str(report), "<junit.xml>"),
        "exit_code": exit_code,
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        **counts,
        "slowest": [{"test": name, "seconds": round(seconds, 2)} for seconds, name in cases[:15]],
    }


def compare(now: dict, then: dict) -> dict:
    def ratio(key: str) -> float | None:
        return round(now[key] / then[key], 2) if then.get(key) else None

    return {"wall_ratio": ratio("wall_seconds"), "cpu_ratio": ratio("cpu_seconds"),
            "tests_then": then.get("tests"), "tests_now": now["tests"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, help="also write the JSON to this file")
    parser.add_argument("--against", type=Path, help="a JSON of an earlier run to compare with")
    parser.add_argument("pytest_args", nargs="*", help="after --: arguments for pytest")
    args = parser.parse_args()
    result = run(args.pytest_args or DEFAULT_ARGS)
    if args.against:
        result["compared_with"] = {"file": str(args.against), **compare(result, json.loads(args.against.read_text()))}
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    print(text)
    return result["exit_code"]


if __name__ == "__main__":
    sys.exit(main())
