"""A startup's milestones over the API: list, add, change status or link, evidence files.

Part of the ``api_cohorts`` blueprint (``incubator.api.cohorts_common``); visibility as on the pages
(``incubator.cohorts.access``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields
from sqlalchemy import select

from incubator.api.cohorts_common import (
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    _file_doc,
    _send_evidence,
    _today,
    bp,
    errors,
    location,
    resolved,
)
from incubator.api.cohorts_schemas import EvidenceFileIn, one_of, text
from incubator.api.paging import api_page
from incubator.cohorts import progress
from incubator.cohorts.access import visible_milestone_or_404, visible_startup_or_404
from incubator.cohorts.models import Milestone, MilestoneStatus
from incubator.core.errors import DomainError
from incubator.core.permissions import Permission, require
from incubator.extensions import db


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


def _milestone_out(milestone: Milestone) -> dict[str, Any]:
    return {"id": milestone.id, "startup_id": milestone.startup_id, "name": milestone.title,
            "title": milestone.title, "due_on": milestone.due_on, "status": str(milestone.status),
            "evidence_url": milestone.evidence_url, "has_evidence_file": bool(milestone.evidence_key),
            "overdue": milestone.is_overdue(_today())}


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
@bp.doc(**_file_doc("The evidence file attached to the milestone"))
@errors(FORBIDDEN, NOT_FOUND)
def milestone_evidence(milestone_id: int) -> Any:
    milestone = visible_milestone_or_404(milestone_id)
    return _send_evidence(milestone.evidence_key, milestone.evidence_name)
