"""Startups over the API: profiles (ETag / If-Match), logos and founders.

Part of the ``api_cohorts`` blueprint (``incubator.api.cohorts_common``). Staff see every startup, founders
their own, and anyone else gets 404 (``incubator.cohorts.access``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, g
from marshmallow import EXCLUDE, Schema, fields
from sqlalchemy import select

from incubator.api.cohorts_common import (
    FORBIDDEN,
    IMAGE_TYPES,
    INVALID,
    NOT_FOUND,
    STALE,
    _file_doc,
    bp,
    errors,
    location,
    resolved,
)
from incubator.api.cohorts_schemas import EvidenceFileIn, StartupOut, count, ident, one_of, startup_out, text
from incubator.api.paging import api_page
from incubator.cohorts import access, services
from incubator.cohorts.access import visible_startup_or_404
from incubator.cohorts.models import EnrolmentStatus, Origin, Stage, StartupFounder
from incubator.core.permissions import Permission, require
from incubator.core.storage import image_mimetype, storage
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db


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


# -- answers ---------------------------------------------------------------------------------------

def _detail(startup: Any) -> Any:
    out = startup_out(startup)
    out.update(partner_institution=startup.partner_institution, team_size=startup.team_size,
               website=startup.website, description=startup.description or "",
               founders=[f.user_id for f in startup.founders])
    return out, 200, {"ETag": etag_of(startup)}


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
    return storage().send(startup.logo_key, mimetype=image_mimetype(startup.logo_key), max_age=3600)


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
