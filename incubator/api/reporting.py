"""The cohort report over the API: JSON, and the CSV, XLSX and PDF downloads (same data as the page)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, g, url_for
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from incubator.api import api_blueprint, error_responses
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.money import to_major, to_minor
from incubator.core.permissions import Permission, require
from incubator.core.storage import image_mimetype, storage
from incubator.core.tenancy import org_today
from incubator.core.timezones import to_local
from incubator.extensions import db
from incubator.reporting import services
from incubator.reporting.figures import MONEY, TARGET_METRICS, Report
from incubator.reporting.scope import PeriodError, narrow, parse_period, reportable_cohorts

bp = api_blueprint("api_reporting", __name__, org=True, description="Cohort reports for managers and funders")

NOT_FOUND = (404, "Not found, or not a cohort the caller may report on")
BAD_PERIOD = (422, "The period is not valid (the field says which)")


class ReportQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    period = fields.String(load_default="year", validate=validate.OneOf(["year", "quarter", "custom"]),
                           metadata={"description": "year (default), quarter or custom"})
    year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100),
                          metadata={"description": "For year and quarter; default: this year"})
    quarter = fields.Integer(load_default=None, validate=validate.Range(1, 4))
    start = fields.String(load_default=None, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                          metadata={"description": "First month of a custom period, YYYY-MM", "example": "2026-01"})
    end = fields.String(load_default=None, validate=validate.Regexp(r"^\d{4}-\d{2}$"),
                        metadata={"description": "Last month of a custom period, YYYY-MM", "example": "2026-06"})
    lang = fields.String(load_default=None, validate=validate.OneOf(list(services.LOCALES)),
                         metadata={"description": "Language of the downloads: vi or en (default: the caller's)"})


class PeriodOut(Schema):
    kind = fields.String(required=True)
    start = fields.Date(required=True)
    end = fields.Date(required=True, metadata={"description": "Exclusive"})
    label = fields.String(required=True)


class FunnelOut(Schema):
    applications = fields.Integer(required=True)
    reviewed = fields.Integer(required=True)
    accepted = fields.Integer(required=True)
    acceptance_rate = fields.Float(allow_none=True, required=True)
    by_origin = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()),
                            required=True)


class MentoringOut(Schema):
    sessions = fields.Integer(required=True)
    hours = fields.Float(required=True)
    average_rating = fields.Float(allow_none=True, required=True)


class LabOut(Schema):
    kind = fields.String(required=True)
    bookings = fields.Integer(required=True)
    hours = fields.Float(required=True)
    credit_hours = fields.Float(required=True)
    paid_hours = fields.Float(required=True)
    paid_amount = fields.Float(required=True)
    in_kind_value = fields.Float(required=True, metadata={"description": "Credit hours at the list price"})


class MilestonesOut(Schema):
    total = fields.Integer(required=True)
    done = fields.Integer(required=True)
    missed = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    completion_rate = fields.Float(allow_none=True, required=True)


class StartupLineOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    organisation = fields.String(required=True, metadata={
        "description": "The incubators that hold it, comma-separated (a company is one line across incubators)"})
    registration_number = fields.String(allow_none=True, required=True)
    status = fields.String(required=True)
    st_enterprise = fields.Boolean(required=True)
    kpis = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    mentoring_hours = fields.Float(required=True)
    lab_hours = fields.Float(required=True)
    milestones_done = fields.Integer(required=True)
    milestones_total = fields.Integer(required=True)
    lab_paid = fields.Float(required=True, metadata={
        "description": "Money received for its lab bookings (payments less refunds, from the ledger)"})
    startup_ids = fields.List(fields.Integer(), required=True, metadata={
        "description": "Its records: one per incubator that holds it (same registration number)"})
    sources = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "For each month with figures (YYYY-MM), the incubator whose check-in they come from: "
                       "a verified one before an unverified one, then the latest updated"})


class ReportOut(Schema):
    period = fields.Nested(PeriodOut, required=True)
    currency = fields.String(required=True, metadata={"description": "Money is in major units of this currency"})
    cohorts = fields.List(fields.Dict(), required=True)
    headline = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    months = fields.List(fields.String(), required=True)
    trend = fields.Dict(keys=fields.String(), values=fields.List(fields.Float()), required=True)
    funnel = fields.Nested(FunnelOut, required=True)
    mentoring = fields.Nested(MentoringOut, required=True)
    lab = fields.List(fields.Nested(LabOut), required=True)
    milestones = fields.Nested(MilestonesOut, required=True)
    startups = fields.List(fields.Nested(StartupLineOut), required=True)
    comparison = fields.List(fields.Dict(), required=True)
    targets = fields.List(fields.Dict(), required=True)


def reportable_cohort(view: Any) -> Any:
    """Resolve ``cohort_id`` among the cohorts the caller may report on (404 otherwise), before the query."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cohort_id = kwargs["cohort_id"]
        chosen = narrow(reportable_cohorts(db.session, g.org, g.membership), cohort_id=cohort_id) \
            if 0 < cohort_id < 2**31 else None
        if not chosen:
            abort(404)
        g.report_cohorts = chosen
        return view(*args, **kwargs)

    return wrapper


def _request(query: dict[str, Any], fmt: str) -> services.Request:
    today = to_local(utcnow(), g.org.timezone).date()
    try:
        period = parse_period({k: str(v) for k, v in query.items() if v is not None}, today)
    except PeriodError as error:
        raise DomainError(error.message, code="invalid_period", fields={error.field: error.message},
                          status=422) from None
    locale = query.get("lang") or (g.api_user.locale if g.api_user.locale in services.LOCALES else "en")
    return services.Request(viewer=g.org, cohorts=g.report_cohorts, period=period, fmt=fmt, locale=locale)


def _money(name: str, value: int, currency: str) -> float:
    return float(to_major(value, currency)) if name in MONEY else value


def as_json(report: Report) -> dict[str, Any]:
    cur = report.currency
    return {
        "period": {"kind": report.period.kind, "start": report.period.start, "end": report.period.end,
                   "label": report.period.label},
        "currency": cur,
        "cohorts": [{"id": c.id, "name": c.name, "organisation": report.orgs[c.org_id].slug} for c in report.cohorts],
        "headline": {k: _money(k, v, cur) for k, v in report.headline.items()},
        "months": report.months,
        "trend": {k: [_money(k, v, cur) for v in values] for k, values in report.trend.items()},
        "funnel": {"applications": report.funnel.applications, "reviewed": report.funnel.reviewed,
                   "accepted": report.funnel.accepted, "acceptance_rate": report.funnel.acceptance_rate,
                   "by_origin": report.funnel.by_origin},
        "mentoring": {"sessions": report.mentoring.sessions, "hours": report.mentoring.hours,
                      "average_rating": report.mentoring.average_rating},
        "lab": [{"kind": k.kind, "bookings": k.bookings, "hours": round(k.minutes / 60, 2),
                 "credit_hours": round(k.credit_minutes / 60, 2), "paid_hours": round(k.paid_minutes / 60, 2),
                 "paid_amount": float(to_major(k.paid_amount, cur)),
                 "in_kind_value": float(to_major(k.in_kind_value, cur))} for k in report.lab],
        "milestones": {"total": report.milestones.total, "done": report.milestones.done,
                       "missed": report.milestones.missed, "overdue": report.milestones.overdue,
                       "completion_rate": report.milestones.completion_rate},
        "startups": [{"id": s.startup_id, "name": s.name, "organisation": s.org_name,
                      "registration_number": s.registration_number, "status": s.status,
                      "st_enterprise": s.st_enterprise, "kpis": {k: _money(k, v, cur) for k, v in s.kpis.items()},
                      "mentoring_hours": round(s.mentoring_minutes / 60, 2), "lab_hours": round(s.lab_minutes / 60, 2),
                      "milestones_done": s.milestones_done, "milestones_total": s.milestones_total,
                      "lab_paid": float(to_major(s.lab_paid, cur)), "startup_ids": s.startup_ids,
                      "sources": s.sources}
                     for s in report.startups],
        "comparison": [{k: (_money(k, v, cur) if isinstance(v, int) and not isinstance(v, bool) else v)
                        for k, v in line.items()} for line in report.comparison],
        "targets": [{"metric": t["metric"], "target": _money(t["metric"], t["target"], cur),
                     "actual": _money(t["metric"], t["actual"], cur), "ratio": t["ratio"]} for t in report.targets],
    }


@bp.route("/cohorts/<int:cohort_id>/report")
@error_responses(bp, NOT_FOUND, BAD_PERIOD)
@reportable_cohort
@bp.arguments(ReportQuery, location="query")
@bp.response(200, ReportOut)
def cohort_report(query: dict[str, Any], cohort_id: int) -> Any:
    """The cohort's report: headline figures, trends, funnel, mentoring, lab use, milestones, startups."""
    req = _request(query, "json")
    return as_json(services.report_for(db.session, req, to_local(utcnow(), g.org.timezone).date()))


def _file(query: dict[str, Any], fmt: str) -> Any:
    req = _request(query, fmt)
    key = services.cache_key(db.session, req)
    export = services.find_ready(db.session, g.org, key) or services.generate_now(
        db.session, req, key, g.api_user.id, to_local(utcnow(), g.org.timezone).date())
    return storage().send(services.stored_file(export), mimetype=services.FORMATS[fmt], as_attachment=True,
                          download_name=export.filename, max_age=0)


def _file_doc(media_type: str, what: str) -> dict[str, Any]:
    return {"responses": {"200": {"description": what,
                                  "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}}}


@bp.route("/cohorts/<int:cohort_id>/report.csv")
@bp.doc(**_file_doc("text/csv", "One row per startup and month"))
@error_responses(bp, NOT_FOUND, BAD_PERIOD)
@reportable_cohort
@bp.arguments(ReportQuery, location="query")
def cohort_report_csv(query: dict[str, Any], cohort_id: int) -> Any:
    """The report as CSV."""
    return _file(query, "csv")


@bp.route("/cohorts/<int:cohort_id>/report.xlsx")
@bp.doc(**_file_doc(services.FORMATS["xlsx"], "Summary, startups, KPI series, mentoring, lab use, applications"))
@error_responses(bp, NOT_FOUND, BAD_PERIOD)
@reportable_cohort
@bp.arguments(ReportQuery, location="query")
def cohort_report_xlsx(query: dict[str, Any], cohort_id: int) -> Any:
    """The report as an Excel workbook."""
    return _file(query, "xlsx")


@bp.route("/cohorts/<int:cohort_id>/report.pdf")
@bp.doc(**_file_doc("application/pdf", "The printable report"))
@error_responses(bp, NOT_FOUND, BAD_PERIOD)
@reportable_cohort
@bp.arguments(ReportQuery, location="query")
def cohort_report_pdf(query: dict[str, Any], cohort_id: int) -> Any:
    """The report as PDF."""
    return _file(query, "pdf")


# -- targets (the /o/<org>/reports/targets page) ---------------------------------------------------------

class TargetsQuery(Schema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100),
                          metadata={"description": "Default: this year in the organisation's time zone"})


class TargetsBody(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    targets = fields.Dict(keys=fields.String(validate=validate.OneOf(TARGET_METRICS)),
                          values=fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(min=0)),
                          required=True, metadata={
                              "description": "Metric -> target. Money in major units of `currency`, counts whole; "
                                             "a metric left out (or null) has no target"})


class TargetsOut(Schema):
    year = fields.Integer(required=True)
    currency = fields.String(required=True)
    targets = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


def _targets_out(year: int) -> dict[str, Any]:
    currency = g.org.currency
    stored = services.targets_for(db.session, g.org, year)
    return {"year": year, "currency": currency,
            "targets": {m: float(to_major(v, currency)) if m in MONEY else v for m, v in stored.items()}}


@bp.route("/reports/targets")
@require(Permission.MANAGE_ORG)
@bp.arguments(TargetsQuery, location="query")
@bp.response(200, TargetsOut)
@error_responses(bp, NOT_FOUND, (403, "Only those who manage the organisation set targets"))
def get_targets(query: dict[str, Any]) -> Any:
    return _targets_out(query["year"] or org_today().year)


@bp.route("/reports/targets", methods=["PUT"])
@require(Permission.MANAGE_ORG)
@bp.arguments(TargetsBody)
@bp.response(200, TargetsOut)
@error_responses(bp, NOT_FOUND, (403, "Only those who manage the organisation set targets"),
                 (422, "A target is invalid: `fields` says which"))
def put_targets(data: dict[str, Any]) -> Any:
    """Replace the year's targets: the ones left out are removed (as emptied fields on the page)."""
    currency = g.org.currency
    values: dict[str, int | None] = dict.fromkeys(TARGET_METRICS)
    problems: dict[str, str] = {}
    for metric, value in data["targets"].items():
        if value is None:
            continue
        try:
            values[metric] = to_minor(value, currency) if metric in MONEY else _whole(value)
        except ValueError:
            problems[metric] = ("More decimals than the currency has." if metric in MONEY
                                else "A whole number.")
    if problems:
        raise DomainError("Please correct the highlighted fields.", fields=problems)
    services.save_targets(db.session, g.org, data["year"], values)
    return _targets_out(data["year"])


def _whole(value: Any) -> int:
    if value != int(value):
        raise ValueError(value)
    return int(value)


# -- the logo printed on the reports ----------------------------------------------------------------

class LogoIn(Schema):
    class Meta:
        unknown = EXCLUDE

    logo = Upload(required=True, metadata={"description": "A PNG or JPEG image of at most 1 MB (multipart/form-data)"})


class LogoOut(Schema):
    url = fields.String(required=True, metadata={"description": "Where the API serves the logo"})


@bp.route("/reports/logo", methods=["PUT"])
@require(Permission.MANAGE_ORG)
@bp.arguments(LogoIn, location="files")
@bp.response(200, LogoOut)
@error_responses(bp, NOT_FOUND, (403, "Only those who manage the organisation set the logo"),
                 (413, "Larger than the upload limit"), (422, "Not a PNG or JPEG image, or over 1 MB (`fields.logo`)"))
def put_logo(files: dict[str, Any]) -> Any:
    """Replace the logo printed on the organisation's reports, with the page's checks (by content)."""
    services.save_logo(db.session, g.org, files["logo"])
    return {"url": url_for("api_reporting.get_logo", org=g.org.slug, _external=True)}


@bp.route("/reports/logo")
@require(Permission.VIEW_DASHBOARD)  # it also heads the organisation's pages, for every member
@bp.doc(responses={"200": {"description": "The logo (PNG or JPEG)", "content": dict.fromkeys(
    ("image/png", "image/jpeg"), {"schema": {"type": "string", "format": "binary"}})}})
@error_responses(bp, NOT_FOUND, (403, "A token whose scopes do not cover it (`insufficient_scope`)"))
def get_logo() -> Any:
    """The organisation's logo, printed on its reports and shown atop its pages to every member; 404 when
    none is set."""
    record = services.branding(db.session, g.org)
    if record is None or not record.logo_key:
        abort(404)
    return storage().send(record.logo_key, mimetype=image_mimetype(record.logo_key), max_age=300)
