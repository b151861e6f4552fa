"""The PDF report: an HTML template rendered by WeasyPrint, charts drawn by matplotlib (Agg).

DejaVu Sans carries the Vietnamese glyphs; page numbers come from CSS paged media.
"""

from __future__ import annotations

import base64
import gc
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")
from flask import render_template  # noqa: E402
from flask_babel import gettext as _  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from weasyprint import HTML  # noqa: E402

from incubator.core.money import exponent  # noqa: E402
from incubator.reporting import labels  # noqa: E402
from incubator.reporting.figures import Report  # noqa: E402
from incubator.reporting.labels import label  # noqa: E402

matplotlib.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8,
                            "axes.spines.top": False, "axes.spines.right": False})


def _png(fig: Figure) -> str:
    """A PNG at print resolution: WeasyPrint places it far faster than an SVG of the same chart."""
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=150)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _short(value: float, _pos: Any = None) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}".replace(".0", "")
    return f"{value:.0f}"


def charts(report: Report) -> dict[str, str]:
    """Image data URIs for the PDF: revenue and jobs, funding by type, mentoring hours, lab hours."""
    if not report.months:
        return {}
    scale = 10 ** exponent(report.currency)
    months = [m[2:] for m in report.months]  # "26-03"
    found: dict[str, str] = {}

    fig = Figure(figsize=(7.2, 2.8), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(months, [v / scale for v in report.trend["revenue"]], color="#0d6efd", label=label("revenue"))
    ax.yaxis.set_major_formatter(FuncFormatter(_short))
    ax.set_title(_("Revenue and jobs created per month"), loc="left")
    jobs = ax.twinx()
    jobs.plot(months, report.trend["jobs_created"], color="#198754", marker="o", label=label("jobs_created"))
    jobs.set_ylim(bottom=0)
    fig.legend(loc="outside lower center", ncols=2, frameon=False)
    ax.tick_params(axis="x", labelrotation=45)
    found["revenue"] = _png(fig)

    fig = Figure(figsize=(7.2, 2.6), layout="constrained")
    ax = fig.add_subplot()
    bottom = [0.0] * len(months)
    for name, colour in (("funding_equity", "#6f42c1"), ("funding_debt", "#fd7e14"), ("funding_grant", "#20c997")):
        values = [v / scale for v in report.trend[name]]
        ax.bar(months, values, bottom=bottom, color=colour, label=label(name))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.yaxis.set_major_formatter(FuncFormatter(_short))
    ax.set_title(_("Funding raised by type"), loc="left")
    fig.legend(loc="outside lower center", ncols=3, frameon=False)
    ax.tick_params(axis="x", labelrotation=45)
    found["funding"] = _png(fig)

    fig = Figure(figsize=(3.5, 2.4), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(months, [report.mentoring.by_month.get(m, [0, 0])[1] / 60 for m in report.months], color="#6610f2")
    ax.set_ylim(bottom=0, top=None if report.mentoring.minutes else 1)
    ax.set_title(_("Mentoring hours per month"), loc="left")
    ax.tick_params(axis="x", labelrotation=90)
    found["mentoring"] = _png(fig)

    if report.lab:
        fig = Figure(figsize=(7.2, 0.6 + 0.45 * len(report.lab)), layout="constrained")
        ax = fig.add_subplot()
        kinds = [line.label for line in report.lab]
        credit = [line.credit_minutes / 60 for line in report.lab]
        paid = [line.paid_minutes / 60 for line in report.lab]
        other = [line.minutes / 60 - c - p for line, c, p in zip(report.lab, credit, paid, strict=True)]
        ax.barh(kinds, credit, color="#20c997", label=label("credit_hours"))
        ax.barh(kinds, paid, left=credit, color="#fd7e14", label=label("paid_hours"))
        ax.barh(kinds, other, left=[c + p for c, p in zip(credit, paid, strict=True)], color="#adb5bd",
                label=_("Other hours"))
        ax.set_title(_("Lab hours by resource kind"), loc="left")
        fig.legend(loc="outside lower center", ncols=3, frameon=False, fontsize=6)
        found["lab"] = _png(fig)
    return found


def monogram(name: str) -> str:
    """An emblem for organisations without a logo: their initials in a badge."""
    words = [w for w in name.replace("(", " ").split() if w[:1].isalpha()]
    initials = "".join(w[0] for w in words[:3]).upper() or "?"
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
           f'<rect width="64" height="64" rx="12" fill="#0d6efd"/>'
           f'<text x="32" y="41" font-family="DejaVu Sans" font-size="22" font-weight="bold" fill="#fff" '
           f'text-anchor="middle">{initials}</text></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the duration of one render.

    matplotlib and WeasyPrint allocate hundreds of thousands of short-lived objects; each allocation burst
    sets off collections, and the full ones walk the whole heap of the worker (the app and its libraries)
    again and again: about an eighth of the CPU time of the 100-startup report (``bench/reports.py``).
    What the render leaves in cycles is collected by the next automatic collection after it.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def render_pdf(report: Report, logo: str | None = None, progress: Any = None) -> bytes:
    """``logo``: the organisation's uploaded logo as a data URI; without one, an emblem of its initials."""
    with collector_paused():
        html = render_template("reporting/pdf.html", report=report, charts=charts(report),
                               logo=logo or monogram(report.viewer.name), L=labels)
        if progress is not None:
            progress(55)
        return HTML(string=html).write_pdf()
