"""The SQL statements a key page issues, and the rows they fetch, as the data grows: a deterministic
companion to ``bench/pages.py`` (whose latencies a shared machine blurs).

    .venv/bin/python bench/page_queries.py [--pages a,b] [--scales 1,10]
                                           [--url postgresql+psycopg://postgres@127.0.0.1:5432/NAME]

It reads the scales' schemas that ``bench/pages.py`` builds in that database (``bench_pages_1x``, ...;
it builds those missing), runs the application in this process on each, signs in as the demo users
(an API token for the manager), requests each page twice and counts, on the second request, the
statements sent to the database and the rows they brought back. ``statements_growth_10x`` and
``rows_growth_10x`` are the figures at 10x over those at 1x. The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pages import PAGES, PASSWORD, USERS, built, ids, log, prepare, schema_url  # noqa: E402
from sqlalchemy import create_engine, event  # noqa: E402

REPORT_PAGES = "reports,funder_portal,province_rollup,api_report"


def count(url: str, pages: list[str], page_ids: dict[str, int]) -> dict[str, dict[str, int]]:
    from incubator import create_app
    from incubator.accounts import services
    from incubator.extensions import db

    app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False})
    tally = {"statements": 0, "rows": 0}
    found: dict[str, dict[str, int]] = {}
    with app.app_context():
        def tally_up(_conn: Any, cursor: Any, *_args: Any) -> None:
            tally["statements"] += 1
            if cursor.description is not None:
                tally["rows"] += max(cursor.rowcount, 0)

        event.listen(db.engine, "after_cursor_execute", tally_up)
        user = services.get_user_by_email(db.session, USERS["manager"])
        assert user is not None
        token, _record = services.create_api_token(db.session, user, "bench-queries")
        db.session.commit()
        clients: dict[str, Any] = {}
        for page in pages:
            role, path = PAGES[page]
            if role not in clients:
                client = app.test_client()
                if role != "api":
                    sent = client.post("/auth/login", data={"email": USERS[role], "password": PASSWORD})
                    if sent.status_code not in (302, 303):
                        raise SystemExit(f"{USERS[role]} could not sign in: {sent.status_code}")
                clients[role] = client
            headers = {"Authorization": f"Bearer {token}"} if role == "api" else {}
            target = path.format(**page_ids)
            clients[role].get(target, headers=headers)  # warmed up
            tally.update(statements=0, rows=0)
            answer = clients[role].get(target, headers=headers)
            if answer.status_code != 200:
                raise SystemExit(f"{page}: {answer.status_code}")
            found[page] = dict(tally)
        event.remove(db.engine, "after_cursor_execute", tally_up)
        db.engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", default=REPORT_PAGES, help=f"comma-separated, of {', '.join(PAGES)}")
    parser.add_argument("--scales", default="1,10")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test_h4")
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    unknown = [p for p in pages if p not in PAGES]
    if unknown:
        raise SystemExit(f"unknown pages: {', '.join(unknown)}")
    scales = sorted({1, *(int(s) for s in re.split(r"[ ,]+", args.scales) if s)})
    figures: dict[int, dict[str, dict[str, int]]] = {}
    for scale in scales:
        if not built(args.url, scale):
            prepare(args.url, scale)
        engine = create_engine(schema_url(args.url, scale))
        with engine.connect() as conn:
            page_ids = ids(conn)
        engine.dispose()
        figures[scale] = count(schema_url(args.url, scale), pages, page_ids)
        for page, tally in figures[scale].items():
            log(f"{scale:>4}x {page:<16} {tally['statements']:>4} statements {tally['rows']:>7} rows")
    result: dict[str, Any] = {"pages": {}}
    for page in pages:
        line: dict[str, Any] = {f"{key}_{scale}x": figures[scale][page][key]
                                for scale in scales for key in ("statements", "rows")}
        for scale in scales[1:]:
            for key in ("statements", "rows"):
                line[f"{key}_growth_{scale}x"] = round(figures[scale][page][key] / max(figures[1][page][key], 1), 2)
        result["pages"][page] = line
    print(json.dumps(result))


if __name__ == "__main__":
    main()
