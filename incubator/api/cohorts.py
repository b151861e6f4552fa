"""Cohorts over the API: programmes, cohorts, enrolments, milestone templates, custom KPIs.

Startups, their founders, milestones and check-ins are in ``incubator.api.cohorts_startups`` (same
blueprint). Every operation calls the same service as its page, and the same rule from
``incubator.cohorts.access``: a permission declared with ``@require`` (403 without it), rows the
caller may not see answer 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, cast

from flask import g, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select

from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.cohorts import access, checkins, progress, services
from incubator.cohorts.access import visible_cohort_or_404
from incubator.cohorts.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Frequency,
    KpiDefinition,
    KpiType,
    MilestoneTemplate,
    Programme,
    ProgrammeKind,
    ResourceKind,
    Stage,
    Startup,
)
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404
from incubator.core.timezones import to_local
from incubator.extensions import db

bp = api_blueprint("api_cohorts", __name__, org=True, description="Cohorts, startups, check-ins, milestones")

NOT_FOUND = (404, "Not found, or not visible to the caller")
FORBIDDEN = (403, "The caller's role does not allow this")
INVALID = (422, "Invalid fields; `fields` names them")
MAX_INT = 2**31 - 1


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


# -- shared fields ---------------------------------------------------------------------------------

def no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError("Must not contain NUL characters.")


def text(limit: int, **kwargs: Any) -> fields.String:
    """A string of at most ``limit`` characters without NUL (PostgreSQL refuses them)."""
    return fields.String(validate=[validate.Length(max=limit), no_nul], **kwargs)


def count(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_INT), **kwargs)


def ident(**kwargs: Any) -> fields.Integer:
    """A row id (in a query string too, hence not ``strict``)."""
    return fields.Integer(validate=validate.Range(min=1, max=MAX_INT), **kwargs)


def one_of(enum: Any, **kwargs: Any) -> fields.String:
    values = [item.value for item in enum]
    metadata = {"enum": values, **kwargs.pop("metadata", {})}
    return fields.String(validate=validate.OneOf(values), metadata=metadata, **kwargs)


PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Period(fields.Field):
    """A month ``YYYY-MM``, loaded as its first day."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> date:
        match = PERIOD_RE.match(value) if isinstance(value, str) else None
        if not match:
            raise ValidationError("Use the form YYYY-MM.")
        return date(int(match.group(1)), int(match.group(2)), 1)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        return value.strftime("%Y-%m") if value else None


def resolved(param: str, loader: Callable[[int], Any]) -> Callable[[Any], Any]:
    """Load the row named in the path (404 if the caller may not see it) before the body is even
    parsed, so that another organisation's id answers 404 and never 422."""

    def decorator(view: Any) -> Any:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            loader(kwargs[param])
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _programme_or_404(programme_id: int) -> Programme:
    return get_or_404(Programme, programme_id)


def _enrolment_or_404(enrolment_id: int) -> Enrolment:
    return get_or_404(Enrolment, enrolment_id)


def _kpi_or_404(kpi_definition_id: int) -> KpiDefinition:
    return get_or_404(KpiDefinition, kpi_definition_id)


def _today() -> date:
    return to_local(utcnow(), g.org.timezone).date()


def location(endpoint: str, **values: Any) -> dict[str, str]:
    return {"Location": url_for(f"api_cohorts.{endpoint}", org=g.org.slug, **values)}


def scoped(model: Any, row_id: int | None, field: str) -> Any:
    """A row of this organisation named in a request body, or a 422 naming the field."""
    if row_id is None:
        return None
    row = db.session.execute(select(model).where(model.id == row_id, model.org_id == g.org.id)).scalar_one_or_none()
    if row is None:
        raise DomainError("Not a valid choice.", fields={field: "Not a valid choice."})
    return row


# -- schemas ---------------------------------------------------------------------------------------

class ProgrammeIn(Schema):
    class Meta:
        unknown = EXCLUDE

    name = text(255, required=True)
    kind = one_of(ProgrammeKind, load_default=ProgrammeKind.INCUBATION.value)
    description = text(5000, load_default="")


class ProgrammePatch(Schema):
    class Meta:
        unknown = EXCLUDE

    name = text(255)
    kind = one_of(ProgrammeKind)
    description = text(5000)


class ProgrammeOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)


class CohortOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    programme = fields.String(required=True)
    programme_id = fields.Integer(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    capacity = fields.Integer(allow_none=True)
    checkin_frequency = fields.String(required=True)
    mentoring_hours_per_startup = fields.Integer(required=True)
    lab_credit_hours = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    funders = fields.List(fields.String(), required=True)
    funder_user_ids = fields.List(fields.Integer(), required=True)
    funder_org_ids = fields.List(fields.Integer(), required=True)


class CohortPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    programme_id = ident()
    name = text(255)
    starts_on = fields.Date()
    ends_on = fields.Date()
    capacity = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1, max=MAX_INT),
                              metadata={"description": "How many startups at most; null for no limit"})
    checkin_frequency = one_of(Frequency)
    mentoring_hours_per_startup = count()
    lab_credit_hours = fields.Dict(keys=fields.String(validate=validate.OneOf([k.value for k in ResourceKind])),
                                   values=count(), metadata={"description": "Hours per resource kind"})
    funder_user_ids = fields.List(ident(), metadata={"description": "Members with the funder role"})
    funder_org_ids = fields.List(ident(), metadata={"description": "Funding organisations"})


class CohortIn(CohortPatch):
    programme_id = ident(required=True)
    name = text(255, required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)


class CohortsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    programme = ident(metadata={"description": "Only this programme's cohorts"})
    status = fields.String(validate=validate.OneOf(access.COHORT_STATUSES),
                           metadata={"enum": list(access.COHORT_STATUSES),
                                     "description": "upcoming, running or ended, by the cohort's dates"})


class CohortStartupsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = text(100, metadata={"description": "Text in the startup's name"})
    stage = one_of(Stage)
    status = one_of(EnrolmentStatus, metadata={"description": "Enrolment status in this cohort"})


class StartupOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    legal_name = fields.String(allow_none=True)
    registration_number = fields.String(allow_none=True)
    sector = fields.String(required=True)
    stage = fields.String(required=True)
    origin = fields.String(required=True)
    is_st_enterprise = fields.Boolean(required=True)
    status = fields.String(metadata={"description": "Enrolment status in the cohort, when listed by cohort"})
    enrolment_id = fields.Integer(metadata={"description": "The enrolment, when listed by cohort"})


class LockIn(Schema):
    class Meta:
        unknown = EXCLUDE

    period = Period(required=True, metadata={"type": "string", "description": "YYYY-MM", "example": "2026-03"})


class CountOut(Schema):
    count = fields.Integer(required=True, metadata={"description": "How many rows the action changed"})


class EnrolIn(Schema):
    class Meta:
        unknown = EXCLUDE

    startup_id = ident(required=True)
    enrolled_on = fields.Date(load_default=None, metadata={"description": "Today when left out"})


class EnrolmentPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    status = one_of(EnrolmentStatus, required=True)
    reason = text(500, load_default=None, allow_none=True,
                  metadata={"description": "Required when withdrawing"})


class EnrolmentOut(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    startup_id = fields.Integer(required=True)
    status = fields.String(required=True)
    enrolled_on = fields.Date(required=True)
    status_changed_on = fields.Date(allow_none=True)
    status_reason = fields.String(allow_none=True)


class TemplateIn(Schema):
    class Meta:
        unknown = EXCLUDE

    title = text(255, required=True)
    due_on = fields.Date(required=True)


class TemplateOut(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    title = fields.String(required=True)
    due_on = fields.Date(required=True)
    added = fields.Integer(metadata={"description": "Startups that got the milestone (on create)"})


class KpiIn(Schema):
    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True, validate=[validate.Length(max=40), validate.Regexp(r"^[a-z][a-z0-9_]*$")],
                        metadata={"description": "Lowercase letters, digits and underscores, e.g. export_markets"})
    name = text(120, required=True)
    unit = text(40, load_default="")
    type = one_of(KpiType, load_default=KpiType.INTEGER.value)


class KpiPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    active = fields.Boolean(required=True, metadata={"description": "Whether startups are asked for it"})


class KpiOut(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    name = fields.String(required=True)
    unit = fields.String(required=True)
    type = fields.String(required=True)
    active = fields.Boolean(required=True)


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


def startup_out(startup: Startup, enrolment: Enrolment | None = None) -> dict[str, Any]:
    out = {name: getattr(startup, name) for name in ("id", "name", "legal_name", "registration_number", "sector",
                                                     "is_st_enterprise")}
    out.update(stage=str(startup.stage), origin=str(startup.origin))
    if enrolment is not None:
        out.update(status=str(enrolment.status), enrolment_id=enrolment.id)
    return out


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


from incubator.api import cohorts_startups  # noqa: E402, F401  (its operations join this blueprint)
