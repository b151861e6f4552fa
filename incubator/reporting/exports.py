"""CSV and XLSX downloads of the report, written from the same ``Report`` as the page.

The XLSX lists every lab booking of the period; that sheet is streamed from the database into
XlsxWriter's constant-memory mode, so a report with hundreds of thousands of bookings stays small
in memory.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import xlsxwriter
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from incubator.booking.usage import lab_bookings_stmt
from incubator.core import csvutil
from incubator.core.money import exponent
from incubator.core.tenancy import all_orgs
from incubator.reporting.figures import FLOWS, HEADLINE, MONEY, Report
from incubator.reporting.labels import label, major, sources
from incubator.reporting.queries import booking_money

CSV_KPIS = (*FLOWS, "employees_full_time")
Progress = Callable[[int], None]


def _no_progress(_percent: int) -> None:
    return None


def _value(name: str, value: int, currency: str) -> Any:
    return major(value, currency) if name in MONEY else value


# -- CSV --------------------------------------------------------------------------------------------

def write_csv(report: Report, out: io.TextIOBase) -> None:
    """One flat row per startup and month of the period; months without a check-in have empty figures.
    UTF-8 with a BOM, and no text cell a spreadsheet would run as a formula (``core.csvutil``)."""
    writer = csvutil.writer(out)
    fixed = ("org", "cohorts", "startup", "registration_number", "status", "stage", "origin", "st_enterprise", "month")
    writer.writerow([label(n) for n in (*fixed, *CSV_KPIS, "source")])
    for line in report.startups:
        for month in report.months:
            values = line.by_month.get(month)
            writer.writerow([
                line.org_name, line.cohorts, line.name, line.registration_number or "", label(line.status),
                label(line.stage), label(line.origin), label("yes" if line.st_enterprise else "no"), month,
                *(("" if values is None else _value(n, values[n], report.currency)) for n in CSV_KPIS),
                line.sources.get(month, "")])


def csv_bytes(report: Report) -> bytes:
    out = io.StringIO()
    write_csv(report, out)
    return out.getvalue().encode("utf-8")


# -- XLSX -------------------------------------------------------------------------------------------

class _Formats:
    def __init__(self, book: Any, currency: str) -> None:
        digits = exponent(currency)
        money_format = "#,##0" + ("." + "0" * digits if digits else "") + f' "{currency}"'
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.header = book.add_format({"bold": True, "bg_color": "#DDE7F5", "border": 1, "text_wrap": True,
                                       "valign": "top"})
        self.money = book.add_format({"num_format": money_format})
        self.int = book.add_format({"num_format": "#,##0"})
        self.dec = book.add_format({"num_format": "#,##0.0"})
        self.pct = book.add_format({"num_format": "0%"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.month = book.add_format({"num_format": "yyyy-mm"})
        self.note = book.add_format({"italic": True, "font_color": "#666666"})

    def for_name(self, name: str) -> Any:
        return self.money if name in MONEY else self.int


def _header(sheet: Any, row: int, names: list[str], fmt: _Formats, widths: dict[int, int] | None = None) -> None:
    for col, name in enumerate(names):
        sheet.write_string(row, col, label(name), fmt.header)
        sheet.set_column(col, col, (widths or {}).get(col, 16))


def write_xlsx(session: Session, report: Report, target: str | BinaryIO, progress: Progress = _no_progress) -> None:
    # Text is text: a startup named "=HYPERLINK(...)" is never written as a formula or a link.
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False,
                                        "default_date_format": "yyyy-mm-dd", "strings_to_formulas": False,
                                        "strings_to_urls": False})
    fmt = _Formats(book, report.currency)
    _summary(book, report, fmt)
    _startups(book, report, fmt)
    _series(book, report, fmt)
    _mentoring(book, report, fmt)
    progress(40)
    _lab(book, session, report, fmt, progress)
    _applications(book, report, fmt)
    book.close()
    progress(90)


def _summary(book: Any, report: Report, fmt: _Formats) -> None:
    sheet = book.add_worksheet(_("Summary")[:31])
    orgs = ", ".join(sorted(o.name for o in report.orgs.values()))
    sheet.write_string(0, 0, _("Programme report"), fmt.title)
    sheet.write_string(1, 0, f"{report.viewer.name} · {report.period.label}")
    sheet.write_string(2, 0, orgs)
    sheet.write_string(3, 0, ", ".join(c.name for c in report.cohorts))
    _header(sheet, 5, ["metric", "value"], fmt, {0: 36, 1: 22})
    sheet.freeze_panes(6, 0)
    row = 6
    for name in HEADLINE:
        sheet.write_string(row, 0, label(name))
        sheet.write_number(row, 1, _value(name, report.headline[name], report.currency), fmt.for_name(name))
        row += 1
    extra = [("milestone_rate", report.milestones.completion_rate, fmt.pct),
             ("mentoring_hours", report.mentoring.hours, fmt.dec),
             ("lab_hours", round(report.lab_total.minutes / 60, 1), fmt.dec),
             ("in_kind_value", major(report.lab_total.in_kind_value, report.currency), fmt.money)]
    for name, value, cell in extra:
        sheet.write_string(row, 0, label(name))
        if value is None:
            sheet.write_string(row, 1, "–")
        else:
            sheet.write_number(row, 1, value, cell)
        row += 1
    if report.targets:
        row += 1
        _header(sheet, row, ["metric", "target", "actual", "achieved"], fmt, {0: 36, 1: 22, 2: 22, 3: 12})
        for target in report.targets:
            row += 1
            name = target["metric"]
            sheet.write_string(row, 0, label(name))
            sheet.write_number(row, 1, _value(name, target["target"], report.currency), fmt.for_name(name))
            sheet.write_number(row, 2, _value(name, target["actual"], report.currency), fmt.for_name(name))
            if target["ratio"] is not None:
                sheet.write_number(row, 3, target["ratio"], fmt.pct)
    if report.comparison:
        row += 2
        names = ["org", "startups", "active", "st_enterprises", "revenue", "jobs_created", "funding_total",
                 "mentoring_hours", "lab_hours", "milestone_rate"]
        _header(sheet, row, names, fmt, {0: 36})
        for line in report.comparison:
            row += 1
            sheet.write_string(row, 0, line["org"])
            for col, name in enumerate(names[1:], start=1):
                value = line[name]
                if value is None:
                    sheet.write_string(row, col, "–")
                else:
                    cell = fmt.pct if name == "milestone_rate" else fmt.dec if name.endswith("hours") else \
                        fmt.for_name(name)
                    sheet.write_number(row, col, _value(name, value, report.currency), cell)


STARTUP_COLUMNS = ["org", "cohorts", "startup", "registration_number", "status", "stage", "origin", "st_enterprise",
                   *FLOWS, "employees_full_time", "mentoring_sessions", "mentoring_hours", "lab_hours",
                   "milestones", "milestones_total", "source"]


def _startups(book: Any, report: Report, fmt: _Formats) -> None:
    sheet = book.add_worksheet(_("Startups")[:31])
    _header(sheet, 0, STARTUP_COLUMNS, fmt, {0: 30, 1: 24, 2: 26})
    sheet.freeze_panes(1, 3)
    for row, line in enumerate(report.startups, start=1):
        texts = [line.org_name, line.cohorts, line.name, line.registration_number or "", label(line.status),
                 label(line.stage), label(line.origin), label("yes" if line.st_enterprise else "no")]
        for col, text in enumerate(texts):
            sheet.write_string(row, col, text)
        col = len(texts)
        for name in FLOWS:
            sheet.write_number(row, col, _value(name, line.kpis[name], report.currency), fmt.for_name(name))
            col += 1
        sheet.write_number(row, col, line.employees, fmt.int)
        sheet.write_number(row, col + 1, line.mentoring_sessions, fmt.int)
        sheet.write_number(row, col + 2, round(line.mentoring_minutes / 60, 1), fmt.dec)
        sheet.write_number(row, col + 3, round(line.lab_minutes / 60, 1), fmt.dec)
        sheet.write_number(row, col + 4, line.milestones_done, fmt.int)
        sheet.write_number(row, col + 5, line.milestones_total, fmt.int)
        sheet.write_string(row, col + 6, sources(line))
    if report.startups:
        sheet.autofilter(0, 0, len(report.startups), len(STARTUP_COLUMNS) - 1)


def _series(book: Any, report: Report, fmt: _Formats) -> None:
    sheet = book.add_worksheet(_("KPI time series")[:31])
    _header(sheet, 0, ["month", *FLOWS], fmt)
    sheet.freeze_panes(1, 1)
    for row, month in enumerate(report.months, start=1):
        sheet.write_datetime(row, 0, datetime.strptime(month, "%Y-%m"), fmt.month)  # a date cell, not text
        for col, name in enumerate(FLOWS, start=1):
            sheet.write_number(row, col, _value(name, report.trend[name][row - 1], report.currency),
                               fmt.for_name(name))
    if not report.months:
        return
    last = len(report.months)
    title = sheet.get_name()
    revenue = book.add_chart({"type": "column"})
    revenue.add_series({"name": [title, 0, 1], "categories": [title, 1, 0, last, 0], "values": [title, 1, 1, last, 1],
                        "fill": {"color": "#0D6EFD"}})
    jobs = book.add_chart({"type": "line"})
    jobs.add_series({"name": [title, 0, 2], "categories": [title, 1, 0, last, 0], "values": [title, 1, 2, last, 2],
                     "y2_axis": True, "line": {"color": "#198754", "width": 2.25}})
    revenue.combine(jobs)
    revenue.set_title({"name": _("Revenue and jobs created per month")})
    revenue.set_legend({"position": "bottom"})
    sheet.insert_chart(last + 3, 0, revenue, {"x_scale": 1.6, "y_scale": 1.2})
    funding = book.add_chart({"type": "column", "subtype": "stacked"})
    for col, colour in ((3, "#6F42C1"), (4, "#FD7E14"), (5, "#20C997")):
        funding.add_series({"name": [title, 0, col], "categories": [title, 1, 0, last, 0],
                            "values": [title, 1, col, last, col], "fill": {"color": colour}})
    funding.set_title({"name": _("Funding raised by type")})
    funding.set_legend({"position": "bottom"})
    sheet.insert_chart(last + 3, 8, funding, {"x_scale": 1.3, "y_scale": 1.2})


def _mentoring(book: Any, report: Report, fmt: _Formats) -> None:
    sheet = book.add_worksheet(_("Mentoring")[:31])
    _header(sheet, 0, ["month", "sessions", "hours"], fmt)
    sheet.freeze_panes(1, 0)
    row = 0
    for row, month in enumerate(report.months, start=1):
        sessions, minutes = report.mentoring.by_month.get(month, [0, 0])
        sheet.write_string(row, 0, month)
        sheet.write_number(row, 1, sessions, fmt.int)
        sheet.write_number(row, 2, round(minutes / 60, 1), fmt.dec)
    row += 2
    sheet.write_string(row, 0, _("Average rating"))
    rating = report.mentoring.average_rating
    sheet.write(row, 1, rating if rating is not None else "–")
    if report.months:
        title = sheet.get_name()
        chart = book.add_chart({"type": "column"})
        chart.add_series({"name": [title, 0, 2], "categories": [title, 1, 0, len(report.months), 0],
                          "values": [title, 1, 2, len(report.months), 2], "fill": {"color": "#6610F2"}})
        chart.set_title({"name": _("Mentoring hours per month")})
        chart.set_legend({"none": True})
        sheet.insert_chart(1, 5, chart)


def _lab(book: Any, session: Session, report: Report, fmt: _Formats, progress: Progress) -> None:
    sheet = book.add_worksheet(_("Lab use")[:31])
    names = ["resource_kind", "bookings", "hours", "credit_hours", "paid_hours", "paid_amount", "in_kind_value"]
    _header(sheet, 0, names, fmt, {0: 20, 6: 24})
    row = 0
    for row, line in enumerate([*report.lab, report.lab_total], start=1):
        sheet.write_string(row, 0, line.label if line.kind != "total" else _("Total"))
        sheet.write_number(row, 1, line.bookings, fmt.int)
        for col, minutes in ((2, line.minutes), (3, line.credit_minutes), (4, line.paid_minutes)):
            sheet.write_number(row, col, round(minutes / 60, 1), fmt.dec)
        sheet.write_number(row, 5, major(line.paid_amount, report.currency), fmt.money)
        sheet.write_number(row, 6, major(line.in_kind_value, report.currency), fmt.money)
    if report.lab:
        title = sheet.get_name()
        chart = book.add_chart({"type": "bar", "subtype": "stacked"})
        chart.add_series({"name": [title, 0, 3], "categories": [title, 1, 0, len(report.lab), 0],
                          "values": [title, 1, 3, len(report.lab), 3], "fill": {"color": "#20C997"}})
        chart.add_series({"name": [title, 0, 4], "categories": [title, 1, 0, len(report.lab), 0],
                          "values": [title, 1, 4, len(report.lab), 4], "fill": {"color": "#FD7E14"}})
        chart.set_title({"name": _("Credit hours and paid hours by resource kind")})
        sheet.insert_chart(1, 8, chart)
    _lab_detail(sheet, session, report, fmt, max(row + 3, 18), progress)


DETAIL_COLUMNS = ["starts_at", "org", "startup", "resource", "resource_kind", "minutes", "credit_hours", "price",
                  "paid_amount"]
EXCEL_EPOCH = datetime(1899, 12, 30)  # day 0 of Excel's 1900 date system, as counted from March 1900
ONE_DAY, MINUTE = timedelta(days=1), timedelta(minutes=1)


def _lab_detail(sheet: Any, session: Session, report: Report, fmt: _Formats, row: int, progress: Progress) -> None:
    """Every booking, streamed from the database as plain tuples (a server-side cursor on PostgreSQL) into
    the constant-memory sheet: rows leave memory as they are written. This is the bulk of a large export,
    so the loop does no per-row lookups: each resource kind is translated once, the start is written as
    the number Excel counts days in (with a date format), and money is divided by its minor-unit scale."""
    _header(sheet, row, DETAIL_COLUMNS, fmt, {0: 20, 1: 20, 6: 24})
    names_by_id = {line.startup_id: (line.org_name, line.name) for line in report.startups}
    zone = ZoneInfo(report.viewer.timezone)
    start, end = report.period.bounds(report.viewer.timezone)
    scale = 10 ** exponent(report.currency)
    kinds: dict[str, str] = {}
    stmt = lab_bookings_stmt(startup_ids=list(names_by_id) or [-1], start=start, end=end).add_columns(
        booking_money().label("paid"))
    number, string, blank = sheet.write_number, sheet.write_string, ("", "")
    # Plain Core rows on the request's connection: the ORM's row processing would be paid 200,000 times for
    # columns it does not map to objects. Core runs no organisation filter (an ORM event): the startups are
    # the report's, access-checked by reporting.scope, and a funder's span organisations.
    with all_orgs(session):
        result = session.connection().execute(stmt, execution_options={"yield_per": 2000})
        for count, (startup_id, starts, ends, credit, price, resource, kind, paid) in enumerate(result, start=1):
            row += 1
            org_name, startup_name = names_by_id.get(startup_id, blank)
            kind_label = kinds.get(kind) or kinds.setdefault(kind, label(kind))
            number(row, 0, (starts.astimezone(zone).replace(tzinfo=None) - EXCEL_EPOCH) / ONE_DAY, fmt.date)
            string(row, 1, org_name)
            string(row, 2, startup_name)
            string(row, 3, resource)
            string(row, 4, kind_label)
            number(row, 5, (ends - starts) // MINUTE, fmt.int)
            number(row, 6, round(credit / 60, 2), fmt.dec)
            number(row, 7, price / scale if scale > 1 else price, fmt.money)
            number(row, 8, int(paid or 0) / scale if scale > 1 else int(paid or 0), fmt.money)
            if count % 20000 == 0:
                progress(min(85, 40 + count // 20000 * 5))


def _applications(book: Any, report: Report, fmt: _Formats) -> None:
    sheet = book.add_worksheet(_("Applications")[:31])
    funnel = report.funnel
    _header(sheet, 0, ["applications", "reviewed", "accepted", "acceptance_rate"], fmt)
    sheet.write_number(1, 0, funnel.applications, fmt.int)
    sheet.write_number(1, 1, funnel.reviewed, fmt.int)
    sheet.write_number(1, 2, funnel.accepted, fmt.int)
    if funnel.acceptance_rate is None:
        sheet.write_string(1, 3, "–")
    else:
        sheet.write_number(1, 3, funnel.acceptance_rate, fmt.pct)
    if not funnel.applications:
        sheet.write_string(3, 0, _("No applications in this period."), fmt.note)
        return
    _header(sheet, 3, ["origin", "applications", "accepted"], fmt)
    for row, (origin, counts) in enumerate(sorted(funnel.by_origin.items()), start=4):
        sheet.write_string(row, 0, label(origin))
        sheet.write_number(row, 1, counts.get("applications", 0), fmt.int)
        sheet.write_number(row, 2, counts.get("accepted", 0), fmt.int)
