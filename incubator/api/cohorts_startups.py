"""Startups over the API: profiles (ETag / If-Match), founders, milestones, KPI check-ins, evidence.

Part of the ``api_cohorts`` blueprint (``incubator.api.cohorts``). Staff see every startup, founders
their own, and anyone else gets 404 (``incubator.cohorts.access``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, send_file
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from incubator.api.cohorts import (
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    Period,
    StartupOut,
    _today,
    bp,
    count,
    errors,
    ident,
    location,
    one_of,
    resolved,
    startup_out,
    text,
)
from incubator.api.paging import api_page
from incubator.cohorts import access, checkins, progress, services
from incubator.cohorts.access import visible_checkin_or_404, visible_milestone_or_404, visible_startup_or_404
from incubator.cohorts.models import (
    MONEY_KPIS,
    STANDARD_KPIS,
    CheckIn,
    EnrolmentStatus,
    Milestone,
    MilestoneStatus,
    Origin,
    Stage,
    StartupFounder,
)
from incubator.core.errors import Conflict, DomainError
from incubator.core.money import to_major
from incubator.core.permissions import Permission, require
from incubator.core.storage import image_mimetype, storage
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db

STALE = (412, "`If-Match` names an older version: read it again")


IMAGE_TYPES = ("image/png", "image/jpeg")
# What an evidence file may be (cohorts.services.EVIDENCE_TYPES), served with its type.
EVIDENCE_MIMETYPES = ("application/pdf", *IMAGE_TYPES, "text/csv",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _file_doc(what: str, types: tuple[str, ...]) -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {"200": {"description": what, "content": dict.fromkeys(types, binary)}}}


# -- schemas ---------------------------------------------------------------------------------------

class EvidenceFileIn(Schema):
    class Meta:
        unknown = EXCLUDE

    file = Upload(required=True, metadata={"description": "The file (multipart/form-data)"})


class StartupsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    mine = fields.Boolean(load_default=False, metadata={"description": "Only the caller's own startups"})
    q = text(100, metadata={"description": "Text in the startup's name or legal name"})
    cohort = ident(metadata={"description": "Only startups enrolled in this cohort"})
    stage = one_of(Stage)
    status = one_of(EnrolmentStatus, metadata={"description": "Only startups with an enrolment in this status"})


class StartupPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    name = text(255)
    legal_name = text(255, allow_none=True)
    registration_number = text(40, allow_none=True)
    sector = text(120)
    stage = one_of(Stage)
    origin = one_of(Origin)
    partner_institution = text(255, allow_none=True)
    team_size = count()
    website = text(255, allow_none=True, metadata={"description": "An http(s) address"})
    is_st_enterprise = fields.Boolean()
    description = text(5000)


class StartupIn(StartupPatch):
    name = text(255, required=True)


class StartupDetail(StartupOut):
    partner_institution = fields.String(allow_none=True)
    team_size = fields.Integer(required=True)
    website = fields.String(allow_none=True)
    description = fields.String(required=True)
    founders = fields.List(fields.Integer(), required=True, metadata={"description": "Founders' user ids"})


class FounderIn(Schema):
    class Meta:
        unknown = EXCLUDE

    email = text(255, required=True, metadata={"format": "email"})


class FounderOut(Schema):
    email = fields.String(required=True)
    user_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    invited = fields.Boolean(required=True, metadata={"description": "No account yet: an invitation was sent"})


KPI_DESCRIPTION = "A number of at least 0; money is in the organisation's currency"


class CheckInPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    revenue = fields.Raw(metadata={"description": KPI_DESCRIPTION, "type": "number"})
    employees_full_time = fields.Raw(metadata={"type": "integer"})
    employees_part_time = fields.Raw(metadata={"type": "integer"})
    jobs_created = fields.Raw(metadata={"type": "integer"})
    funding_equity = fields.Raw(metadata={"type": "number"})
    funding_debt = fields.Raw(metadata={"type": "number"})
    funding_grant = fields.Raw(metadata={"type": "number"})
    customers = fields.Raw(metadata={"type": "integer"})
    products_commercialised = fields.Raw(metadata={"type": "integer"})
    ip_filings = fields.Raw(metadata={"type": "integer"})
    custom = fields.Dict(keys=fields.String(), values=fields.Raw())
    notes = text(5000)


class CheckInIn(CheckInPatch):
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
    notes = text(5000, load_default="")


class CheckInsQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    period_from = Period(data_key="from", metadata={"type": "string", "description": "First period, YYYY-MM"})
    period_to = Period(data_key="to", metadata={"type": "string", "description": "Last period, YYYY-MM"})
    status = fields.String(validate=validate.OneOf(access.CHECKIN_STATUSES),
                           metadata={"enum": list(access.CHECKIN_STATUSES)})


class CheckInOut(Schema):
    id = fields.Integer(required=True)
    startup_id = fields.Integer(required=True)
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
    notes = fields.String(required=True)
    is_baseline = fields.Boolean(required=True)
    status = fields.String(required=True, metadata={"enum": list(access.CHECKIN_STATUSES)})
    verified = fields.Boolean(required=True)
    locked = fields.Boolean(required=True)
    has_evidence = fields.Boolean(required=True)


class MilestonesQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    status = one_of(MilestoneStatus)


class MilestoneIn(Schema):
    class Meta:
        unknown = EXCLUDE

    title = text(255, required=True)
    due_on = fields.Date(required=True)
    status = fields.String(load_default=MilestoneStatus.PLANNED,
                           metadata={"enum": [s.value for s in MilestoneStatus]})
    evidence_url = text(500, load_default=None, allow_none=True)


class MilestonePatch(Schema):
    class Meta:
        unknown = EXCLUDE

    status = one_of(MilestoneStatus)
    evidence_url = text(500, allow_none=True, metadata={"description": "An http(s) link; empty or null clears it"})


class MilestoneOut(Schema):
    id = fields.Integer(required=True)
    startup_id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"description": "The milestone's title"})
    title = fields.String(required=True)
    due_on = fields.Date(required=True)
    status = fields.String(required=True)
    evidence_url = fields.String(allow_none=True)
    has_evidence_file = fields.Boolean(required=True)
    overdue = fields.Boolean(required=True)


# -- answers ---------------------------------------------------------------------------------------

def _detail(startup: Any) -> Any:
    out = startup_out(startup)
    out.update(partner_institution=startup.partner_institution, team_size=startup.team_size,
               website=startup.website, description=startup.description or "",
               founders=[f.user_id for f in startup.founders])
    return out, 200, {"ETag": etag_of(startup)}


def _checkin_status(checkin: CheckIn) -> str:
    return "locked" if checkin.is_locked else "verified" if checkin.verified_at else "submitted"


def checkin_out(checkin: CheckIn) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(checkin, name) for name in STANDARD_KPIS}
    for name in MONEY_KPIS:
        out[name] = to_major(out[name], g.org.currency)
    out.update(id=checkin.id, startup_id=checkin.startup_id, period=checkin.period_label,
               custom=checkin.custom or {}, notes=checkin.notes or "", is_baseline=checkin.is_baseline,
               status=_checkin_status(checkin), verified=checkin.verified_at is not None,
               locked=checkin.is_locked, has_evidence=bool(checkin.evidence_key))
    return out


def _with_etag(checkin: CheckIn, status: int = 200) -> Any:
    return checkin_out(checkin), status, {"ETag": etag_of(checkin)}


def _milestone_out(milestone: Milestone) -> dict[str, Any]:
    return {"id": milestone.id, "startup_id": milestone.startup_id, "name": milestone.title,
            "title": milestone.title, "due_on": milestone.due_on, "status": str(milestone.status),
            "evidence_url": milestone.evidence_url, "has_evidence_file": bool(milestone.evidence_key),
            "overdue": milestone.is_overdue(_today())}


def _send_evidence(key: str | None, name: str | None) -> Any:
    if not key:
        abort(404)
    try:
        path = storage().path(key)
    except (FileNotFoundError, ValueError):
        abort(404)
    return send_file(path, as_attachment=True, download_name=name or key)


# -- startups --------------------------------------------------------------------------------------

@bp.route("/startups")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(StartupsQuery, location="query")
@bp.response(200, StartupOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def list_startups(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """Managers see every startup; everyone else (or ``mine=1``) only their own."""
    stmt = access.filter_startups(access.visible_startups_stmt(mine=query["mine"]), q=query.get("q"),
                                  cohort_id=query.get("cohort"), stage=query.get("stage"),
                                  status=query.get("status"))
    return [startup_out(s) for s in api_page(stmt, pagination_parameters)]


@bp.route("/startups", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@bp.arguments(StartupIn)
@bp.response(201, StartupDetail)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def create_startup(data: dict[str, Any]) -> Any:
    startup = services.save_startup(db.session, g.org, None, **data)
    body, _status, headers = _detail(startup)
    return body, 201, {**headers, **location("get_startup", startup_id=startup.id)}


@bp.route("/startups/<int:startup_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, StartupDetail)
@errors(FORBIDDEN, NOT_FOUND)
def get_startup(startup_id: int) -> Any:
    """The profile, with its ``ETag`` (send it back as ``If-Match`` when changing it)."""
    return _detail(visible_startup_or_404(startup_id))


@bp.route("/startups/<int:startup_id>", methods=["PATCH"])
@require(Permission.VIEW_DASHBOARD)
@resolved("startup_id", visible_startup_or_404)
@bp.arguments(StartupPatch)
@bp.response(200, StartupDetail)
@errors(FORBIDDEN, NOT_FOUND, STALE, INVALID)
def update_startup(data: dict[str, Any], startup_id: int) -> Any:
    """Change the fields given; founders and staff edit the profile."""
    startup = visible_startup_or_404(startup_id)
    check_if_match(startup)
    current = {name: getattr(startup, name) for name in services.STARTUP_FIELDS}
    services.save_startup(db.session, g.org, startup, **{**current, **data})
    return _detail(startup)


@bp.route("/startups/<int:startup_id>/logo", methods=["PUT"])
@require(Permission.VIEW_DASHBOARD)
@resolved("startup_id", visible_startup_or_404)
@bp.arguments(EvidenceFileIn, location="files")
@bp.response(200, StartupDetail)
@errors(FORBIDDEN, NOT_FOUND, (413, "Larger than the upload limit"), (422, "Not a PNG or JPEG image"))
def put_logo(files: dict[str, Any], startup_id: int) -> Any:
    """Replace the startup's logo (PNG or JPEG, recognised by its content), as its edit page does."""
    startup = visible_startup_or_404(startup_id)
    startup.logo_key = services.store_logo(files["file"].stream)
    db.session.flush()
    return _detail(startup)


@bp.route("/startups/<int:startup_id>/logo")
@require(Permission.VIEW_DASHBOARD)
@bp.doc(**_file_doc("The startup's logo (PNG or JPEG)", IMAGE_TYPES))
@errors(FORBIDDEN, NOT_FOUND)
def get_logo(startup_id: int) -> Any:
    startup = visible_startup_or_404(startup_id)
    if not startup.logo_key:
        abort(404)
    try:
        path = storage().path(startup.logo_key)
    except (FileNotFoundError, ValueError):
        abort(404)
    return send_file(path, mimetype=image_mimetype(startup.logo_key), max_age=3600)


@bp.route("/startups/<int:startup_id>/founders")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, FounderOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def list_founders(startup_id: int, pagination_parameters: Any) -> Any:
    startup = visible_startup_or_404(startup_id)
    stmt = select(StartupFounder).where(StartupFounder.startup_id == startup.id).order_by(StartupFounder.id)
    return [{"email": f.user.email, "user_id": f.user_id, "name": f.user.name, "invited": False}
            for f in api_page(stmt, pagination_parameters)]


@bp.route("/startups/<int:startup_id>/founders", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@resolved("startup_id", visible_startup_or_404)
@bp.arguments(FounderIn)
@bp.response(201, FounderOut)
@bp.alt_response(202, schema=FounderOut, description="No account yet: an invitation to join as a founder is sent")
@errors(FORBIDDEN, NOT_FOUND, (409, "Invited already: the person is a member"), INVALID)
def add_founder(data: dict[str, Any], startup_id: int) -> Any:
    """Someone with an account becomes a founder at once (201); anyone else is invited (202)."""
    startup = visible_startup_or_404(startup_id)
    added = services.add_founder_by_email(db.session, g.org, startup, data["email"], by=g.api_user,
                                          actor=g.membership)
    user = added.user
    body = {"email": added.email, "user_id": user.id if user else None, "name": user.name if user else None,
            "invited": added.invited}
    return body, 202 if added.invited else 201, location("list_founders", startup_id=startup.id)


# -- check-ins -------------------------------------------------------------------------------------

@bp.route("/startups/<int:startup_id>/checkins")
@require(Permission.VIEW_DASHBOARD)
@resolved("startup_id", visible_startup_or_404)
@bp.arguments(CheckInsQuery, location="query")
@bp.response(200, CheckInOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def list_checkins(query: dict[str, Any], startup_id: int, pagination_parameters: Any) -> Any:
    """Oldest period first; ``from``/``to`` (YYYY-MM, inclusive) and ``status`` narrow the list."""
    startup = visible_startup_or_404(startup_id)
    stmt = access.filter_checkins(select(CheckIn).where(CheckIn.startup_id == startup.id),
                                  period_from=query.get("period_from"), period_to=query.get("period_to"),
                                  status=query.get("status"))
    return [checkin_out(c) for c in api_page(stmt.order_by(CheckIn.period), pagination_parameters)]


@bp.route("/startups/<int:startup_id>/checkins", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@resolved("startup_id", visible_startup_or_404)
@bp.arguments(CheckInIn)
@bp.response(201, CheckInOut)
@errors(FORBIDDEN, NOT_FOUND, (409, "This period is already reported"),
        (422, "Invalid numbers or period; `fields` names them"))
def create_checkin(data: dict[str, Any], startup_id: int) -> Any:
    startup = visible_startup_or_404(startup_id)
    enrolment = services.current_enrolment(db.session, startup)
    clean = checkins.clean_checkin(g.org, enrolment.cohort if enrolment else None,
                                   checkins.custom_kpis(db.session, g.org), data, _today())
    checkin = checkins.submit_checkin(db.session, startup, clean, g.api_user, notes=data.get("notes") or "")
    body, status, headers = _with_etag(checkin, 201)
    return body, status, {**headers, **location("get_checkin", checkin_id=checkin.id)}


@bp.route("/checkins/<int:checkin_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, CheckInOut)
@errors(FORBIDDEN, NOT_FOUND)
def get_checkin(checkin_id: int) -> Any:
    """One check-in, with its ``ETag`` (send it back as ``If-Match`` when changing or verifying it)."""
    return _with_etag(visible_checkin_or_404(checkin_id))


@bp.route("/checkins/<int:checkin_id>", methods=["PATCH"])
@require(Permission.VIEW_DASHBOARD)
@resolved("checkin_id", visible_checkin_or_404)
@bp.arguments(CheckInPatch)
@bp.response(200, CheckInOut)
@errors(FORBIDDEN, NOT_FOUND, (409, "The check-in is locked"), STALE,
        (422, "Invalid numbers; `fields` names them"))
def update_checkin(data: dict[str, Any], checkin_id: int) -> Any:
    """Change the numbers given before the check-in is locked; each change is kept as a revision and
    takes away the verification."""
    record = visible_checkin_or_404(checkin_id)
    if not record.is_locked:  # a locked one answers 409 whatever the version
        check_if_match(record)
    current: dict[str, Any] = {**checkins.money_for_form(record, g.org.currency), "custom": record.custom or {}}
    clean = checkins.clean_checkin(g.org, None, checkins.custom_kpis(db.session, g.org), {**current, **data},
                                   _today(), check_period=False)
    checkins.update_checkin(db.session, record, clean, g.api_user, notes=data.get("notes"))
    db.session.flush()
    return _with_etag(record)


def _verify(checkin_id: int, lock: bool) -> Any:
    record = visible_checkin_or_404(checkin_id)
    if not record.is_locked:
        check_if_match(record)
    (checkins.lock_checkin if lock else checkins.verify_checkin)(record, g.api_user)
    db.session.flush()
    return _with_etag(record)


@bp.route("/checkins/<int:checkin_id>/verify", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@bp.response(200, CheckInOut)
@errors(FORBIDDEN, NOT_FOUND, (409, "The check-in is locked"), STALE)
def verify_checkin(checkin_id: int) -> Any:
    """Staff confirm the numbers; with ``If-Match`` only the version they read."""
    return _verify(checkin_id, lock=False)


@bp.route("/checkins/<int:checkin_id>/lock", methods=["POST"])
@require(Permission.MANAGE_COHORTS)
@bp.response(200, CheckInOut)
@errors(FORBIDDEN, NOT_FOUND, STALE)
def lock_checkin(checkin_id: int) -> Any:
    """Verify (if need be) and lock: the check-in can no longer change. Locking twice changes nothing."""
    return _verify(checkin_id, lock=True)


@bp.route("/checkins/<int:checkin_id>/evidence")
@require(Permission.VIEW_DASHBOARD)
@bp.doc(**_file_doc("The evidence file attached to the check-in", EVIDENCE_MIMETYPES))
@errors(FORBIDDEN, NOT_FOUND)
def checkin_evidence(checkin_id: int) -> Any:
    record = visible_checkin_or_404(checkin_id)
    return _send_evidence(record.evidence_key, record.evidence_name)


@bp.route("/checkins/<int:checkin_id>/evidence", methods=["PUT"])
@require(Permission.VIEW_DASHBOARD)
@resolved("checkin_id", visible_checkin_or_404)
@bp.arguments(EvidenceFileIn, location="files")
@bp.response(200, CheckInOut)
@errors(FORBIDDEN, NOT_FOUND, (409, "The check-in is locked"), (413, "Larger than the upload limit"),
        (422, "Not a PDF, spreadsheet or image"))
def put_checkin_evidence(files: dict[str, Any], checkin_id: int) -> Any:
    """Attach (or replace) the evidence file of a check-in that is not locked."""
    record = visible_checkin_or_404(checkin_id)
    if not access.may_edit_checkin(record):
        raise Conflict("This check-in is locked and cannot be changed.", code="locked")
    upload = files["file"]
    stored = progress.store_file(upload.stream, upload.filename or "", progress.EVIDENCE_TYPES, "file")
    if stored is None:
        raise DomainError("Choose a file.", fields={"file": "Choose a file."})
    record.evidence_key, record.evidence_name = stored
    db.session.flush()
    return _with_etag(record)


# -- milestones ------------------------------------------------------------------------------------

@bp.route("/startups/<int:startup_id>/milestones")
@require(Permission.VIEW_DASHBOARD)
@resolved("startup_id", visible_startup_or_404)
@bp.arguments(MilestonesQuery, location="query")
@bp.response(200, MilestoneOut(many=True))
@bp.paginate()
@errors(FORBIDDEN, NOT_FOUND)
def list_milestones(query: dict[str, Any], startup_id: int, pagination_parameters: Any) -> Any:
    startup = visible_startup_or_404(startup_id)
    stmt = select(Milestone).where(Milestone.startup_id == startup.id)
    if query.get("status"):
        stmt = stmt.where(Milestone.status == query["status"])
    return [_milestone_out(m) for m in api_page(stmt.order_by(Milestone.due_on, Milestone.id),
                                                pagination_parameters)]


@bp.route("/startups/<int:startup_id>/milestones", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@resolved("startup_id", visible_startup_or_404)
@bp.arguments(MilestoneIn)
@bp.response(201, MilestoneOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def create_milestone(data: dict[str, Any], startup_id: int) -> Any:
    startup = visible_startup_or_404(startup_id)
    milestone = progress.save_milestone(db.session, startup, None, title=data["title"], due_on=data["due_on"],
                                        status=data["status"], evidence_url=data.get("evidence_url"),
                                        today=_today())
    return _milestone_out(milestone), 201, location("get_milestone", milestone_id=milestone.id)


@bp.route("/milestones/<int:milestone_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, MilestoneOut)
@errors(FORBIDDEN, NOT_FOUND)
def get_milestone(milestone_id: int) -> Any:
    return _milestone_out(visible_milestone_or_404(milestone_id))


@bp.route("/milestones/<int:milestone_id>", methods=["PATCH"])
@require(Permission.VIEW_DASHBOARD)
@resolved("milestone_id", visible_milestone_or_404)
@bp.arguments(MilestonePatch)
@bp.response(200, MilestoneOut)
@errors(FORBIDDEN, NOT_FOUND, INVALID)
def update_milestone(data: dict[str, Any], milestone_id: int) -> Any:
    """Status and evidence link, as on the startup's page."""
    milestone = visible_milestone_or_404(milestone_id)
    evidence = data.get("evidence_url")
    progress.save_milestone(db.session, milestone.startup, milestone, status=data.get("status"),
                            evidence_url=(evidence or "") if "evidence_url" in data else None, today=_today())
    return _milestone_out(milestone)


@bp.route("/milestones/<int:milestone_id>/evidence", methods=["PUT"])
@require(Permission.VIEW_DASHBOARD)
@resolved("milestone_id", visible_milestone_or_404)
@bp.arguments(EvidenceFileIn, location="files")
@bp.response(200, MilestoneOut)
@errors(FORBIDDEN, NOT_FOUND, (413, "Larger than the upload limit"), (422, "Not a PDF, spreadsheet or image"))
def put_milestone_evidence(files: dict[str, Any], milestone_id: int) -> Any:
    """Attach (or replace) the milestone's evidence file, as its page does."""
    milestone = visible_milestone_or_404(milestone_id)
    upload = files["file"]
    stored = progress.store_file(upload.stream, upload.filename or "", progress.EVIDENCE_TYPES, "file")
    if stored is None:
        raise DomainError("Choose a file.", fields={"file": "Choose a file."})
    milestone.evidence_key, milestone.evidence_name = stored
    db.session.flush()
    return _milestone_out(milestone)


@bp.route("/milestones/<int:milestone_id>/evidence")
@require(Permission.VIEW_DASHBOARD)
@bp.doc(**_file_doc("The evidence file attached to the milestone", EVIDENCE_MIMETYPES))
@errors(FORBIDDEN, NOT_FOUND)
def milestone_evidence(milestone_id: int) -> Any:
    milestone = visible_milestone_or_404(milestone_id)
    return _send_evidence(milestone.evidence_key, milestone.evidence_name)

