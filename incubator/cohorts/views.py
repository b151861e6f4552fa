"""Programmes and cohorts: list, create and edit, the cohort dashboard, enrolment, graduation."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from incubator.accounts.forms import CSRFOnlyForm
from incubator.cohorts import access, checkins, progress, services, tasks  # noqa: F401  (tasks: the worker's schedule)
from incubator.cohorts.access import visible_cohort_or_404
from incubator.cohorts.dashboard import chart_data, cohort_dashboard
from incubator.cohorts.forms import CohortForm, EnrolForm, LockPeriodForm, MilestoneForm, ProgrammeForm
from incubator.cohorts.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    KpiDefinition,
    MilestoneTemplate,
    Programme,
    ResourceKind,
    Stage,
    Startup,
)
from incubator.core.actions import attempt
from incubator.core.errors import DomainError
from incubator.core.money import exponent
from incubator.core.pagination import paginate
from incubator.core.permissions import Permission, Role, require
from incubator.core.tenancy import get_or_404, org_blueprint, org_today
from incubator.extensions import db
from incubator.orgs.models import Membership, Organisation

bp = org_blueprint("cohorts", __name__)

for _name, _predicate in access.TEMPLATE_GLOBALS.items():
    bp.add_app_template_global(_predicate, _name)

COHORT_TABLE_PAGE = 50  # startups a page on a cohort's dashboard (its totals and charts cover them all)


@bp.app_template_filter("enum_label")
def enum_label(value: str) -> str:
    return _enum_label(value, str(get_locale()))


@lru_cache(maxsize=1024)
def _enum_label(value: str, locale: str) -> str:
    """An enum value's label in ``locale`` (the current one), translated once per locale."""
    from incubator.cohorts.models import LABELS

    return str(LABELS.get(value, value))


@bp.app_template_filter("gap_label")
def gap_label(gap: checkins.Gap) -> str:
    texts = {
        "overdue_milestone": lambda: _("Overdue milestone: %(title)s", title=gap.detail),
        "missing_checkin": lambda: _("Missing check-in for %(period)s", period=gap.detail),
        "no_revenue": lambda: _("No revenue yet at this stage: go-to-market help"),
        "no_funding": lambda: _("No funding raised in the last year: fundraising help"),
        "no_ip": lambda: _("No intellectual property filed yet"),
    }
    return texts[gap.kind]()


def dashboard_panels(session: Any, org: Organisation, membership: Membership) -> dict[str, Any]:
    """What the organisation dashboard shows of cohorts, by role."""
    if not membership.has(Permission.VIEW_DASHBOARD):
        return {}
    cohorts = session.execute(services.visible_cohorts_stmt(org, membership)
                              .order_by(Cohort.starts_on.desc()).limit(5)).scalars().all()
    return {"cohorts": cohorts, "my_startups": services.startups_of(session, org, membership.user)}


from incubator.orgs.panels import PANEL_PROVIDERS  # noqa: E402

PANEL_PROVIDERS.append(dashboard_panels)


@bp.route("/cohorts")
@require(Permission.VIEW_DASHBOARD)
def index() -> Any:
    programme_id = request.args.get("programme", type=int)
    status = request.args.get("status") or None
    stmt = access.filter_cohorts(services.visible_cohorts_stmt(g.org, g.membership), org_today(),
                                 programme_id=programme_id, status=status)
    page = paginate(db.session, stmt.order_by(Cohort.starts_on.desc(), Cohort.id.desc()))
    programmes = db.session.execute(select(Programme).where(Programme.org_id == g.org.id)
                                    .order_by(Programme.name)).scalars().all()
    filters = {"programme": programme_id or "", "status": status or ""}
    return render_template("cohorts/index.html", cohorts=page.items, page=page, programmes=programmes,
                           filters=filters, statuses=access.COHORT_STATUSES)


@bp.route("/programmes/new", methods=["GET", "POST"], defaults={"programme_id": None})
@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_COHORTS)
def new_programme(programme_id: int | None) -> Any:
    programme = get_or_404(Programme, programme_id) if programme_id is not None else None
    form = ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            if programme is None:
                services.create_programme(db.session, g.org, name=form.name.data, kind=form.kind.data,
                                          description=form.description.data or "")
            else:
                services.update_programme(db.session, programme, name=form.name.data, kind=form.kind.data,
                                          description=form.description.data or "")
        if outcome.ok:
            flash(_("The programme is created.") if programme is None else _("The programme is saved."), "success")
            return redirect(url_for("cohorts.index"))
    title = _("Edit %(name)s", name=programme.name) if programme else _("New programme")
    return render_template("cohorts/form.html", form=form, title=title), 422 if form.errors else 200


def _cohort_form(cohort: Cohort | None) -> CohortForm:
    form = CohortForm(obj=cohort)
    form.programme_id.choices = [(p.id, p.name) for p in db.session.execute(
        select(Programme).where(Programme.org_id == g.org.id).order_by(Programme.name)).scalars()]
    form.funder_users.choices = [(m.user_id, m.user.name) for m in db.session.execute(
        select(Membership).where(Membership.org_id == g.org.id, Membership.role == Role.FUNDER)).scalars()]
    form.funder_orgs.choices = [(o.id, o.name) for o in db.session.execute(
        select(Organisation).where(Organisation.id != g.org.id).order_by(Organisation.name)).scalars()]
    if cohort is not None and request.method == "GET":
        for credit in cohort.lab_credits:
            getattr(form, f"lab_{credit.resource_kind}").data = credit.hours
        form.funder_users.data = [f.user_id for f in cohort.funders if f.user_id]
        form.funder_orgs.data = [f.funder_org_id for f in cohort.funders if f.funder_org_id]
    return form


@bp.route("/cohorts/new", methods=["GET", "POST"], defaults={"cohort_id": None})
@bp.route("/cohorts/<int:cohort_id>/edit", methods=["GET", "POST"])
@require(Permission.MANAGE_COHORTS)
def edit_cohort(cohort_id: int | None) -> Any:
    cohort = visible_cohort_or_404(cohort_id) if cohort_id is not None else None
    form = _cohort_form(cohort)
    if not form.programme_id.choices:
        flash(_("Create a programme first: every cohort belongs to one."), "info")
        return redirect(url_for("cohorts.new_programme"))
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            saved = services.save_cohort(
                db.session, g.org, cohort, programme=get_or_404(Programme, form.programme_id.data),
                name=form.name.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
                capacity=form.capacity.data, checkin_frequency=form.checkin_frequency.data,
                mentoring_hours_per_startup=form.mentoring_hours_per_startup.data or 0,
                lab_credits=form.lab_credits())
            services.set_funders(db.session, g.org, saved, user_ids=form.funder_users.data or [],
                                 org_ids=form.funder_orgs.data or [])
        if outcome.ok:
            flash(_("The cohort is saved."), "success")
            return redirect(url_for("cohorts.show", cohort_id=saved.id))
    title = _("Edit %(name)s", name=cohort.name) if cohort else _("New cohort")
    return render_template("cohorts/form.html", form=form, title=title), 422 if form.errors else 200


@bp.route("/cohorts/<int:cohort_id>")
@require(Permission.VIEW_DASHBOARD)
def show(cohort_id: int) -> Any:
    cohort = visible_cohort_or_404(cohort_id)
    status, stage, search = request.args.get("status"), request.args.get("stage"), request.args.get("q")
    today = org_today()
    dashboard = cohort_dashboard(db.session, cohort, today, status=status or None, stage=stage or None,
                                 search=search or None, page=max(1, request.args.get("page", 1, type=int) or 1),
                                 per_page=COHORT_TABLE_PAGE)
    manager = access.may_manage()
    # A startup's page is for managers and its founders: only those names are links (funders read the table).
    openable = access.openable_startup_ids()
    table = dashboard.table
    enrol_form = None
    if manager:
        enrol_form = EnrolForm(formdata=None, data={"enrolled_on": today})
        enrolled = select(Enrolment.startup_id).where(Enrolment.cohort_id == cohort.id)
        enrol_form.startup_id.choices = [(sid, name) for sid, name in db.session.execute(
            select(Startup.id, Startup.name).where(Startup.org_id == g.org.id, Startup.id.not_in(enrolled))
            .order_by(Startup.name))]
    return render_template(
        "cohorts/show.html", cohort=cohort, dashboard=dashboard, manager=manager, today=today,
        chart=chart_data(dashboard, exponent(g.org.currency)), statuses=list(EnrolmentStatus), stages=list(Stage),
        filters={"status": status or "", "stage": stage or "", "q": search or ""}, enrol_form=enrol_form,
        openable=openable, table=table,
        template_form=MilestoneForm(formdata=None), lock_form=LockPeriodForm(formdata=None),
        button_form=CSRFOnlyForm(formdata=None), resource_kinds=list(ResourceKind),
        templates=db.session.execute(select(MilestoneTemplate).where(MilestoneTemplate.cohort_id == cohort.id)
                                     .order_by(MilestoneTemplate.due_on)).scalars().all())


@bp.route("/cohorts/<int:cohort_id>/enrol", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
def enrol(cohort_id: int) -> Any:
    cohort = visible_cohort_or_404(cohort_id)
    form = EnrolForm()
    form.startup_id.choices = [(s.id, s.name) for s in db.session.execute(
        select(Startup).where(Startup.org_id == g.org.id)).scalars()]
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.enrol(db.session, cohort, get_or_404(Startup, form.startup_id.data), form.enrolled_on.data)
        if outcome.ok:
            flash(_("The startup is enrolled."), "success")
    else:
        flash(_("Choose a startup and a date."), "danger")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.route("/cohorts/<int:cohort_id>/graduate", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
def graduate(cohort_id: int) -> Any:
    cohort = visible_cohort_or_404(cohort_id)
    if CSRFOnlyForm().validate_on_submit():
        count = services.graduate_cohort(db.session, cohort, org_today())
        flash(_("%(n)d startups graduated.", n=count), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.route("/cohorts/<int:cohort_id>/milestone-templates", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
def add_template(cohort_id: int) -> Any:
    cohort = visible_cohort_or_404(cohort_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        _template, added = progress.add_template(db.session, cohort, form.title.data, form.due_on.data)
        flash(_("Milestone added to %(n)d startups.", n=added), "success")
    else:
        flash(_("Give the milestone a title and a due date."), "danger")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.route("/cohorts/<int:cohort_id>/lock", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
def lock_period(cohort_id: int) -> Any:
    cohort = visible_cohort_or_404(cohort_id)
    form = LockPeriodForm()
    with attempt(flash_error=True) as outcome:
        if not form.validate_on_submit():
            raise DomainError(_("Use the form YYYY-MM."))
        count = checkins.lock_period(db.session, cohort, checkins.parse_period(form.period.data), current_user)
    if outcome.ok:
        flash(_("%(n)d check-ins verified and locked.", n=count), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.route("/enrolments/<int:enrolment_id>/status", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
def enrolment_status(enrolment_id: int) -> Any:
    from incubator.cohorts.forms import EnrolmentStatusForm

    enrolment = get_or_404(Enrolment, enrolment_id)
    form = EnrolmentStatusForm()
    if form.validate_on_submit():
        with attempt(flash_error=True) as outcome:
            services.change_enrolment_status(enrolment, form.status.data, org_today(), form.reason.data)
        if outcome.ok:
            flash(_("%(name)s is now %(status)s.", name=enrolment.startup.name,
                    status=EnrolmentStatus(enrolment.status).label), "success")
    return redirect(request.referrer if _same_site(request.referrer) else
                    url_for("cohorts.show", cohort_id=enrolment.cohort_id))


def _same_site(url: str | None) -> bool:
    return url is not None and url.startswith(request.host_url)


@bp.route("/kpis", methods=["GET", "POST"])
@require(Permission.MANAGE_COHORTS)
def kpis() -> Any:
    """Custom KPIs the organisation asks its startups for, besides the standard ones."""
    from incubator.cohorts.forms import KpiForm

    form = KpiForm()
    if form.validate_on_submit():
        with attempt(form=form) as outcome:
            progress.create_kpi(db.session, g.org, key=form.key.data, name=form.name.data,
                                unit=form.unit.data or "", type=form.type.data)
        if outcome.ok:
            flash(_("The KPI is added: startups report it from their next check-in."), "success")
            return redirect(url_for("cohorts.kpis"))
    definitions = db.session.execute(select(KpiDefinition).where(KpiDefinition.org_id == g.org.id)
                                     .order_by(KpiDefinition.name)).scalars().all()
    return render_template("cohorts/kpis.html", form=form, definitions=definitions,
                           button_form=CSRFOnlyForm(formdata=None)), 422 if form.errors else 200


@bp.route("/kpis/<int:kpi_definition_id>/toggle", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
def toggle_kpi(kpi_definition_id: int) -> Any:
    definition = get_or_404(KpiDefinition, kpi_definition_id)
    if CSRFOnlyForm().validate_on_submit():
        progress.set_kpi_active(definition, not definition.active)
    return redirect(url_for("cohorts.kpis"))
