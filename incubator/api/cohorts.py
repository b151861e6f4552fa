"""Cohorts, startups, KPI check-ins and milestones over the API (the same services as the pages)."""

from __future__ import annotations

from datetime import date
from functools import wraps
from typing import Any

from flask import abort, g
from marshmallow import EXCLUDE, Schema, fields
from sqlalchemy import select

from incubator.api import api_blueprint, error_responses
from incubator.cohorts import checkins, services
from incubator.cohorts.models import (
    MONEY_KPIS,
    STANDARD_KPIS,
    CheckIn,
    Cohort,
    Enrolment,
    Milestone,
    MilestoneStatus,
    Startup,
)
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.money import to_major
from incubator.core.permissions import Permission
from incubator.core.tenancy import get_or_404
from incubator.core.timezones import to_local
from incubator.extensions import db

bp = api_blueprint("api_cohorts", __name__, org=True, description="Cohorts, startups, check-ins, milestones")

NOT_FOUND = (404, "Not found, or not visible to the caller")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


class CohortOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    programme = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    capacity = fields.Integer(allow_none=True)
    checkin_frequency = fields.String(required=True)
    mentoring_hours_per_startup = fields.Integer(required=True)
    lab_credit_hours = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    funders = fields.List(fields.String(), required=True)


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


class MineQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    mine = fields.Boolean(load_default=False, metadata={"description": "Only the caller's own startups"})


KPI_DESCRIPTION = "A number of at least 0; money is in the organisation's currency"


class CheckInIn(Schema):
    class Meta:
        unknown = EXCLUDE

    period = fields.String(required=True, metadata={"description": "YYYY-MM", "example": "2026-03"})
    revenue = fields.Raw(required=True, metadata={"description": KPI_DESCRIPTION, "type": "number"})
    employees_full_time = fields.Raw(required=True, metadata={"type": "integer"})
    employees_part_time = fields.Raw(required=True, metadata={"type": "integer"})
    jobs_created = fields.Raw(required=True, metadata={"type": "integer"})
    funding_equity = fields.Raw(required=True, metadata={"type": "number"})
    funding_debt = fields.Raw(required=True, metadata={"type": "number"})
    funding_grant = fields.Raw(required=True, metadata={"type": "number"})
    customers = fields.Raw(required=True, metadata={"type": "integer"})
    products_commercialised = fields.Raw(required=True, metadata={"type": "integer"})
    ip_filings = fields.Raw(required=True, metadata={"type": "integer"})
    custom = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict)
    notes = fields.String(load_default="")


class CheckInOut(Schema):
    id = fields.Integer(required=True)
    period = fields.String(required=True)
    revenue = fields.Float(required=True)
    employees_full_time = fields.Integer(required=True)
    employees_part_time = fields.Integer(required=True)
    jobs_created = fields.Integer(required=True)
    funding_equity = fields.Float(required=True)
    funding_debt = fields.Float(required=True)
    funding_grant = fields.Float(required=True)
    customers = fields.Integer(required=True)
    products_commercialised = fields.Integer(required=True)
    ip_filings = fields.Integer(required=True)
    custom = fields.Dict(required=True)
    is_baseline = fields.Boolean(required=True)
    verified = fields.Boolean(required=True)
    locked = fields.Boolean(required=True)


class MilestoneIn(Schema):
    class Meta:
        unknown = EXCLUDE

    title = fields.String(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(load_default=MilestoneStatus.PLANNED,
                           metadata={"enum": [s.value for s in MilestoneStatus]})
    evidence_url = fields.String(load_default=None, allow_none=True)


class MilestoneOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"description": "The milestone's title"})
    title = fields.String(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(required=True)
    evidence_url = fields.String(allow_none=True)
    overdue = fields.Boolean(required=True)


def _today() -> date:
    return to_local(utcnow(), g.org.timezone).date()


def _cohort_or_404(cohort_id: int) -> Cohort:
    cohort = get_or_404(Cohort, cohort_id)
    if db.session.execute(services.visible_cohorts_stmt(g.org, g.membership).where(Cohort.id == cohort.id)).first() \
            is None:
        abort(404)
    return cohort


def _startup_or_404(startup_id: int) -> Startup:
    startup = get_or_404(Startup, startup_id)
    if not (g.membership.has(Permission.MANAGE_COHORTS) or startup.has_founder(g.api_user)):
        abort(404)
    return startup


def visible_startup(view: Any) -> Any:
    """Resolve ``startup_id`` (404 if the caller may not see it) before the body is even parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.startup = _startup_or_404(kwargs["startup_id"])
        return view(*args, **kwargs)

    return wrapper


def _cohort_out(cohort: Cohort) -> dict[str, Any]:
    return {"id": cohort.id, "name": cohort.name, "programme": cohort.programme.name, "starts_on": cohort.starts_on,
            "ends_on": cohort.ends_on, "capacity": cohort.capacity, "checkin_frequency": str(cohort.checkin_frequency),
            "mentoring_hours_per_startup": cohort.mentoring_hours_per_startup,
            "lab_credit_hours": {str(c.resource_kind): c.hours for c in cohort.lab_credits},
            "funders": [f.user.name if f.user else f.funder_org.name if f.funder_org else "" for f in cohort.funders]}


def _startup_out(startup: Startup, status: str | None = None) -> dict[str, Any]:
    out = {name: getattr(startup, name) for name in ("id", "name", "legal_name", "registration_number", "sector",
                                                     "is_st_enterprise")}
    out.update(stage=str(startup.stage), origin=str(startup.origin))
    if status is not None:
        out["status"] = status
    return out


def _checkin_out(checkin: CheckIn) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(checkin, name) for name in STANDARD_KPIS}
    for name in MONEY_KPIS:
        out[name] = to_major(out[name], g.org.currency)
    out.update(id=checkin.id, period=checkin.period_label, custom=checkin.custom or {},
               is_baseline=checkin.is_baseline, verified=checkin.verified_at is not None, locked=checkin.is_locked)
    return out


def _milestone_out(milestone: Milestone) -> dict[str, Any]:
    return {"id": milestone.id, "name": milestone.title, "title": milestone.title, "due_on": milestone.due_on,
            "status": str(milestone.status), "evidence_url": milestone.evidence_url,
            "overdue": milestone.is_overdue(_today())}


@bp.route("/cohorts")
@bp.response(200, CohortOut(many=True))
@errors(NOT_FOUND)
def list_cohorts() -> Any:
    """Cohorts the caller may see: all for staff, the funded ones for funders, their own for founders."""
    stmt = services.visible_cohorts_stmt(g.org, g.membership).order_by(Cohort.starts_on.desc())
    return [_cohort_out(c) for c in db.session.execute(stmt).scalars()]


@bp.route("/cohorts/<int:cohort_id>")
@bp.response(200, CohortOut)
@errors(NOT_FOUND)
def get_cohort(cohort_id: int) -> Any:
    return _cohort_out(_cohort_or_404(cohort_id))


@bp.route("/cohorts/<int:cohort_id>/startups")
@bp.response(200, StartupOut(many=True))
@errors(NOT_FOUND)
def cohort_startups(cohort_id: int) -> Any:
    cohort = _cohort_or_404(cohort_id)
    rows = db.session.execute(select(Enrolment).join(Enrolment.startup).where(Enrolment.cohort_id == cohort.id)
                              .order_by(Startup.name)).scalars()
    return [_startup_out(e.startup, str(e.status)) for e in rows]


@bp.route("/startups")
@bp.arguments(MineQuery, location="query")
@bp.response(200, StartupOut(many=True))
@errors(NOT_FOUND)
def list_startups(query: dict[str, Any]) -> Any:
    """Managers see every startup; everyone else (or ``mine=1``) only their own."""
    if query["mine"] or not g.membership.has(Permission.MANAGE_COHORTS):
        startups = services.startups_of(db.session, g.org, g.api_user)
    else:
        startups = list(db.session.execute(select(Startup).where(Startup.org_id == g.org.id)
                                           .order_by(Startup.name)).scalars())
    return [_startup_out(s) for s in startups]


@bp.route("/startups/<int:startup_id>/checkins")
@visible_startup
@bp.response(200, CheckInOut(many=True))
@errors(NOT_FOUND)
def list_checkins(startup_id: int) -> Any:
    startup = g.startup
    rows = db.session.execute(select(CheckIn).where(CheckIn.startup_id == startup.id).order_by(CheckIn.period))
    return [_checkin_out(c) for c in rows.scalars()]


@bp.route("/startups/<int:startup_id>/checkins", methods=["POST"])
@visible_startup
@bp.arguments(CheckInIn)
@bp.response(201, CheckInOut)
@errors(NOT_FOUND, (409, "This period is already reported"),
            (422, "Invalid numbers or period; `fields` names them"))
def create_checkin(data: dict[str, Any], startup_id: int) -> Any:
    startup = g.startup
    if not (g.membership.has(Permission.MANAGE_COHORTS) or g.membership.has(Permission.SUBMIT_CHECKINS)):
        abort(404)
    enrolment = services.current_enrolment(db.session, startup)
    clean = checkins.clean_checkin(g.org, enrolment.cohort if enrolment else None,
                                   checkins.custom_kpis(db.session, g.org), data, _today())
    checkin = checkins.submit_checkin(db.session, startup, clean, g.api_user, notes=data.get("notes") or "")
    return _checkin_out(checkin)


@bp.route("/startups/<int:startup_id>/milestones")
@visible_startup
@bp.response(200, MilestoneOut(many=True))
@errors(NOT_FOUND)
def list_milestones(startup_id: int) -> Any:
    startup = g.startup
    return [_milestone_out(m) for m in startup.milestones]


@bp.route("/startups/<int:startup_id>/milestones", methods=["POST"])
@visible_startup
@bp.arguments(MilestoneIn)
@bp.response(201, MilestoneOut)
@errors(NOT_FOUND, (422, "Invalid fields; `fields` names them"))
def create_milestone(data: dict[str, Any], startup_id: int) -> Any:
    startup = g.startup
    if not (data.get("title") or "").strip():
        raise DomainError("title is required", fields={"title": "This field is required."})
    milestone = services.save_milestone(db.session, startup, None, title=data["title"], due_on=data["due_on"],
                                        status=data["status"], evidence_url=data.get("evidence_url"),
                                        today=_today())
    return _milestone_out(milestone)
