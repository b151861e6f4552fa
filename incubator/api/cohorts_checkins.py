"""A startup's KPI check-ins over the API (ETag / If-Match): submit, correct, verify, lock, evidence files.

Part of the ``api_cohorts`` blueprint (``incubator.api.cohorts_common``); visibility as on the pages
(``incubator.cohorts.access``).
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from incubator.api.cohorts_common import (
    FORBIDDEN,
    NOT_FOUND,
    STALE,
    _file_doc,
    _send_evidence,
    _today,
    bp,
    errors,
    location,
    resolved,
)
from incubator.api.cohorts_schemas import EvidenceFileIn, Period, text
from incubator.api.paging import api_page
from incubator.cohorts import access, checkins, progress, services
from incubator.cohorts.access import visible_checkin_or_404, visible_startup_or_404
from incubator.cohorts.models import MONEY_KPIS, STANDARD_KPIS, CheckIn
from incubator.core.errors import Conflict, DomainError
from incubator.core.money import to_major
from incubator.core.permissions import Permission, require
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db

KPI_DESCRIPTION = "A number of at least 0; money is in the organisation's currency"
COUNT_KPI = {"type": "integer", "minimum": 0, "maximum": checkins.MAX_COUNT}  # checkins reads and bounds them


class CheckInPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    revenue = fields.Raw(metadata={"description": KPI_DESCRIPTION, "type": "number"})
    employees_full_time = fields.Raw(metadata=COUNT_KPI)
    employees_part_time = fields.Raw(metadata=COUNT_KPI)
    jobs_created = fields.Raw(metadata=COUNT_KPI)
    funding_equity = fields.Raw(metadata={"type": "number"})
    funding_debt = fields.Raw(metadata={"type": "number"})
    funding_grant = fields.Raw(metadata={"type": "number"})
    customers = fields.Raw(metadata=COUNT_KPI)
    products_commercialised = fields.Raw(metadata=COUNT_KPI)
    ip_filings = fields.Raw(metadata=COUNT_KPI)
    custom = fields.Dict(keys=fields.String(), values=fields.Raw())
    notes = text(5000)


class CheckInIn(CheckInPatch):
    period = fields.String(required=True, metadata={"description": "YYYY-MM", "example": "2026-03"})
    revenue = fields.Raw(required=True, metadata={"description": KPI_DESCRIPTION, "type": "number"})
    employees_full_time = fields.Raw(required=True, metadata=COUNT_KPI)
    employees_part_time = fields.Raw(required=True, metadata=COUNT_KPI)
    jobs_created = fields.Raw(required=True, metadata=COUNT_KPI)
    funding_equity = fields.Raw(required=True, metadata={"type": "number"})
    funding_debt = fields.Raw(required=True, metadata={"type": "number"})
    funding_grant = fields.Raw(required=True, metadata={"type": "number"})
    customers = fields.Raw(required=True, metadata=COUNT_KPI)
    products_commercialised = fields.Raw(required=True, metadata=COUNT_KPI)
    ip_filings = fields.Raw(required=True, metadata=COUNT_KPI)
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
@bp.doc(**_file_doc("The evidence file attached to the check-in"))
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
