"""Mentor profiles, conflicts of interest and a startup's mentoring needs over the API.

The matching and matches are in ``api.mentoring_matching``, sessions and action items in
``api.mentoring_sessions``. Who may see and do what comes from ``incubator.mentoring.access``, as on
the pages: a role with nothing to do with mentoring gets 403, a row the caller may not see 404.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, g, url_for
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from incubator.accounts.services import get_user_by_email
from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.api.schemas import COUNT, ID, FeedOut
from incubator.cohorts.models import Startup
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.feeds import FeedKind, issue_feed_token
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db
from incubator.mentoring import access, notifications, services
from incubator.mentoring.models import (
    EXPERTISE,
    INDUSTRIES,
    LANGUAGES,
    ConflictKind,
    MentorConflict,
    MentoringNeeds,
    MentorProfile,
)
from incubator.orgs.services import find_membership

bp = api_blueprint("api_mentoring", __name__, org=True, description="Mentor profiles, conflicts of interest, needs")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


NOT_FOUND = (404, "Not found, or not visible to the caller")
INVALID = (422, "Invalid fields; `fields` names them")
NOT_MENTORING = (403, "Only managers and mentors")
STALE = (412, "`If-Match` names an older version (`stale`)")
ETAG = {"ETag": {"description": "The profile's version, for `If-Match`", "schema": {"type": "string"}}}
CREATED = {**ETAG, "Location": {"description": "The profile's address", "schema": {"type": "string"}}}
IF_MATCH = {"parameters": [{"in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
                            "description": "The `ETag` read; a stale one answers 412"}]}


# -- mentor profiles --------------------------------------------------------------------------------

class MentorOut(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)
    headline = fields.String(required=True)
    bio = fields.String(required=True)
    affiliation = fields.String(required=True)
    capacity = fields.Integer(required=True)
    hours_per_month = fields.Integer(required=True)
    tags = fields.List(fields.String(), required=True, metadata={"description": "Expertise tags"})
    industries = fields.List(fields.String(), required=True)
    stages = fields.List(fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)
    timezone = fields.String(required=True)
    version = fields.Integer(required=True)


class MentorQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=100), metadata={"description": "Part of the name"})
    expertise = fields.String(load_default="", validate=validate.Length(max=40), metadata={"description": "A tag"})
    language = fields.String(load_default="", validate=validate.Length(max=10), metadata={"description": "e.g. `vi`"})


class MentorFields(Schema):
    """A mentor profile's fields; a field left out is left as it is (a new profile takes the default)."""

    class Meta:
        unknown = EXCLUDE

    headline = fields.String(validate=validate.Length(max=255), metadata={"description": "Default empty"})
    bio = fields.String(validate=validate.Length(max=5000), metadata={"description": "Default empty"})
    affiliation = fields.String(validate=validate.OneOf(services.AFFILIATIONS),
                                metadata={"description": "Default `business`"})
    tags = fields.List(fields.String(validate=validate.Length(max=40)),
                       metadata={"description": "Expertise tags; default none"})
    industries = fields.List(fields.String(), metadata={"description": "Default none"})
    stages = fields.List(fields.String(), metadata={"description": "Preferred stages; default none (any)"})
    languages = fields.List(fields.String(), metadata={"description": "Default `[\"vi\"]`"})
    capacity = fields.Integer(validate=COUNT, metadata={"description": "Startups at once, 0 to 50; default 2"})
    hours_per_month = fields.Integer(validate=COUNT, metadata={"description": "0 to 200; default 4"})
    timezone = fields.String(metadata={"description": "IANA name; default the organisation's"})


class MentorIn(MentorFields):
    email = fields.Email(required=True, metadata={"description": "A member of the organisation"})


def _mentor_out(p: MentorProfile) -> dict[str, Any]:
    return {"id": p.id, "user_id": p.user_id, "name": p.user.name, "headline": p.headline, "capacity": p.capacity,
            "hours_per_month": p.hours_per_month, "tags": p.expertise, "industries": p.industries,
            "stages": p.stages, "languages": p.languages, "timezone": p.timezone, "bio": p.bio,
            "affiliation": p.affiliation, "version": p.version}


def _with_etag(profile: MentorProfile, status: int = 200, **headers: str) -> Any:
    return _mentor_out(profile), status, {"ETag": etag_of(profile), **headers}


@bp.route("/mentors")
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
@bp.arguments(MentorQuery, location="query")
@bp.response(200, MentorOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, NOT_MENTORING, INVALID)
def list_mentors(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """Mentor profiles: every one for managers, a mentor's own; by name (`q`), expertise tag and language."""
    stmt = services.filter_profiles(access.visible_profiles_stmt(g.org), **query).order_by(MentorProfile.id)
    return [_mentor_out(p) for p in api_page(stmt, pagination_parameters)]


def _profile_changes(data: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {name: data[name] for name in (
        "headline", "bio", "affiliation", "industries", "stages", "languages", "capacity", "hours_per_month",
        "timezone") if name in data}
    if "tags" in data:
        changes["expertise"] = data["tags"]
    return changes


@bp.route("/mentors", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
@bp.arguments(MentorIn)
@bp.response(201, MentorOut, headers=CREATED)
@errors(NOT_FOUND, NOT_MENTORING, INVALID)
def save_mentor(data: dict[str, Any]) -> Any:
    """Create or update the mentor profile of a member (managers, or mentors for themselves).

    A partial update: fields left out keep their value (a new profile takes the defaults). Answers 201
    whether it created or updated; `PATCH /mentors/{id}` is the update by id."""
    user = get_user_by_email(db.session, data["email"])
    if user is None or find_membership(user, g.org) is None:
        raise DomainError("No member with this email", fields={"email": "No member with this email."})
    if not (access.is_manager() or (user.id == g.api_user.id and access.is_mentor())):
        abort(404)
    profile = services.save_profile(db.session, g.org, user, **_profile_changes(data))
    return _with_etag(profile, 201, Location=url_for("api_mentoring.get_mentor", org=g.org.slug,
                                                     mentor_profile_id=profile.id))


def visible_profile(view: Any) -> Any:
    """Resolve ``mentor_profile_id`` (404 unless a manager or the mentor) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.mentor_profile = access.visible_profile_or_404(kwargs["mentor_profile_id"])
        return view(*args, **kwargs)

    return wrapper


@bp.route("/mentors/<int:mentor_profile_id>")
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
@visible_profile
@bp.response(200, MentorOut, headers=ETAG)
@errors(NOT_FOUND, NOT_MENTORING)
def get_mentor(mentor_profile_id: int) -> Any:
    """One mentor profile (managers, or the mentor), with its `ETag` for a later `PATCH`."""
    return _with_etag(g.mentor_profile)


@bp.route("/mentors/<int:mentor_profile_id>", methods=["PATCH"])
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
@visible_profile
@bp.arguments(MentorFields)
@bp.response(200, MentorOut, headers=ETAG)
@bp.doc(**IF_MATCH)
@errors(NOT_FOUND, NOT_MENTORING, STALE, INVALID)
def update_mentor(data: dict[str, Any], mentor_profile_id: int) -> Any:
    """Change some fields of a mentor profile (managers, or the mentor); the others are left alone.
    With `If-Match`, a profile changed since it was read is refused (412 `stale`)."""
    profile = g.mentor_profile
    check_if_match(profile)
    services.save_profile(db.session, g.org, profile.user, **_profile_changes(data))
    return _with_etag(profile)


# -- the mentor's calendar feed ---------------------------------------------------------------------

@bp.route("/mentor-profile/feed", methods=["POST"])
@require(Permission.MENTOR_STARTUPS)
@bp.response(201, FeedOut)
@errors(NOT_FOUND, (403, "Only mentors"))
def new_feed() -> Any:
    """A new secret address for the caller's mentoring sessions calendar; the previous one stops working.
    404 when the caller has no mentor profile here, as on the page."""
    record = access.own_profile(db.session, g.org, g.api_user)
    if record is None:
        abort(404)
    token = issue_feed_token(db.session, org_id=record.org_id, kind=FeedKind.MENTOR, owner_id=record.id)
    return {"url": url_for("mentoring_feeds.feed", token=token, _external=True)}


# -- conflicts of interest ----------------------------------------------------------------------------

class ConflictQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    mentor_id = fields.Integer(load_default=None, validate=ID, metadata={"description": "One mentor's"})
    startup_id = fields.Integer(load_default=None, validate=ID, metadata={"description": "One startup's"})


class ConflictIn(Schema):
    class Meta:
        unknown = EXCLUDE

    mentor_id = fields.Integer(required=True, validate=ID)
    startup_id = fields.Integer(required=True, validate=ID)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ConflictKind]))
    reason = fields.String(required=True, validate=validate.Length(max=2000))


class ConflictOut(Schema):
    id = fields.Integer(required=True)
    mentor_id = fields.Integer(required=True)
    mentor_name = fields.String(required=True)
    startup_id = fields.Integer(required=True)
    startup_name = fields.String(required=True)
    kind = fields.String(required=True)
    reason = fields.String(required=True)
    recorded_by_id = fields.Integer(allow_none=True)
    recorded_by_name = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)


def _conflict_out(c: MentorConflict) -> dict[str, Any]:
    return {"id": c.id, "mentor_id": c.mentor_id, "mentor_name": c.mentor.user.name, "startup_id": c.startup_id,
            "startup_name": c.startup.name, "kind": str(c.kind), "reason": c.reason,
            "recorded_by_id": c.recorded_by_id, "recorded_by_name": c.recorded_by.name if c.recorded_by else None,
            "created_at": c.created_at}


@bp.route("/mentor-conflicts")
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
@bp.arguments(ConflictQuery, location="query")
@bp.response(200, ConflictOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, NOT_MENTORING, INVALID)
def list_conflicts(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """Conflicts of interest with who recorded them and when, newest first: managers see all, a mentor their own."""
    everyone, mentor = access.conflict_scope(db.session, g.org)
    stmt = services.conflicts_stmt(g.org, mentor, everyone=everyone)
    if query["mentor_id"] is not None:
        stmt = stmt.where(MentorConflict.mentor_id == query["mentor_id"])
    if query["startup_id"] is not None:
        stmt = stmt.where(MentorConflict.startup_id == query["startup_id"])
    return [_conflict_out(c) for c in api_page(stmt, pagination_parameters)]


@bp.route("/mentor-conflicts", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
@bp.arguments(ConflictIn)
@bp.response(201, ConflictOut)
@errors(NOT_FOUND, NOT_MENTORING, (409, "Already recorded (`conflict_exists`)"), INVALID)
def record_conflict(data: dict[str, Any]) -> Any:
    """Record a conflict of interest (managers, or the mentor for themselves). Any live match of the pair
    ends and its sessions still to come are cancelled; both sides are told."""
    profile = access.visible_profile_or_404(data["mentor_id"])
    startup = get_or_404(Startup, data["startup_id"])
    conflict = services.record_conflict(db.session, profile, startup, data["kind"], data["reason"], g.api_user,
                                        now=utcnow(), on_cancel=lambda s: notifications.cancelled(s, None))
    return _conflict_out(conflict)


@bp.route("/mentor-conflicts/<int:mentor_conflict_id>", methods=["DELETE"])
@require(Permission.VIEW_DASHBOARD)
@access.require_mentoring_role
@bp.response(204)
@errors(NOT_FOUND, NOT_MENTORING)
def delete_conflict(mentor_conflict_id: int) -> Any:
    """Remove a conflict of interest (managers, or the mentor for their own)."""
    services.remove_conflict(db.session, access.visible_conflict_or_404(mentor_conflict_id))
    return None


# -- a startup's mentoring needs ------------------------------------------------------------------------

class NeedsIn(Schema):
    """The startup's whole statement of needs (a PUT replaces it)."""

    class Meta:
        unknown = EXCLUDE

    needs = fields.List(fields.String(validate=validate.OneOf(sorted(EXPERTISE))), required=True,
                        metadata={"description": "Expertise tags the startup asks for"})
    industry = fields.String(required=True, validate=validate.OneOf(sorted(INDUSTRIES)))
    languages = fields.List(fields.String(validate=validate.OneOf(sorted(LANGUAGES))), required=True,
                            validate=validate.Length(min=1), metadata={"description": "At least one"})


class NeedsOut(Schema):
    startup_id = fields.Integer(required=True)
    startup_name = fields.String(required=True)
    needs = fields.List(fields.String(), required=True)
    industry = fields.String(required=True)
    languages = fields.List(fields.String(), required=True)


def _needs_out(startup: Startup, record: MentoringNeeds | None) -> dict[str, Any]:
    return {"startup_id": startup.id, "startup_name": startup.name, "needs": record.needs if record else [],
            "industry": record.industry if record else "other", "languages": record.languages if record else ["vi"]}


@bp.route("/startups/<int:startup_id>/needs")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, NeedsOut)
@errors(NOT_FOUND)
def get_needs(startup_id: int) -> Any:
    """What a startup asks mentors for (its founders, and managers of mentoring or cohorts)."""
    startup = access.needs_startup_or_404(startup_id)
    record = db.session.execute(select(MentoringNeeds).where(MentoringNeeds.startup_id == startup.id)
                                ).scalar_one_or_none()
    return _needs_out(startup, record)


def needs_startup(view: Any) -> Any:
    """Resolve ``startup_id`` (404 if the caller may not state its needs) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.needs_startup = access.needs_startup_or_404(kwargs["startup_id"])
        return view(*args, **kwargs)

    return wrapper


@bp.route("/startups/<int:startup_id>/needs", methods=["PUT"])
@require(Permission.VIEW_DASHBOARD)
@needs_startup
@bp.arguments(NeedsIn)
@bp.response(200, NeedsOut)
@errors(NOT_FOUND, INVALID)
def put_needs(data: dict[str, Any], startup_id: int) -> Any:
    """Replace what a startup asks mentors for; the next matching run reads it."""
    startup = g.needs_startup
    record = services.save_needs(db.session, startup, needs=data["needs"], industry=data["industry"],
                                 languages=data["languages"])
    return _needs_out(startup, record)
