"""Benchmark of the formatting layer (``incubator.core.formatting``) against Babel asked per cell.

    .venv/bin/python bench/formatting.py [--cells N] [--distinct N]

A list page formats many cells whose values repeat (times of a week's bookings, amounts, counts). This
formats ``--cells`` moments, amounts and numbers (``--distinct`` different values of each) in Vietnamese
and English, once with the layer's filters and once with Babel's own functions called for every cell
(what the pages did with flask-babel's ``datetimeformat`` and ``format_currency``), and prints CPU seconds
and the ratio (target: the layer at least 3x faster than Babel per cell). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["INCUBATOR_ENV"] = "testing"
os.environ.setdefault("TEST_DATABASE_URL", "sqlite://")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=20000)
    parser.add_argument("--distinct", type=int, default=300)
    args = parser.parse_args()

    from babel.dates import format_datetime
    from babel.numbers import format_currency, format_decimal
    from flask_babel import force_locale

    from incubator import create_app
    from incubator.core import formatting

    app = create_app({"DATABASE_URL": "sqlite://"})
    start = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    moments = [start + timedelta(minutes=30 * (i % args.distinct)) for i in range(args.cells)]
    amounts = [150000 * (i % args.distinct) for i in range(args.cells)]
    tz = "Asia/Ho_Chi_Minh"

    def layer(locale: str) -> None:
        with force_locale(locale):
            for moment, amount in zip(moments, amounts, strict=True):
                formatting.datetime_(moment, tz=tz)
                formatting.money(amount, "VND")
                formatting.number(amount / 7, 1)

    def babel(locale: str) -> None:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(tz)
        for moment, amount in zip(moments, amounts, strict=True):
            format_datetime(moment, "medium", tzinfo=zone, locale=locale)
            format_currency(amount, "VND", locale=locale)
            format_decimal(amount / 7, "#,##0.0", locale=locale)

    figures: dict[str, float | int | bool] = {"cells": args.cells, "distinct": args.distinct}
    with app.test_request_context("/"):
        for name, run in (("layer", layer), ("babel_per_cell", babel)):
            began = time.process_time()
            for locale in ("vi", "en"):
                run(locale)
            figures[f"{name}_cpu_seconds"] = round(time.process_time() - began, 3)
    figures["ratio_babel_to_layer"] = round(float(figures["babel_per_cell_cpu_seconds"])
                                            / max(float(figures["layer_cpu_seconds"]), 1e-6), 1)
    figures["meets_target_3x"] = figures["ratio_babel_to_layer"] >= 3
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
