"""The report page (funder portal), its downloads, the progress of large ones, and targets."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from incubator.cohorts.models import Enrolment
from incubator.core import formatting
from incubator.core.actions import attempt
from incubator.core.money import exponent
from incubator.core.pagination import MAX_PAGE, Page
from incubator.core.permissions import Permission, Role, can, require
from incubator.core.storage import storage
from incubator.core.tenancy import all_orgs, get_or_404, org_blueprint, org_today
from incubator.extensions import db
from incubator.orgs.panels import PANEL_PROVIDERS
from incubator.reporting import labels, services, tasks
from incubator.reporting.forms import LogoForm, TargetsForm
from incubator.reporting.labels import label
from incubator.reporting.models import ExportStatus, ReportExport
from incubator.reporting.scope import PeriodError, int_arg, narrow, parse_period, reportable_cohorts

bp = org_blueprint("reporting", __name__, "/reports")
# Startups a page of the report's table; the figures above it, and the downloads, cover them all.
STARTUPS_PAGE = 25


def _selection() -> tuple[list[Any], list[Any], dict[str, Any]]:
    """All reportable cohorts, the chosen ones (404 if a filter names one the member may not see), filters."""
    cohorts = reportable_cohorts(db.session, g.org, g.membership)
    filters = {"programme": int_arg(request.args.get("programme")), "cohort": int_arg(request.args.get("cohort"))}
    chosen = narrow(cohorts, programme_id=filters["programme"], cohort_id=filters["cohort"])
    if chosen is None:
        abort(404)
    return cohorts, chosen, filters


def _page(cohorts: list[Any], chosen: list[Any], filters: dict[str, Any], *, report: Any = None,
          period: Any = None, error: PeriodError | None = None, status: int = 200) -> Any:
    programmes = {c.programme_id: c.programme for c in cohorts}
    params = {k: v for k, v in request.args.items() if k in ("period", "year", "quarter", "start", "end",
                                                                "programme", "cohort")}
    chart = startups = None
    if report is not None:
        number = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE // STARTUPS_PAGE)
        startups = Page(items=report.startups[(number - 1) * STARTUPS_PAGE:number * STARTUPS_PAGE], page=number,
                        per_page=STARTUPS_PAGE, total=len(report.startups))
        scale = 10 ** exponent(report.currency)
        chart = {"periods": report.months, "period_labels": formatting.months(report.months),
                 "series": {n: [v / scale if n in ("revenue", "funding_equity", "funding_debt", "funding_grant")
                                else v for v in report.trend[n]]
                            for n in ("revenue", "jobs_created", "funding_equity", "funding_debt", "funding_grant")},
                 "mentoring": [round(report.mentoring.by_month.get(m, [0, 0])[1] / 60, 1) for m in report.months]}
    return render_template(
        "reporting/index.html", report=report, period=period, error=error, cohorts=cohorts, chosen=chosen,
        programmes=sorted(programmes.values(), key=lambda p: p.name), filters=filters, params=params, chart=chart,
        startups=startups,
        labels={n: label(n) for n in ("revenue", "jobs_created", "funding_equity", "funding_debt", "funding_grant",
                                      "mentoring_hours")},
        can_target=can(Permission.MANAGE_ORG), args=request.args, L=labels,
        has_logo=services.branding(db.session, g.org) is not None), status


@bp.route("")
@require(Permission.VIEW_REPORTS)
def index() -> Any:
    cohorts, chosen, filters = _selection()
    try:
        period = parse_period(request.args, org_today())
    except PeriodError as error:
        return _page(cohorts, chosen, filters, error=error, status=422)
    # The page shows no month by month figures of a startup: they are added up in the database.
    report = services.report_for(db.session, _request(chosen, period, "html"), org_today(),
                                 by_month=False) if chosen else None
    return _page(cohorts, chosen, filters, report=report, period=period)


def _request(chosen: list[Any], period: Any, fmt: str) -> services.Request:
    lang = request.args.get("lang") or str(get_locale() or "en")
    return services.Request(viewer=g.org, cohorts=chosen, period=period, fmt=fmt,
                            locale=lang if lang in services.LOCALES else "en")


def _is_large(chosen: list[Any]) -> bool:
    with all_orgs(db.session):  # the cohorts were access-checked by reporting.scope; a funder's spans organisations
        startups = db.session.execute(select(func.count()).select_from(Enrolment).where(
            Enrolment.cohort_id.in_([c.id for c in chosen] or [-1]))).scalar_one()
    return startups >= current_app.config["REPORT_JOB_MIN_STARTUPS"]


def send_export(export: ReportExport) -> Any:
    return storage().send(services.stored_file(export), mimetype=services.FORMATS[export.format],
                          as_attachment=True, download_name=export.filename, max_age=0)


@bp.route("/download.csv", defaults={"fmt": "csv"})
@bp.route("/download.xlsx", defaults={"fmt": "xlsx"})
@bp.route("/download.pdf", defaults={"fmt": "pdf"})
@require(Permission.VIEW_REPORTS)
def download(fmt: str) -> Any:
    cohorts, chosen, filters = _selection()
    try:
        period = parse_period(request.args, org_today())
    except PeriodError as error:
        return _page(cohorts, chosen, filters, error=error, status=422)
    if not chosen:
        abort(404)
    req = _request(chosen, period, fmt)
    key = services.cache_key(db.session, req)
    ready = services.find_ready(db.session, g.org, key)
    if ready is not None:
        return send_export(ready)
    if fmt != "csv" and _is_large(chosen):
        export = services.find_pending(db.session, g.org, key)
        if export is None:
            export = services.new_export(db.session, req, key, current_user.id)
            tasks.queue_after_commit(db.session, export.id)
        return redirect(url_for("reporting.export", report_export_id=export.id))
    return send_export(services.generate_now(db.session, req, key, current_user.id, org_today()))


def _visible_export(report_export_id: int) -> ReportExport:
    export = get_or_404(ReportExport, report_export_id)
    visible = {c.id for c in reportable_cohorts(db.session, g.org, g.membership)}
    if not set(export.params.get("cohort_ids", [])) <= visible:
        abort(404)
    return export


@bp.route("/exports/<int:report_export_id>")
@require(Permission.VIEW_REPORTS)
def export(report_export_id: int) -> Any:
    return render_template("reporting/export.html", export=_visible_export(report_export_id))


@bp.route("/exports/<int:report_export_id>/status")
@require(Permission.VIEW_REPORTS)
def export_status(report_export_id: int) -> Any:
    export = _visible_export(report_export_id)
    return jsonify({"status": export.status, "progress": export.progress,
                    "file": url_for("reporting.export_file", report_export_id=export.id)
                    if export.status == ExportStatus.READY else None})


@bp.route("/exports/<int:report_export_id>/file")
@require(Permission.VIEW_REPORTS)
def export_file(report_export_id: int) -> Any:
    export = _visible_export(report_export_id)
    if export.status != ExportStatus.READY:
        return redirect(url_for("reporting.export", report_export_id=export.id))
    return send_export(export)


@bp.route("/targets", methods=["GET", "POST"])
@require(Permission.MANAGE_ORG)
def targets() -> Any:
    year = int_arg(request.values.get("year")) or org_today().year
    if not 2000 <= year <= 2100:
        abort(404)
    form = TargetsForm.build(g.org.currency, year,
                             services.targets_for(db.session, g.org, year) if request.method == "GET" else None)
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            services.save_targets(db.session, g.org, form.year.data, form.values(g.org.currency))
        if outcome.ok:
            flash(_("The targets are saved."), "success")
            return redirect(url_for("reporting.index", period="year", year=form.year.data))
    return _settings_page(form, LogoForm(formdata=None), year, 422 if form.errors else 200)


def _settings_page(form: TargetsForm, logo_form: LogoForm, year: int, status: int) -> Any:
    return render_template("reporting/targets.html", form=form, logo_form=logo_form, year=year,
                           has_logo=services.logo_data_uri(db.session, g.org) is not None), status


@bp.route("/logo", methods=["POST"])
@require(Permission.MANAGE_ORG)
def upload_logo() -> Any:
    logo_form = LogoForm()
    year = org_today().year
    if logo_form.validate_on_submit():
        with attempt(form=logo_form) as outcome:
            services.save_logo(db.session, g.org, logo_form.logo.data)
        if outcome.ok:
            flash(_("The logo is saved."), "success")
            return redirect(url_for("reporting.targets"))
    form = TargetsForm.build(g.org.currency, year, services.targets_for(db.session, g.org, year))
    return _settings_page(form, logo_form, year, 422)


@bp.route("/logo")
@require(Permission.VIEW_DASHBOARD)  # the logo printed on reports also heads the organisation's pages, for every member
def logo() -> Any:
    from incubator.core.storage import image_mimetype

    record = services.branding(db.session, g.org)
    if record is None or not record.logo_key:
        abort(404)
    return storage().send(record.logo_key, mimetype=image_mimetype(record.logo_key), max_age=300)


@bp.app_context_processor
def _branding_globals() -> dict[str, Any]:
    return {"org_has_logo": org_has_logo}


def org_has_logo() -> bool:
    """Whether the page's organisation has a logo to show in its navigation (asked once per request)."""
    if g.get("org") is None or g.get("membership") is None:
        return False
    if "org_has_logo" not in g:
        record = services.branding(db.session, g.org)
        g.org_has_logo = record is not None and bool(record.logo_key)
    return bool(g.org_has_logo)


def dashboard_panels(session: Any, org: Any, membership: Any) -> dict[str, Any]:
    """A funder's dashboard lists the cohorts it can report on, across organisations."""
    if membership.role != Role.FUNDER:
        return {}
    return {"report_cohorts": reportable_cohorts(session, org, membership)}


PANEL_PROVIDERS.append(dashboard_panels)
