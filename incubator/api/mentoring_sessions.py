"""Mentor sessions (schedule, read, move, cancel, log, rate) and action items over the API.

A session or an action item is seen by whoever sees its match (``mentoring.access``; 404 otherwise);
who may change, log or rate it is the services' rule (403 otherwise), the same as on the pages.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, url_for
from marshmallow import EXCLUDE, Schema, fields, validate

from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.api.schemas import COUNT, ID
from incubator.core.db import utcnow
from incubator.core.permissions import Permission, require
from incubator.extensions import db
from incubator.mentoring import access, mentor_sessions, notifications, services
from incubator.mentoring.models import ActionItem, MentorSession, SessionFormat, SessionStatus

bp = api_blueprint("api_mentoring_sessions", __name__, org=True, description="Mentor sessions and action items")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


NOT_FOUND = (404, "Not found, or not visible to the caller")
INVALID = (422, "Invalid fields; `fields` names them")
CHANGERS = (403, "Only the mentor, the startup's founders and managers")
LOCATION = {"Location": {"description": "The new session's address", "schema": {"type": "string"}}}


class SessionIn(Schema):
    class Meta:
        unknown = EXCLUDE

    match_id = fields.Integer(required=True, validate=ID)
    starts_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    duration_minutes = fields.Integer(load_default=60, validate=COUNT)
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


class ActionItemOut(Schema):
    id = fields.Integer(required=True)
    session_id = fields.Integer(required=True)
    match_id = fields.Integer(required=True)
    title = fields.String(required=True)
    owner = fields.String(required=True, metadata={"description": "`startup` or `mentor`"})
    due_on = fields.Date(allow_none=True)
    done = fields.Boolean(required=True)
    done_at = fields.DateTime(allow_none=True)


class SessionDetail(SessionOut):
    """What the session's page shows."""

    startup_name = fields.String(required=True)
    mentor_name = fields.String(required=True)
    mentor_timezone = fields.String(required=True)
    local_starts_at = fields.String(required=True, metadata={"description": "Start in the mentor's time zone"})
    location = fields.String(required=True)
    topics = fields.String(required=True)
    notes = fields.String(required=True)
    rating_comment = fields.String(required=True)
    action_items = fields.List(fields.Nested(ActionItemOut), required=True,
                               metadata={"description": "Set at this session"})
    agenda = fields.List(fields.Nested(ActionItemOut), required=True,
                         metadata={"description": "The match's open items"})
    can_change = fields.Boolean(required=True, metadata={"description": "The caller may cancel or move it now"})
    can_log = fields.Boolean(required=True)
    can_rate = fields.Boolean(required=True)


class SessionQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    from_ = fields.Date(data_key="from", load_default=None,
                        metadata={"description": "Starting on or after this day (the organisation's time zone)"})
    to = fields.Date(load_default=None, metadata={"description": "Starting on or before this day"})
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in SessionStatus]))
    match_id = fields.Integer(load_default=None, validate=ID)


def _session_out(s: MentorSession) -> dict[str, Any]:
    return {"id": s.id, "match_id": s.match_id, "startup_id": s.match.startup_id, "mentor_id": s.mentor_id,
            "starts_at": s.starts_at, "ends_at": s.ends_at, "duration_minutes": s.duration_minutes,
            "format": str(s.format), "status": str(s.status), "rating": s.rating}


def _item_out(item: ActionItem) -> dict[str, Any]:
    return {"id": item.id, "session_id": item.session_id, "match_id": item.match_id, "title": item.title,
            "owner": item.owner, "due_on": item.due_on, "done": item.done_at is not None, "done_at": item.done_at}


def _session_detail(s: MentorSession) -> dict[str, Any]:
    now = utcnow()
    upcoming = s.status == SessionStatus.SCHEDULED and services.as_utc(s.starts_at) > now
    mentor = s.match.mentor
    return {**_session_out(s), "startup_name": s.match.startup.name, "mentor_name": mentor.user.name,
            "mentor_timezone": mentor.timezone,
            "local_starts_at": services.as_utc(s.starts_at).astimezone(ZoneInfo(mentor.timezone)).isoformat(),
            "location": s.location, "topics": s.topics, "notes": s.notes, "rating_comment": s.rating_comment,
            "action_items": [_item_out(i) for i in s.action_items],
            "agenda": [_item_out(i) for i in mentor_sessions.open_action_items(db.session, s.match)],
            "can_change": upcoming and access.may_change_session(s),
            "can_log": s.status != SessionStatus.CANCELLED and access.may_log_session(s),
            "can_rate": s.status == SessionStatus.HELD and s.rating is None and access.may_rate_session(s)}


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(g.org.timezone or "Asia/Ho_Chi_Minh"))


@bp.route("/sessions")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(SessionQuery, location="query")
@bp.response(200, SessionOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, INVALID)
def list_sessions(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """The sessions of the matches the caller may see, by start; by days (`from`, `to`), status and match."""
    stmt = access.visible_sessions_stmt(db.session, g.org)
    if query["from_"] is not None:
        stmt = stmt.where(MentorSession.starts_at >= _day_start(query["from_"]))
    if query["to"] is not None:
        stmt = stmt.where(MentorSession.starts_at < _day_start(query["to"] + timedelta(days=1)))
    if query["status"] is not None:
        stmt = stmt.where(MentorSession.status == query["status"])
    if query["match_id"] is not None:
        stmt = stmt.where(MentorSession.match_id == query["match_id"])
    stmt = stmt.order_by(MentorSession.starts_at, MentorSession.id)
    return [_session_out(s) for s in api_page(stmt, pagination_parameters)]


@bp.route("/sessions", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(SessionIn)
@bp.response(201, SessionOut, headers=LOCATION)
@errors(NOT_FOUND, (409, "The mentor has another session at that time"), INVALID)
def create_session(data: dict[str, Any]) -> Any:
    """Schedule a session of a published match (the mentor, a founder or a manager); everyone is invited."""
    match = access.visible_match_or_404(data["match_id"])
    record = mentor_sessions.schedule_session(db.session, match, starts_at=data["starts_at"],
                                       duration_minutes=data["duration_minutes"], format=data["format"],
                                       location=data["location"], topics=data["topics"])
    notifications.invite(record)
    return _session_out(record), 201, {"Location": url_for("api_mentoring_sessions.get_session", org=g.org.slug,
                                                           mentor_session_id=record.id)}


# -- changing a session: cancel, move, log, rate ------------------------------------------------------

class RescheduleIn(Schema):
    class Meta:
        unknown = EXCLUDE

    starts_at = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset"})
    duration_minutes = fields.Integer(validate=COUNT, metadata={"description": "Left out: the same duration"})


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
    duration_minutes = fields.Integer(load_default=None, validate=COUNT,
                                      metadata={"description": "Left out: the planned duration"})
    action_items = fields.List(fields.Nested(ActionIn), load_default=list)


class RatingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    rating = fields.Integer(required=True, metadata={"description": "1 to 5", "minimum": 1, "maximum": 5})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


def visible_session(view: Any) -> Any:
    """Resolve ``mentor_session_id`` (404 if the caller may not see it) before the body is even parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.mentor_session = access.visible_session_or_404(kwargs["mentor_session_id"])
        return view(*args, **kwargs)

    return wrapper


@bp.route("/sessions/<int:mentor_session_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, SessionDetail)
@errors(NOT_FOUND)
def get_session(mentor_session_id: int) -> Any:
    """A session as its page shows it: notes, action items, the match's open items, what the caller may do."""
    return _session_detail(access.visible_session_or_404(mentor_session_id))


@bp.route("/sessions/<int:mentor_session_id>", methods=["PATCH"])
@require(Permission.VIEW_DASHBOARD)
@visible_session
@bp.arguments(RescheduleIn)
@bp.response(200, SessionOut)
@errors(NOT_FOUND, CHANGERS, (409, "Not scheduled, or the mentor has another session at that time"),
        (422, "In the past, outside the mentor's availability, or invalid fields"))
def reschedule_session(data: dict[str, Any], mentor_session_id: int) -> Any:
    """Move a session still to come. The others get an updated invitation (same UID, SEQUENCE bumped)."""
    record = g.mentor_session
    mentor_sessions.reschedule_session(db.session, record, g.api_user, manager=access.is_manager(),
                                starts_at=data["starts_at"], duration_minutes=data.get("duration_minutes"),
                                now=utcnow())
    notifications.rescheduled(record, g.api_user)
    return _session_out(record)


@bp.route("/sessions/<int:mentor_session_id>/cancel", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, SessionOut)
@errors(NOT_FOUND, CHANGERS, (409, "Not scheduled"), (422, "Already started (`session_in_past`)"))
def cancel_session(mentor_session_id: int) -> Any:
    """Cancel a session still to come. The others get a cancellation (METHOD:CANCEL, same UID)."""
    record = access.visible_session_or_404(mentor_session_id)
    mentor_sessions.cancel_session(db.session, record, g.api_user, manager=access.is_manager(), now=utcnow())
    notifications.cancelled(record, g.api_user)
    return _session_out(record)


@bp.route("/sessions/<int:mentor_session_id>/log", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@visible_session
@bp.arguments(LogIn)
@bp.response(200, SessionOut)
@errors(NOT_FOUND, (403, "Only the mentor logs the session"), (409, "Cancelled (`session_cancelled`)"),
        (422, "Not started yet (`session_in_future`), or invalid fields"))
def log_session(data: dict[str, Any], mentor_session_id: int) -> Any:
    """The mentor logs a session that has started: notes, topics, duration, action items. It is then held."""
    record = g.mentor_session
    mentor_sessions.log_session(record, g.api_user, notes=data["notes"],
                         topics=record.topics if data["topics"] is None else data["topics"],
                         duration_minutes=data["duration_minutes"] or record.duration_minutes,
                         actions=[(a["title"], a["owner"], a["due_on"]) for a in data["action_items"]], now=utcnow())
    db.session.flush()
    return _session_out(record)


@bp.route("/sessions/<int:mentor_session_id>/rating", methods=["POST"])
@require(Permission.VIEW_DASHBOARD)
@visible_session
@bp.arguments(RatingIn)
@bp.response(200, SessionOut)
@errors(NOT_FOUND, (403, "Only the startup rates its sessions"), (409, "Already rated (`already_rated`)"),
        (422, "Not held yet (`not_held`), or a rating outside 1 to 5"))
def rate_session(data: dict[str, Any], mentor_session_id: int) -> Any:
    """The startup rates a held session, once."""
    record = g.mentor_session
    mentor_sessions.rate_session(record, g.api_user, data["rating"], data["comment"])
    return _session_out(record)


# -- action items -------------------------------------------------------------------------------------

class ActionItemQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    match_id = fields.Integer(load_default=None, validate=ID)
    session_id = fields.Integer(load_default=None, validate=ID)
    done = fields.Boolean(load_default=None, metadata={"description": "Only done (`true`) or open (`false`) ones"})
    owner = fields.String(load_default=None, validate=validate.OneOf(["startup", "mentor"]))


class ActionItemPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    done = fields.Boolean(required=True)


@bp.route("/action-items")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(ActionItemQuery, location="query")
@bp.response(200, ActionItemOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, INVALID)
def list_action_items(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """Action items of the matches the caller may see, by due day; by match, session, done and owner."""
    stmt = access.visible_action_items_stmt(db.session, g.org)
    for name, column in (("match_id", ActionItem.match_id), ("session_id", ActionItem.session_id),
                         ("owner", ActionItem.owner)):
        if query[name] is not None:
            stmt = stmt.where(column == query[name])
    if query["done"] is not None:
        stmt = stmt.where(ActionItem.done_at.is_not(None) if query["done"] else ActionItem.done_at.is_(None))
    stmt = stmt.order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
    return [_item_out(i) for i in api_page(stmt, pagination_parameters)]


def visible_item(view: Any) -> Any:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.action_item = access.visible_action_item_or_404(kwargs["action_item_id"])
        return view(*args, **kwargs)

    return wrapper


@bp.route("/action-items/<int:action_item_id>", methods=["PATCH"])
@require(Permission.VIEW_DASHBOARD)
@visible_item
@bp.arguments(ActionItemPatch)
@bp.response(200, ActionItemOut)
@errors(NOT_FOUND, INVALID)
def update_action_item(data: dict[str, Any], action_item_id: int) -> Any:
    """Mark an action item done, or open again (the mentor, the founders, managers)."""
    item = mentor_sessions.set_action_done(g.action_item, data["done"], utcnow())
    db.session.flush()
    return _item_out(item)

