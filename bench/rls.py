"""Benchmark of PostgreSQL row-level security: the key pages with it (``DATABASE_RLS=on``, connected as a
role the policies hold) and without it (the ORM's filter alone), as ratios.

    .venv/bin/python bench/rls.py [--pages a,b] [--scale 1|10] [--requests N]
                                  [--url postgresql+psycopg://postgres@127.0.0.1:5432/test_h3] [--port 5140]
                                  [--reuse]

It builds the demo, grown to ``--scale`` as ``bench/pages.py`` grows it (same code: 10x clones the
cohorts' startups, the open call's applications and the lab's bookings ten times), in a schema of its
own (``bench_rls_1x``, ``bench_rls_10x``; ``--reuse`` keeps a previous run's), gives the role
``incubator_app`` (created when missing: no superuser, no ``BYPASSRLS``) the tables, and serves it twice
with gunicorn (3 sync workers each): once as postgres with ``DATABASE_RLS`` off, once with
``DATABASE_RLS=on`` and ``DATABASE_ROLE=incubator_app``. It measures the median latency of every page
on both servers, the requests of a round in a shuffled order so that the machine's load hits both alike.

The last line on stdout is one JSON object: per page, ``rls_ratio`` (median with row-level security over
median without) and both medians in ms; ``rls_ratio_median`` over the pages; ``bare_ratio`` for
``/healthz`` (no session: the noise floor).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages  # noqa: E402  (bench/pages.py: the demo, its growth, gunicorn and the measurement loop)
from sqlalchemy import create_engine, text  # noqa: E402

pages.SCHEMA = "bench_rls"
ROLE = "incubator_app"
MODES = ("plain", "rls")


def grant(url: str) -> None:
    """The role the policies hold, created when missing (roles belong to the whole server), on the schema."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"""DO $$ BEGIN
            CREATE ROLE {ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$"""))
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {ROLE}'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {ROLE}'))
        conn.execute(text(f'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {ROLE}'))
    engine.dispose()


def serve(url: str, port: int, mode: str) -> Any:
    """gunicorn on the schema, with or without row-level security (``pages.serve`` with two more settings)."""
    extra = {"DATABASE_RLS": "on", "DATABASE_ROLE": ROLE} if mode == "rls" else {"DATABASE_RLS": "off"}
    plain_env = pages.server_env
    pages.server_env = lambda u: {**plain_env(u), **extra}  # type: ignore[assignment]
    try:
        return pages.serve(url, port)
    finally:
        pages.server_env = plain_env  # type: ignore[assignment]


def options() -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", default=",".join(pages.PAGES), help=f"comma-separated, of {', '.join(pages.PAGES)}")
    parser.add_argument("--scale", type=int, default=1, choices=(1, 10))
    parser.add_argument("--requests", type=int, default=20, help="requests per page and server (after warming up)")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test_h3")
    parser.add_argument("--port", type=int, default=5140, help="the first port tried")
    parser.add_argument("--reuse", action="store_true", help="keep the schema a previous run built")
    args = parser.parse_args()
    chosen = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = set(chosen) - set(pages.PAGES)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    return args, chosen


def main() -> None:
    args, chosen = options()
    began = time.perf_counter()
    if not (args.reuse and pages.built(args.url, args.scale)):
        pages.prepare(args.url, args.scale)
    url = pages.schema_url(args.url, args.scale)
    grant(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        page_ids = pages.ids(conn)
    engine.dispose()
    servers, bases, port = [], {}, args.port
    try:
        for mode in MODES:
            port = pages.free_port(port)
            servers.append(serve(url, port, mode))
            bases[mode] = f"http://127.0.0.1:{port}"
            port += 1
        token = pages.issue_token(url, pages.USERS["manager"]) if any(pages.PAGES[p][0] == "api" for p in chosen) \
            else None
        targets: dict[tuple[str, str], tuple[Any, str]] = {}
        api = pages.api_client(token) if token is not None else None
        for mode, server in zip(MODES, servers, strict=True):
            base = bases[mode]
            pages.wait_until_up(server, base)
            clients = {role: pages.sign_in(base, email) for role, email in pages.USERS.items()
                       if role in {pages.PAGES[p][0] for p in chosen}}
            if api is not None:
                clients["api"] = api
            for page in chosen:
                role, path = pages.PAGES[page]
                targets[mode, page] = clients[role], base + path.format(**page_ids)
            targets[mode, "bare"] = pages.requests.Session(), base + pages.BARE
        pages.log(f"{args.scale}x: both servers up at {time.perf_counter() - began:.0f} s; measuring "
                  f"{args.requests} requests per page and server")
        medians, _sizes = pages.measure(targets, args.requests)  # type: ignore[arg-type]
    finally:
        for server in servers:
            pages.stop(server)
    result = {page: {"rls_ratio": round(medians["rls", page] / medians["plain", page], 3),
                     "median_ms_rls": round(medians["rls", page], 1),
                     "median_ms_plain": round(medians["plain", page], 1)} for page in chosen}
    print(json.dumps({"scale": f"{args.scale}x", "requests": args.requests, "pages": result,
                      "rls_ratio_median": round(statistics.median(r["rls_ratio"] for r in result.values()), 3),
                      "bare_ratio": round(medians["rls", "bare"] / medians["plain", "bare"], 3)}))


if __name__ == "__main__":
    main()
