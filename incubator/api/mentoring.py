"""Mentors, matching, match answers and mentor sessions over the API."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, g
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import or_, select

from incubator.accounts.services import get_user_by_email
from incubator.api import api_blueprint, error_responses
from incubator.cohorts.models import Cohort, Startup, StartupFounder
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.permissions import Permission
from incubator.core.tenancy import get_or_404
from incubator.core.timezones import to_local
from incubator.extensions import db
from incubator.mentoring import labels, matching, notifications, services
from incubator.mentoring.models import (
    ConflictKind,
    Match,
    MatchStatus,
    MentorConflict,
    MentorProfile,
    MentorSession,
    SessionFormat,
)
from incubator.orgs.services import find_membership

bp = api_blueprint("api_mentoring", __name__, org=True, description="Mentors, matching and mentor sessions")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


NOT_FOUND = (404, "Not found, or not visible to the caller")
INVALID = (422, "Invalid fields; `fields` names them")


class MentorOut(Schema):
    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    name = fields.String(required=True)
    headline = fields.String(required=True)
    capacity = fields.Integer(required=True)
    hours_per_month = fields.Integer(required=True)
    tags = fields.List(fields.String(), required=True, metadata={"description": "Expertise tags"})
    industries = fields.List(fields.String(), required=True)
    stages = fields.List(fields.String(), required=True)
    languages = fields.List(fields.String(), required=True)
    timezone = fields.String(required=True)


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
    capacity = fields.Integer(metadata={"description": "Startups at once, 0 to 50; default 2"})
    hours_per_month = fields.Integer(metadata={"description": "0 to 200; default 4"})
    timezone = fields.String(metadata={"description": "IANA name; default the organisation's"})


class MentorIn(MentorFields):
    email = fields.Email(required=True, metadata={"description": "A member of the organisation"})


class MatchingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    weights = fields.Dict(keys=fields.String(validate=validate.OneOf(matching.CRITERIA)), values=fields.Float(),
                          load_default=dict)
    per_startup = fields.Integer(load_default=2)
    participation_first = fields.Boolean(load_default=False)


class ProposedMatch(Schema):
    id = fields.Integer(required=True)
    startup_id = fields.Integer(required=True)
    mentor_id = fields.Integer(required=True)
    score = fields.Float(required=True)
    status = fields.String(required=True)
    reasons = fields.List(fields.String(), required=True)
    reason_details = fields.List(fields.Dict(), required=True)


class MatchingOut(Schema):
    run_id = fields.Integer(required=True)
    total_score = fields.Float(required=True)
    matches = fields.List(fields.Nested(ProposedMatch), required=True)
    unmatched = fields.List(fields.Integer(), required=True)


class SessionIn(Schema):
    class Meta:
        unknown = EXCLUDE

    match_id = fields.Integer(required=True)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    duration_minutes = fields.Integer(load_default=60)
    format = fields.String(load_default=SessionFormat.IN_PERSON, validate=validate.OneOf([f.value for f in
                                                                                            SessionFormat]))
    location = fields.String(load_default="", validate=validate.Length(max=255))
    topics = fields.String(load_default="", validate=validate.Length(max=500))


class SessionOut(Schema):
    id = fields.Integer(required=True)
    match_id = fields.Integer(required=True)
    startup_id = fields.Integer(required=True)
    mentor_id = fields.Integer(required=True)
    starts_at = fields.DateTime(required=True)
    ends_at = fields.DateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    format = fields.String(required=True)
    status = fields.String(required=True)
    rating = fields.Integer(allow_none=True)


class MatchOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    mentor_accepted = fields.Boolean(allow_none=True)
    founder_accepted = fields.Boolean(allow_none=True)


def _mentor_out(p: MentorProfile) -> dict[str, Any]:
    return {"id": p.id, "user_id": p.user_id, "name": p.user.name, "headline": p.headline, "capacity": p.capacity,
            "hours_per_month": p.hours_per_month, "tags": p.expertise, "industries": p.industries,
            "stages": p.stages, "languages": p.languages, "timezone": p.timezone, "bio": p.bio,
            "affiliation": p.affiliation}


def _session_out(s: MentorSession) -> dict[str, Any]:
    return {"id": s.id, "match_id": s.match_id, "startup_id": s.match.startup_id, "mentor_id": s.mentor_id,
            "starts_at": s.starts_at, "ends_at": s.ends_at, "duration_minutes": s.duration_minutes,
            "format": str(s.format), "status": str(s.status), "rating": s.rating}


def _manager() -> bool:
    return g.membership.has(Permission.MANAGE_MENTORING)


def _visible_match(match_id: int) -> Match:
    match = get_or_404(Match, match_id)
    mine = match.mentor.user_id == g.api_user.id or match.startup.has_founder(g.api_user)
    if not (_manager() or mine) or (match.status in (MatchStatus.PROPOSED, MatchStatus.LOCKED) and not _manager()):
        abort(404)
    return match


@bp.route("/mentors")
@bp.response(200, MentorOut(many=True))
@errors(NOT_FOUND)
def list_mentors() -> Any:
    if not (_manager() or g.membership.has(Permission.MENTOR_STARTUPS)):
        abort(404)
    stmt = select(MentorProfile).where(MentorProfile.org_id == g.org.id).order_by(MentorProfile.id)
    if not _manager():
        stmt = stmt.where(MentorProfile.user_id == g.api_user.id)
    return [_mentor_out(p) for p in db.session.execute(stmt).scalars()]


def _profile_changes(data: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {name: data[name] for name in (
        "headline", "bio", "affiliation", "industries", "stages", "languages", "capacity", "hours_per_month",
        "timezone") if name in data}
    if "tags" in data:
        changes["expertise"] = data["tags"]
    return changes


@bp.route("/mentors", methods=["POST"])
@bp.arguments(MentorIn)
@bp.response(201, MentorOut)
@errors(NOT_FOUND, INVALID)
def save_mentor(data: dict[str, Any]) -> Any:
    """Create or update the mentor profile of a member (managers, or mentors for themselves).

    A partial update: fields left out keep their value (a new profile takes the defaults). Answers 201
    whether it created or updated; `PATCH /mentors/{id}` is the update by id."""
    user = get_user_by_email(db.session, data["email"])
    if user is None or find_membership(user, g.org) is None:
        raise DomainError("No member with this email", fields={"email": "No member with this email."})
    if not (_manager() or (user.id == g.api_user.id and g.membership.has(Permission.MENTOR_STARTUPS))):
        abort(404)
    return _mentor_out(services.save_profile(db.session, g.org, user, **_profile_changes(data)))


def own_or_managed_profile(view: Any) -> Any:
    """Resolve ``mentor_profile_id`` (404 unless a manager or the mentor) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        profile = get_or_404(MentorProfile, kwargs["mentor_profile_id"])
        if not (_manager() or profile.user_id == g.api_user.id):
            abort(404)
        g.mentor_profile = profile
        return view(*args, **kwargs)

    return wrapper


@bp.route("/mentors/<int:mentor_profile_id>", methods=["PATCH"])
@own_or_managed_profile
@bp.arguments(MentorFields)
@bp.response(200, MentorOut)
@errors(NOT_FOUND, INVALID)
def update_mentor(data: dict[str, Any], mentor_profile_id: int) -> Any:
    """Change some fields of a mentor profile (managers, or the mentor); the others are left alone."""
    profile = g.mentor_profile
    return _mentor_out(services.save_profile(db.session, g.org, profile.user, **_profile_changes(data)))


@bp.route("/cohorts/<int:cohort_id>/matching", methods=["POST"])
@bp.arguments(MatchingIn)
@bp.response(200, MatchingOut)
@errors(NOT_FOUND, INVALID)
def run_matching(data: dict[str, Any], cohort_id: int) -> Any:
    """Run the matching for a cohort: a proposal (publishing is separate)."""
    if not _manager():
        abort(404)
    cohort = get_or_404(Cohort, cohort_id)
    today = to_local(utcnow(), g.org.timezone).date()
    weights = {**matching.DEFAULT_WEIGHTS, **data["weights"]}
    run = services.run_matching(db.session, g.org, cohort, g.api_user, weights=weights,
                                per_startup=data["per_startup"], participation_first=data["participation_first"],
                                today=today)
    matches = db.session.execute(select(Match).where(Match.cohort_id == cohort.id, Match.status.in_(
        (MatchStatus.PROPOSED, MatchStatus.LOCKED, MatchStatus.PUBLISHED, MatchStatus.ACCEPTED)))
        .order_by(Match.startup_id, Match.mentor_id)).scalars().all()
    return {"run_id": run.id, "total_score": run.total_score, "unmatched": run.unmatched, "matches": [
        {"id": m.id, "startup_id": m.startup_id, "mentor_id": m.mentor_id, "score": m.score, "status": str(m.status),
         "reasons": [labels.reason_text(r) for r in m.reasons if r.get("points", 0) > 0 or r["criterion"] == "manual"],
         "reason_details": m.reasons} for m in matches]}


@bp.route("/matches/<int:match_id>/accept", methods=["POST"], defaults={"accept": True})
@bp.route("/matches/<int:match_id>/decline", methods=["POST"], defaults={"accept": False})
@bp.response(200, MatchOut)
@errors(NOT_FOUND, (403, "Only the mentor and the startup's founders answer"), (422, "Not open for an answer"))
def answer(match_id: int, accept: bool) -> Any:
    match = _visible_match(match_id)
    services.respond(match, g.api_user, accept)
    return {"id": match.id, "status": str(match.status), "mentor_accepted": match.mentor_accepted,
            "founder_accepted": match.founder_accepted}


@bp.route("/sessions")
@bp.response(200, SessionOut(many=True))
@errors(NOT_FOUND)
def list_sessions() -> Any:
    stmt = select(MentorSession).join(MentorSession.match).where(MentorSession.org_id == g.org.id)
    if not _manager():
        mine = select(MentorProfile.id).where(MentorProfile.user_id == g.api_user.id)
        founder_of = select(StartupFounder.startup_id).where(StartupFounder.user_id == g.api_user.id)
        stmt = stmt.where(or_(MentorSession.mentor_id.in_(mine), Match.startup_id.in_(founder_of)))
    return [_session_out(s) for s in db.session.execute(stmt.order_by(MentorSession.starts_at)).scalars()]


@bp.route("/sessions", methods=["POST"])
@bp.arguments(SessionIn)
@bp.response(201, SessionOut)
@errors(NOT_FOUND, (409, "The mentor has another session at that time"), INVALID)
def create_session(data: dict[str, Any]) -> Any:
    match = _visible_match(data["match_id"])
    record = services.schedule_session(db.session, match, starts_at=data["starts_at"],
                                       duration_minutes=data["duration_minutes"], format=data["format"],
                                       location=data["location"], topics=data["topics"])
    notifications.invite(record)
    return _session_out(record)


# -- changing a session: cancel, move, log, rate ------------------------------------------------------

class RescheduleIn(Schema):
    class Meta:
        unknown = EXCLUDE

    starts_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    duration_minutes = fields.Integer(metadata={"description": "Left out: the same duration"})


class ActionIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=255))
    owner = fields.String(load_default="startup", validate=validate.OneOf(["startup", "mentor"]))
    due_on = fields.Date(load_default=None, allow_none=True)


class LogIn(Schema):
    class Meta:
        unknown = EXCLUDE

    notes = fields.String(load_default="")
    topics = fields.String(load_default=None, validate=validate.Length(max=500),
                           metadata={"description": "Left out: the topics planned"})
    duration_minutes = fields.Integer(load_default=None, metadata={"description": "Left out: the planned duration"})
    action_items = fields.List(fields.Nested(ActionIn), load_default=list)


class RatingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    rating = fields.Integer(required=True, metadata={"description": "1 to 5"})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


def _visible_session(mentor_session_id: int) -> MentorSession:
    record = get_or_404(MentorSession, mentor_session_id)
    _visible_match(record.match_id)
    return record


def visible_session(view: Any) -> Any:
    """Resolve ``mentor_session_id`` (404 if the caller may not see it) before the body is even parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.mentor_session = _visible_session(kwargs["mentor_session_id"])
        return view(*args, **kwargs)

    return wrapper


@bp.route("/sessions/<int:mentor_session_id>")
@bp.response(200, SessionOut)
@errors(NOT_FOUND)
def get_session(mentor_session_id: int) -> Any:
    return _session_out(_visible_session(mentor_session_id))


@bp.route("/sessions/<int:mentor_session_id>", methods=["PATCH"])
@visible_session
@bp.arguments(RescheduleIn)
@bp.response(200, SessionOut)
@errors(NOT_FOUND, (403, "Only the mentor, the startup's founders and managers"),
        (409, "Not scheduled, or the mentor has another session at that time"),
        (422, "In the past, outside the mentor's availability, or invalid fields"))
def reschedule_session(data: dict[str, Any], mentor_session_id: int) -> Any:
    """Move a session still to come. The others get an updated invitation (same UID, SEQUENCE bumped)."""
    record = g.mentor_session
    services.reschedule_session(db.session, record, g.api_user, manager=_manager(), starts_at=data["starts_at"],
                                duration_minutes=data.get("duration_minutes"), now=utcnow())
    notifications.rescheduled(record, g.api_user)
    return _session_out(record)


@bp.route("/sessions/<int:mentor_session_id>/cancel", methods=["POST"])
@bp.response(200, SessionOut)
@errors(NOT_FOUND, (403, "Only the mentor, the startup's founders and managers"), (409, "Not scheduled"),
        (422, "Already started (`session_in_past`)"))
def cancel_session(mentor_session_id: int) -> Any:
    """Cancel a session still to come. The others get a cancellation (METHOD:CANCEL, same UID)."""
    record = _visible_session(mentor_session_id)
    services.cancel_session(db.session, record, g.api_user, manager=_manager(), now=utcnow())
    notifications.cancelled(record, g.api_user)
    return _session_out(record)


@bp.route("/sessions/<int:mentor_session_id>/log", methods=["POST"])
@visible_session
@bp.arguments(LogIn)
@bp.response(200, SessionOut)
@errors(NOT_FOUND, (403, "Only the mentor logs the session"), (409, "Cancelled (`session_cancelled`)"),
        (422, "Not started yet (`session_in_future`), or invalid fields"))
def log_session(data: dict[str, Any], mentor_session_id: int) -> Any:
    """The mentor logs a session that has started: notes, topics, duration, action items. It is then held."""
    record = g.mentor_session
    services.log_session(record, g.api_user, notes=data["notes"],
                         topics=record.topics if data["topics"] is None else data["topics"],
                         duration_minutes=data["duration_minutes"] or record.duration_minutes,
                         actions=[(a["title"], a["owner"], a["due_on"]) for a in data["action_items"]], now=utcnow())
    db.session.flush()
    return _session_out(record)


@bp.route("/sessions/<int:mentor_session_id>/rating", methods=["POST"])
@visible_session
@bp.arguments(RatingIn)
@bp.response(200, SessionOut)
@errors(NOT_FOUND, (403, "Only the startup rates its sessions"), (409, "Already rated (`already_rated`)"),
        (422, "Not held yet (`not_held`), or a rating outside 1 to 5"))
def rate_session(data: dict[str, Any], mentor_session_id: int) -> Any:
    """The startup rates a held session, once."""
    record = g.mentor_session
    services.rate_session(record, g.api_user, data["rating"], data["comment"])
    return _session_out(record)


# -- conflicts of interest ----------------------------------------------------------------------------

class ConflictIn(Schema):
    class Meta:
        unknown = EXCLUDE

    mentor_id = fields.Integer(required=True)
    startup_id = fields.Integer(required=True)
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


def _own_profile() -> MentorProfile | None:
    return db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id,
                                                          MentorProfile.user_id == g.api_user.id)).scalar_one_or_none()


@bp.route("/mentor-conflicts")
@bp.response(200, ConflictOut(many=True))
@errors(NOT_FOUND)
def list_conflicts() -> Any:
    """Conflicts of interest with who recorded them and when: managers see all, a mentor their own."""
    if _manager():
        mentor = None
    else:
        mentor = _own_profile()
        if mentor is None:
            abort(404)
    return [_conflict_out(c) for c in services.conflicts_for(db.session, g.org, mentor)]


@bp.route("/mentor-conflicts", methods=["POST"])
@bp.arguments(ConflictIn)
@bp.response(201, ConflictOut)
@errors(NOT_FOUND, (409, "Already recorded (`conflict_exists`)"), INVALID)
def record_conflict(data: dict[str, Any]) -> Any:
    """Record a conflict of interest (managers, or the mentor for themselves). Any live match of the pair
    ends and its sessions still to come are cancelled; both sides are told."""
    profile = get_or_404(MentorProfile, data["mentor_id"])
    if not (_manager() or profile.user_id == g.api_user.id):
        abort(404)
    startup = get_or_404(Startup, data["startup_id"])
    conflict = services.record_conflict(db.session, profile, startup, data["kind"], data["reason"], g.api_user,
                                        now=utcnow(), on_cancel=lambda s: notifications.cancelled(s, None))
    return _conflict_out(conflict)


@bp.route("/mentor-conflicts/<int:mentor_conflict_id>", methods=["DELETE"])
@bp.response(204)
@errors(NOT_FOUND)
def delete_conflict(mentor_conflict_id: int) -> Any:
    """Remove a conflict of interest (managers, or the mentor for their own)."""
    conflict = get_or_404(MentorConflict, mentor_conflict_id)
    if not (_manager() or conflict.mentor.user_id == g.api_user.id):
        abort(404)
    services.remove_conflict(db.session, conflict)
    return None
