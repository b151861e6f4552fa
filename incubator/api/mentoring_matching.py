"""The cohort's matching (run, read, lock, replace a mentor, publish) and matches over the API.

Running, reading and changing a matching is for managers (``MANAGE_MENTORING``, 403 otherwise), as
on the page; a match is seen by whoever ``mentoring.access`` lets see it (404 otherwise).
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, g, jsonify, url_for
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.api.schemas import COUNT, ID
from incubator.cohorts.models import Cohort
from incubator.core.db import utcnow
from incubator.core.errors import DomainError
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404
from incubator.core.timezones import to_local
from incubator.extensions import db
from incubator.mentoring import access, criteria, labels, mentor_sessions, notifications, pairing, tasks
from incubator.mentoring.models import Match, MatchRun, MatchRunStatus, MatchStatus, MentorProfile

bp = api_blueprint("api_mentoring_matching", __name__, org=True, description="Mentor matching and matches")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


NOT_FOUND = (404, "Not found, or not visible to the caller")
INVALID = (422, "Invalid fields; `fields` names them")
MANAGERS = (403, "Only managers of mentoring")
NOT_A_PROPOSAL = (422, "Not a proposal any more (`not_a_proposal`), or invalid fields")


class MatchingIn(Schema):
    class Meta:
        unknown = EXCLUDE

    weights = fields.Dict(keys=fields.String(validate=validate.OneOf(criteria.CRITERIA)), values=fields.Float(),
                          load_default=dict)
    per_startup = fields.Integer(load_default=2, validate=COUNT)
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


class RunOut(Schema):
    id = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    published_at = fields.DateTime(allow_none=True)
    total_score = fields.Float(required=True)
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    per_startup = fields.Integer(required=True)
    participation_first = fields.Boolean(required=True)
    unmatched = fields.List(fields.Integer(), required=True, metadata={"description": "Startups left without"})
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in MatchRunStatus]),
                           metadata={"description": "`queued`/`running` while a job runs it, then `done` or `failed`"})
    progress = fields.Integer(required=True, metadata={"description": "Percent done"})


class RunStatusOut(RunOut):
    cohort_id = fields.Integer(required=True)
    finished_at = fields.DateTime(allow_none=True)


class MatchDetail(ProposedMatch):
    cohort_id = fields.Integer(required=True)
    startup_name = fields.String(required=True)
    mentor_name = fields.String(required=True)
    mentor_accepted = fields.Boolean(allow_none=True)
    founder_accepted = fields.Boolean(allow_none=True)
    stale = fields.Boolean(metadata={"description": "No session for 21 days (matching view only)"})
    created_at = fields.DateTime(required=True)


class CohortMatchingOut(Schema):
    run = fields.Nested(RunOut, allow_none=True, required=True, metadata={"description": "The latest run"})
    matches = fields.List(fields.Nested(MatchDetail), required=True)


class MatchOut(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True)
    mentor_accepted = fields.Boolean(allow_none=True)
    founder_accepted = fields.Boolean(allow_none=True)


class PublishedOut(Schema):
    published = fields.Integer(required=True, metadata={"description": "Matches published now"})


class ReplaceIn(Schema):
    class Meta:
        unknown = EXCLUDE

    mentor_id = fields.Integer(required=True, validate=ID,
                               metadata={"description": "The mentor profile to put instead"})


class MatchQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    cohort_id = fields.Integer(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in MatchStatus]))


def _reasons(match: Match) -> list[str]:
    return [labels.reason_text(r) for r in match.reasons if r.get("points", 0) > 0 or r["criterion"] == "manual"]


def _proposed(m: Match) -> dict[str, Any]:
    return {"id": m.id, "startup_id": m.startup_id, "mentor_id": m.mentor_id, "score": m.score,
            "status": str(m.status), "reasons": _reasons(m), "reason_details": m.reasons}


def _detail(m: Match, stale: set[int] | None = None) -> dict[str, Any]:
    out = {**_proposed(m), "cohort_id": m.cohort_id, "startup_name": m.startup.name, "mentor_name": m.mentor.user.name,
           "mentor_accepted": m.mentor_accepted, "founder_accepted": m.founder_accepted, "created_at": m.created_at}
    if stale is not None:
        out["stale"] = m.id in stale
    return out


def _run_out(run: MatchRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"id": run.id, "created_at": run.created_at, "published_at": run.published_at,
            "total_score": run.total_score, "weights": run.weights, "per_startup": run.per_startup,
            "participation_first": run.participation_first, "unmatched": run.unmatched,
            "status": str(run.status), "progress": run.progress}


def _run_status_out(run: MatchRun) -> dict[str, Any]:
    return {**(_run_out(run) or {}), "cohort_id": run.cohort_id, "finished_at": run.finished_at}


def _answer_out(match: Match) -> dict[str, Any]:
    return {"id": match.id, "status": str(match.status), "mentor_accepted": match.mentor_accepted,
            "founder_accepted": match.founder_accepted}


def resolved(view: Any) -> Any:
    """Resolve ``cohort_id`` / ``match_id`` (404 when out of sight) before the body is even parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "cohort_id" in kwargs:
            g.cohort = get_or_404(Cohort, kwargs["cohort_id"])
        if "match_id" in kwargs:
            g.match = access.visible_match_or_404(kwargs["match_id"])
        return view(*args, **kwargs)

    return wrapper


# -- the cohort's matching ----------------------------------------------------------------------------

@bp.route("/cohorts/<int:cohort_id>/matching")
@require(Permission.MANAGE_MENTORING)
@bp.response(200, CohortMatchingOut)
@errors(NOT_FOUND, MANAGERS)
def get_matching(cohort_id: int) -> Any:
    """The cohort's latest matching run and every match of the cohort (proposals, locks, published,
    answered, ended), as the matching page shows them."""
    cohort = get_or_404(Cohort, cohort_id)
    stale = {m.id for m in mentor_sessions.stale_matches(db.session, cohort, utcnow())}
    return {"run": _run_out(pairing.latest_run(db.session, cohort)),
            "matches": [_detail(m, stale) for m in pairing.cohort_matches(db.session, cohort)]}


@bp.route("/cohorts/<int:cohort_id>/matching", methods=["POST"])
@require(Permission.MANAGE_MENTORING)
@resolved
@bp.arguments(MatchingIn)
@bp.response(200, MatchingOut)
@bp.alt_response(202, schema=RunStatusOut, description="A large cohort (`MATCHING_JOB_MIN_PAIRS` startup x mentor "
                 "pairs or more): a job runs the matching; poll the run at `Location` until its `status` is "
                 "`done` (then GET the matching) or `failed`")
@errors(NOT_FOUND, MANAGERS, INVALID)
def run_matching(data: dict[str, Any], cohort_id: int) -> Any:
    """Run the matching for a cohort: a proposal (publishing is separate). Large cohorts are run by a job."""
    cohort = g.cohort
    today = to_local(utcnow(), g.org.timezone).date()
    weights = {**criteria.DEFAULT_WEIGHTS, **data["weights"]}
    run = tasks.start_matching(db.session, g.org, cohort, g.api_user, weights=weights,
                               per_startup=data["per_startup"], participation_first=data["participation_first"],
                               today=today)
    if run.status != MatchRunStatus.DONE:
        answer = jsonify(RunStatusOut().dump(_run_status_out(run)))
        answer.status_code = 202
        answer.headers["Location"] = url_for("api_mentoring_matching.get_run", org=g.org.slug,
                                              cohort_id=cohort.id, match_run_id=run.id)
        return answer
    matches = db.session.execute(select(Match).where(Match.cohort_id == cohort.id, Match.status.in_(
        (MatchStatus.PROPOSED, MatchStatus.LOCKED, MatchStatus.PUBLISHED, MatchStatus.ACCEPTED)))
        .order_by(Match.startup_id, Match.mentor_id)).scalars().all()
    return {"run_id": run.id, "total_score": run.total_score, "unmatched": run.unmatched,
            "matches": [_proposed(m) for m in matches]}


@bp.route("/cohorts/<int:cohort_id>/matching/runs/<int:match_run_id>")
@require(Permission.MANAGE_MENTORING)
@bp.response(200, RunStatusOut)
@errors(NOT_FOUND, MANAGERS)
def get_run(cohort_id: int, match_run_id: int) -> Any:
    """One matching run of the cohort: its status and progress while a job runs it, its result after."""
    cohort = get_or_404(Cohort, cohort_id)
    run = get_or_404(MatchRun, match_run_id)
    if run.cohort_id != cohort.id:
        abort(404)
    return _run_status_out(run)


@bp.route("/cohorts/<int:cohort_id>/matching/publish", methods=["POST"])
@require(Permission.MANAGE_MENTORING)
@bp.response(200, PublishedOut)
@errors(NOT_FOUND, MANAGERS)
def publish(cohort_id: int) -> Any:
    """Publish the cohort's proposals (locked ones too): the mentors and founders are emailed to accept."""
    cohort = get_or_404(Cohort, cohort_id)
    return {"published": pairing.publish(db.session, cohort, notify=notifications.published)}


@bp.route("/matches/<int:match_id>/lock", methods=["POST"], defaults={"locked": True})
@bp.route("/matches/<int:match_id>/unlock", methods=["POST"], defaults={"locked": False})
@require(Permission.MANAGE_MENTORING)
@bp.response(200, MatchDetail)
@errors(NOT_FOUND, MANAGERS, NOT_A_PROPOSAL)
def lock(match_id: int, locked: bool) -> Any:
    """Lock a proposal (later runs keep it) or unlock it again."""
    match = access.visible_match_or_404(match_id)
    pairing.set_locked(match, locked)
    return _detail(match)


@bp.route("/matches/<int:match_id>/mentor", methods=["PUT"])
@require(Permission.MANAGE_MENTORING)
@resolved
@bp.arguments(ReplaceIn)
@bp.response(200, MatchDetail)
@errors(NOT_FOUND, MANAGERS, (422, "Not a proposal (`not_a_proposal`), a conflict of interest "
                                  "(`conflict_of_interest`), or an unknown mentor"))
def replace_mentor(data: dict[str, Any], match_id: int) -> Any:
    """Put another mentor on a proposal: the manager's own choice, kept (locked) in later runs."""
    match = g.match
    mentor = db.session.execute(select(MentorProfile).where(MentorProfile.org_id == g.org.id,
                                                            MentorProfile.id == data["mentor_id"])).scalar_one_or_none()
    if mentor is None:
        raise DomainError("No such mentor", fields={"mentor_id": "No mentor profile with this id."})
    pairing.replace_mentor(db.session, match, mentor)
    return _detail(match)


# -- matches --------------------------------------------------------------------------------------------

@bp.route("/matches")
@require(Permission.VIEW_DASHBOARD)
@bp.arguments(MatchQuery, location="query")
@bp.response(200, MatchDetail(many=True))
@bp.paginate()
@errors(NOT_FOUND, INVALID)
def list_matches(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """The matches the caller may see: every one for managers, their own once published for the
    mentor and the startup's founders; by cohort and status."""
    stmt = access.visible_matches_stmt(db.session, g.org)
    if query["cohort_id"] is not None:
        stmt = stmt.where(Match.cohort_id == query["cohort_id"])
    if query["status"] is not None:
        stmt = stmt.where(Match.status == query["status"])
    return [_detail(m) for m in api_page(stmt.order_by(Match.id), pagination_parameters)]


@bp.route("/matches/<int:match_id>")
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, MatchDetail)
@errors(NOT_FOUND)
def get_match(match_id: int) -> Any:
    return _detail(access.visible_match_or_404(match_id))


@bp.route("/matches/<int:match_id>/accept", methods=["POST"], defaults={"accept": True})
@bp.route("/matches/<int:match_id>/decline", methods=["POST"], defaults={"accept": False})
@require(Permission.VIEW_DASHBOARD)
@bp.response(200, MatchOut)
@errors(NOT_FOUND, (403, "Only the mentor and the startup's founders answer"), (422, "Not open for an answer"))
def answer(match_id: int, accept: bool) -> Any:
    match = access.visible_match_or_404(match_id)
    pairing.respond(match, g.api_user, accept)
    return _answer_out(match)
