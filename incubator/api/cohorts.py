"""Cohorts over the API: programmes, cohorts, enrolments, milestone templates, custom KPIs.

This module is the ``api_cohorts`` blueprint that ``incubator.api.init_app`` registers: the blueprint itself
and what the operations share are in ``cohorts_common``, shared fields and schemas in ``cohorts_schemas``;
importing this module registers the operations of ``cohorts_startups`` (startups, founders),
``cohorts_checkins`` and ``cohorts_milestones`` too. Every operation calls the same service as its page,
and the same rule from ``incubator.cohorts.access``: a permission declared with ``@require`` (403 without
it), rows the caller may not see answer 404.
"""

from __future__ import annotations

from typing import Any, cast

from flask import g
from sqlalchemy import select

from incubator.api import cohorts_checkins, cohorts_milestones, cohorts_startups  # noqa: F401  (their operations join this blueprint)
from incubator.api.cohorts_common import (
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    _enrolment_or_404,
    _kpi_or_404,
    _programme_or_404,
    _today,
    bp,
    errors,
    location,
    resolved,
    scoped,
)
from incubator.api.cohorts_schemas import (
    CohortIn,
    CohortOut,
    CohortPatch,
    CohortsQuery,
    CohortStartupsQuery,
    CountOut,
    EnrolIn,
    EnrolmentOut,
    EnrolmentPatch,
    KpiIn,
    KpiOut,
    KpiPatch,
    LockIn,
    ProgrammeIn,
    ProgrammeOut,
    ProgrammePatch,
    StartupOut,
    TemplateIn,
    TemplateOut,
    startup_out,
)
from incubator.api.paging import api_page
from incubator.cohorts import access, checkins, progress, services
from incubator.cohorts.access import visible_cohort_or_404
from incubator.cohorts.models import Cohort, Enrolment, Frequency, KpiDefinition, MilestoneTemplate, Programme, Startup
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404
from incubator.extensions import db


def _programme_out(programme: Programme) -> dict[str, Any]:
    return {"id": programme.id, "name": programme.name, "kind": str(programme.kind),
            "description": programme.description or ""}


def cohort_out(cohort: Cohort) -> dict[str, Any]:
    return {"id": cohort.id, "name": cohort.name, "programme": cohort.programme.name,
            "programme_id": cohort.programme_id, "starts_on": cohort.starts_on, "ends_on": cohort.ends_on,
            "capacity": cohort.capacity, "checkin_frequency": str(cohort.checkin_frequency),
            "mentoring_hours_per_startup": cohort.mentoring_hours_per_startup,
            "lab_credit_hours": {str(c.resource_kind): c.hours for c in cohort.lab_credits},
            "funders": [f.user.name if f.user else f.funder_org.name if f.funder_org else "" for f in cohort.funders],
            "funder_user_ids": [f.user_id for f in cohort.funders if f.user_id],
            "funder_org_ids": [f.funder_org_id for f in cohort.funders if f.funder_org_id]}


def _enrolment_out(enrolment: Enrolment) -> dict[str, Any]:
    return {"id": enrolment.id, "cohort_id": enrolment.cohort_id, "startup_id": enrolment.startup_id,
            "status": str(enrolment.status), "enrolled_on": enrolment.enrolled_on,
            "status_changed_on": enrolment.status_changed_on, "status_reason": enrolment.status_reason}


def _kpi_out(kpi: KpiDefinition) -> dict[str, Any]:
    return {"id": kpi.id, "key": kpi.key, "name": kpi.name, "unit": kpi.unit or "", "type": str(kpi.type),
            "active": kpi.active}


# -- programmes ------------------------------------------------------------------------------------

@bp.route("/programmes")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, ProgrammeOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def list_programmes(pagination_parameters: Any) -> Any:
    stmt = select(Programme).where(Programme.org_id == g.org.id).order_by(Programme.name, Programme.id)
    return [_programme_out(p) for p in api_page(stmt, pagination_parameters)]


@bp.route("/programmes", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@bp.arguments(ProgrammeIn)
@bp.response(201, ProgrammeOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def create_programme(data: dict[str, Any]) -> Any:
    programme = services.create_programme(db.session, g.org, name=data["name"], kind=data["kind"],
                                           description=data["description"])
    return _programme_out(programme), 201, location("get_programme", programme_id=programme.id)


@bp.route("/programmes/<int:programme_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, ProgrammeOut)
@errors(FORBIDDEN, NOT_FOUND)
def get_programme(programme_id: int) -> Any:
    return _programme_out(get_or_404(Programme, programme_id))


@bp.route("/programmes/<int:programme_id>", methods=["PATCH"])
@require(Permission.MANAGE_COHORTS)
@resolved("programme_id", _programme_or_404)
@bp.arguments(ProgrammePatch)
@bp.response(200, ProgrammeOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def update_programme(data: dict[str, Any], programme_id: int) -> Any:
    programme = get_or_404(Programme, programme_id)
    return _programme_out(services.update_programme(db.session, programme, **data))


# -- cohorts ---------------------------------------------------------------------------------------

@bp.route("/cohorts")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(CohortsQuery, location="query")
@bp.response(200, CohortOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def list_cohorts(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """Cohorts the caller may see: all for staff, the funded ones for funders, their own for founders."""
    stmt = access.filter_cohorts(services.visible_cohorts_stmt(g.org, g.membership), _today(),
                                 programme_id=query.get("programme"), status=query.get("status"))
    stmt = stmt.order_by(Cohort.starts_on.desc(), Cohort.id.desc())
    return [cohort_out(c) for c in api_page(stmt, pagination_parameters)]


def _save_cohort(cohort: Cohort | None, data: dict[str, Any]) -> Cohort:
    """Create, or change the fields given (PATCH); the rest keep their values."""
    def value(name: str, current: Any) -> Any:
        return data.get(name, current)

    # CohortIn requires programme_id, so only a PATCH (with its cohort) leaves it out.
    programme: Programme = scoped(Programme, data.get("programme_id"), "programme_id") or cast(Cohort, cohort).programme
    credits = {str(c.resource_kind): c.hours for c in cohort.lab_credits} if cohort else {}
    saved = services.save_cohort(
        db.session, g.org, cohort, programme=programme, name=value("name", cohort.name if cohort else ""),
        starts_on=value("starts_on", cohort.starts_on if cohort else None),
        ends_on=value("ends_on", cohort.ends_on if cohort else None),
        capacity=value("capacity", cohort.capacity if cohort else None),
        checkin_frequency=value("checkin_frequency", cohort.checkin_frequency if cohort else Frequency.MONTHLY),
        mentoring_hours_per_startup=value("mentoring_hours_per_startup",
                                          cohort.mentoring_hours_per_startup if cohort else 0),
        lab_credits=value("lab_credit_hours", credits))
    if cohort is None or "funder_user_ids" in data or "funder_org_ids" in data:
        services.set_funders(
            db.session, g.org, saved,
            user_ids=value("funder_user_ids", [f.user_id for f in saved.funders if f.user_id]),
            org_ids=value("funder_org_ids", [f.funder_org_id for f in saved.funders if f.funder_org_id]))
    return saved


@bp.route("/cohorts", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@bp.arguments(CohortIn)
@bp.response(201, CohortOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def create_cohort(data: dict[str, Any]) -> Any:
    cohort = _save_cohort(None, data)
    return cohort_out(cohort), 201, location("get_cohort", cohort_id=cohort.id)


@bp.route("/cohorts/<int:cohort_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, CohortOut)
@errors(FORBIDDEN, NOT_FOUND)
def get_cohort(cohort_id: int) -> Any:
    return cohort_out(visible_cohort_or_404(cohort_id))


@bp.route("/cohorts/<int:cohort_id>", methods=["PATCH"])
@require(Permission.MANAGE_COHORTS)
@resolved("cohort_id", visible_cohort_or_404)
@bp.arguments(CohortPatch)
@bp.response(200, CohortOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def update_cohort(data: dict[str, Any], cohort_id: int) -> Any:
    return cohort_out(_save_cohort(visible_cohort_or_404(cohort_id), data))


@bp.route("/cohorts/<int:cohort_id>/lock", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@resolved("cohort_id", visible_cohort_or_404)
@bp.arguments(LockIn)
@bp.response(200, CountOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def lock_period(data: dict[str, Any], cohort_id: int) -> Any:
    """Verify and lock every check-in of the cohort's startups for a period."""
    cohort = visible_cohort_or_404(cohort_id)
    return {"count": checkins.lock_period(db.session, cohort, data["period"], g.api_user)}


@bp.route("/cohorts/<int:cohort_id>/graduate", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@bp.response(200, CountOut)
@errors(FORBIDDEN, NOT_FOUND)
def graduate(cohort_id: int) -> Any:
    """Graduate every active startup of the cohort."""
    cohort = visible_cohort_or_404(cohort_id)
    return {"count": services.graduate_cohort(db.session, cohort, _today())}


@bp.route("/cohorts/<int:cohort_id>/startups")
@require(Permission.VIEW_DASHBOARD)
@resolved("cohort_id", visible_cohort_or_404)
@bp.arguments(CohortStartupsQuery, location="query")
@bp.response(200, StartupOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def cohort_startups(query: dict[str, Any], cohort_id: int, pagination_parameters: Any) -> Any:
    cohort = visible_cohort_or_404(cohort_id)
    stmt = select(Enrolment).join(Enrolment.startup).where(Enrolment.cohort_id == cohort.id)
    if query.get("status"):
        stmt = stmt.where(Enrolment.status == query["status"])
    stmt = access.filter_startups(stmt, q=query.get("q"), stage=query.get("stage"))
    return [startup_out(e.startup, e) for e in api_page(stmt.order_by(Startup.name, Startup.id),
                                                          pagination_parameters)]


# -- enrolments ------------------------------------------------------------------------------------

@bp.route("/cohorts/<int:cohort_id>/enrolments", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@resolved("cohort_id", visible_cohort_or_404)
@bp.arguments(EnrolIn)
@bp.response(201, EnrolmentOut)
@errors(FORBIDDEN, NOT_FOUND, (409, "Already in this cohort"), (422, "Unknown startup, or the cohort is full"))
def enrol(data: dict[str, Any], cohort_id: int) -> Any:
    cohort = visible_cohort_or_404(cohort_id)
    startup = scoped(Startup, data["startup_id"], "startup_id")
    enrolment = services.enrol(db.session, cohort, startup, data["enrolled_on"] or _today())
    return _enrolment_out(enrolment), 201, location("get_enrolment", enrolment_id=enrolment.id)


@bp.route("/enrolments/<int:enrolment_id>")
@require(Permission.MANAGE_COHORTS)
@bp.response(200, EnrolmentOut)
@errors(FORBIDDEN, NOT_FOUND)
def get_enrolment(enrolment_id: int) -> Any:
    return _enrolment_out(get_or_404(Enrolment, enrolment_id))


@bp.route("/enrolments/<int:enrolment_id>", methods=["PATCH"])
@require(Permission.MANAGE_COHORTS)
@resolved("enrolment_id", _enrolment_or_404)
@bp.arguments(EnrolmentPatch)
@bp.response(200, EnrolmentOut)
@errors(FORBIDDEN, NOT_FOUND, (422, "Not an allowed change of status, or no reason for a withdrawal"))
def change_enrolment(data: dict[str, Any], enrolment_id: int) -> Any:
    """Graduate, withdraw (with a reason), re-activate, or make a graduate alumni."""
    enrolment = get_or_404(Enrolment, enrolment_id)
    services.change_enrolment_status(enrolment, data["status"], _today(), data.get("reason"))
    db.session.flush()
    return _enrolment_out(enrolment)


# -- milestone templates ---------------------------------------------------------------------------

@bp.route("/cohorts/<int:cohort_id>/milestone-templates")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, TemplateOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def list_templates(cohort_id: int, pagination_parameters: Any) -> Any:
    """The cohort-wide milestones, for whoever may see the cohort (as its page shows them)."""
    cohort = visible_cohort_or_404(cohort_id)
    stmt = select(MilestoneTemplate).where(MilestoneTemplate.cohort_id == cohort.id).order_by(
        MilestoneTemplate.due_on, MilestoneTemplate.id)
    return [{"id": t.id, "cohort_id": t.cohort_id, "title": t.title, "due_on": t.due_on}
            for t in api_page(stmt, pagination_parameters)]


@bp.route("/cohorts/<int:cohort_id>/milestone-templates", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@resolved("cohort_id", visible_cohort_or_404)
@bp.arguments(TemplateIn)
@bp.response(201, TemplateOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def add_template(data: dict[str, Any], cohort_id: int) -> Any:
    """A milestone for every active startup of the cohort (``added`` says how many got it)."""
    cohort = visible_cohort_or_404(cohort_id)
    template, added = progress.add_template(db.session, cohort, data["title"], data["due_on"])
    return ({"id": template.id, "cohort_id": cohort.id, "title": template.title, "due_on": template.due_on,
             "added": added}, 201, location("list_templates", cohort_id=cohort.id))


# -- custom KPIs -----------------------------------------------------------------------------------

@bp.route("/kpis")
@require(Permission.MANAGE_COHORTS)
@bp.response(200, KpiOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def list_kpis(pagination_parameters: Any) -> Any:
    stmt = select(KpiDefinition).where(KpiDefinition.org_id == g.org.id).order_by(KpiDefinition.name,
                                                                                 KpiDefinition.id)
    return [_kpi_out(k) for k in api_page(stmt, pagination_parameters)]


@bp.route("/kpis", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@bp.arguments(KpiIn)
@bp.response(201, KpiOut)
@errors(FORBIDDEN, NOT_FOUND, (409, "The key is taken"), INVALID)
def create_kpi(data: dict[str, Any]) -> Any:
    kpi = progress.create_kpi(db.session, g.org, key=data["key"], name=data["name"], unit=data["unit"],
                              type=data["type"])
    return _kpi_out(kpi), 201, location("list_kpis")


@bp.route("/kpis/<int:kpi_definition_id>", methods=["PATCH"])
@require(Permission.MANAGE_COHORTS)
@resolved("kpi_definition_id", _kpi_or_404)
@bp.arguments(KpiPatch)
@bp.response(200, KpiOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def update_kpi(data: dict[str, Any], kpi_definition_id: int) -> Any:
    """Ask for a custom KPI again, or stop asking for it (the page's toggle)."""
    kpi = progress.set_kpi_active(get_or_404(KpiDefinition, kpi_definition_id), data["active"])
    db.session.flush()
    return _kpi_out(kpi)
