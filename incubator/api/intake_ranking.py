"""The pipeline list of a call over the API: its ranking, applications side by side, and the bulk
actions. Managers only (``MANAGE_PROGRAMMES``). Part of the ``api_intake`` blueprint
(``incubator.api.intake_common``).
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_login import current_user
from marshmallow import Schema, fields, validate

from incubator.api.intake_common import (
    FORBIDDEN,
    ID,
    INVALID,
    NOT_FOUND,
    Strict,
    bp,
    errors,
    lang,
    managed_call,
)
from incubator.core.pagination import MAX_PAGE
from incubator.core.permissions import Permission, require
from incubator.extensions import db
from incubator.intake import bulk, decisions, formspec, ranking
from incubator.intake.models import Stage

# -- schemas ---------------------------------------------------------------------------------------

class BulkIn(Strict):
    action = fields.String(required=True, validate=validate.OneOf(bulk.ACTIONS))
    application_ids = fields.List(fields.Integer(validate=ID), required=True, validate=validate.Length(max=1000))
    stage = fields.String(load_default="", validate=validate.Length(max=20), metadata={"description": "For `move`"})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))
    reviewer_id = fields.Integer(load_default=None, allow_none=True, validate=ID,
                                 metadata={"description": "For `assign`"})
    decision = fields.String(load_default="", validate=validate.Length(max=20), metadata={
        "description": "For `decide`: accepted, waitlisted or rejected"})
    cohort_id = fields.Integer(load_default=None, allow_none=True, validate=ID, metadata={
        "description": "For `decide`: the cohort accepted startups join (default: the call's)"})
    due_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "For `assign` and `auto_assign`: the day each review is wanted by, `YYYY-MM-DD` in the "
                       "organisation's time zone, today or later (`due_in_past`, `fields.due_on`); null: none"})


class SkippedOut(Schema):
    application_id = fields.Integer(required=True)
    message = fields.String(required=True)


class BulkOut(Schema):
    done = fields.Integer(required=True, metadata={"description": "Applications moved or decided, or assignments made"})
    skipped = fields.List(fields.Nested(SkippedOut), required=True, metadata={
        "description": "Applications the action did not apply to, and why (nothing of theirs changed)"})
    warnings = fields.List(fields.Nested(SkippedOut), required=True)


class RankingQuery(Strict):
    stage = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Stage]))
    sort = fields.String(load_default="total", validate=validate.OneOf(list(ranking.SORTS)))
    min_reviews = fields.Integer(load_default=0, validate=validate.Range(min=0, max=1000))


class RankingOut(Schema):
    application_id = fields.Integer(required=True)
    name = fields.String(required=True)
    applicant = fields.String(required=True)
    stage = fields.String(required=True)
    reviews = fields.Integer(required=True, metadata={"description": "Submitted reviews"})
    total = fields.Float(allow_none=True, metadata={"description": "Mean weighted total, 0 to 100"})
    normalised = fields.Float(allow_none=True, metadata={"description": "Mean of the reviewers' z-scores"})
    recommendations = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class CompareQuery(Strict):
    application_id = fields.List(fields.Integer(validate=ID), required=True, validate=validate.Length(min=1, max=6))


class CompareReviewOut(Schema):
    reviewer = fields.String(required=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    total = fields.Float(required=True)
    recommendation = fields.String(allow_none=True)


class CompareOut(RankingOut):
    answers = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "The choice answers as their labels, in the caller's language"})
    scored = fields.List(fields.Nested(CompareReviewOut), required=True)


# -- what the answers hold -------------------------------------------------------------------------

def _ranking_out(row: ranking.PageRow | ranking.Row) -> dict[str, Any]:
    return {"application_id": row.application_id, "name": row.name, "applicant": row.applicant_name,
            "stage": str(row.stage), "reviews": row.review_count, "total": row.total, "normalised": row.normalised,
            "recommendations": dict(row.recommendations)}


# -- operations ------------------------------------------------------------------------------------

@bp.route("/calls/<int:call_id>/ranking")
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(RankingQuery, location="query")
@bp.response(200, RankingOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def call_ranking(query: dict[str, Any], pagination_parameters: Any, call_id: int) -> Any:
    """The pipeline list's ranking: every submitted application with its weighted total and normalised
    score, in the page's order (`sort`), filtered by `stage` and `min_reviews`."""
    call = g.call
    rows = ranking.rank_page(db.session, call, page=min(pagination_parameters.page, MAX_PAGE),
                             per_page=pagination_parameters.page_size, stage=query["stage"], sort=query["sort"],
                             min_reviews=query["min_reviews"])
    pagination_parameters.item_count = rows.total
    return [_ranking_out(r) for r in rows.items]


@bp.route("/calls/<int:call_id>/compare")
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(CompareQuery, location="query")
@bp.response(200, CompareOut(many=True))
@errors(NOT_FOUND, FORBIDDEN)
def compare(query: dict[str, Any], call_id: int) -> Any:
    """Side by side (at most six): each application's reviews criterion by criterion and its choice answers."""
    call = g.call
    ids = set(query["application_id"])
    choices = [q for q in call.current_form.questions if q["type"] in formspec.CHOICE_TYPES]
    out = []
    for row in ranking.rank(db.session, call, only=ids):
        own = {q["key"]: q for q in row.application.form_version.questions}
        answers = {q["key"]: decisions.answer_text(own.get(q["key"], q), row.application.answers.get(q["key"]),
                                                   lang()) for q in choices}
        scored = [{"reviewer": r.reviewer.name, "scores": r.scores, "recommendation": r.recommendation,
                   "total": ranking.review_total(r, call.criteria)} for r in row.reviews]
        out.append({**_ranking_out(row), "answers": answers, "scored": scored})
    return out


@bp.route("/calls/<int:call_id>/bulk", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(BulkIn)
@bp.response(200, BulkOut)
@errors(NOT_FOUND, FORBIDDEN, INVALID)
def bulk_action(data: dict[str, Any], call_id: int) -> Any:
    """The pipeline list's bulk actions on some of the call's applications: `move` (to `stage`),
    `assign` (`reviewer_id`), `auto_assign` (the call's reviewers per application, least loaded first,
    never a conflicted one), both with an optional deadline `due_on` for each assignment they make,
    `decide` (`decision`, `cohort_id`). Each application is tried on its own: those refused are in
    `skipped` with the reason and keep nothing of it."""
    call = g.call
    result = bulk.run(db.session, call, bulk.chosen(db.session, call, data["application_ids"]), current_user,
                      g.membership, data["action"], stage=data["stage"], comment=data["comment"],
                      reviewer_id=data["reviewer_id"], decision=data["decision"], cohort_id=data["cohort_id"],
                      due_on=data["due_on"], locale=lang())
    return {"done": result.done,
            "skipped": [{"application_id": s.application.id, "message": s.message} for s in result.skipped],
            "warnings": [{"application_id": s.application.id, "message": s.message} for s in result.warnings]}
