"""Review over the API: managers assign reviewers and take assignments back; reviewers list theirs,
declare a conflict of interest and submit their scores; submitted reviews as each role may see them.
Part of the ``api_intake`` blueprint (``incubator.api.intake_common``).
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from incubator.accounts.models import User
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
    page_of,
    visible_application,
)
from incubator.api.paging import api_page
from incubator.core.errors import DomainError, NotFound
from incubator.core.permissions import Permission, require
from incubator.extensions import db
from incubator.intake import access, ranking, review
from incubator.intake.models import Application, Call, Review

# -- schemas ---------------------------------------------------------------------------------------

class ReviewIn(Strict):
    scores = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                         metadata={"description": "{criterion key: number on its scale}"})
    recommendation = fields.String(required=True, validate=validate.OneOf(["yes", "maybe", "no"]))
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


class ReviewOut(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    reviewer = fields.String(required=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    recommendation = fields.String(allow_none=True)
    comment = fields.String(required=True)
    total = fields.Float(required=True, metadata={"description": "Weighted total, 0 to 100"})


class MyReviewsQuery(Strict):
    mine = fields.Boolean(load_default=True, validate=validate.Equal(True), metadata={
        "description": "The caller's own assignments (the only list: managers read reviews per application)"})
    call_id = fields.Integer(load_default=None, validate=ID)


class ScoreLevelOut(Schema):
    score = fields.Integer(required=True)
    text = fields.String(required=True, metadata={"description": "What the score means, in the caller's language "
                                                                 "(else the other one)"})


class RubricCriterionOut(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "In the caller's language"})
    scale_min = fields.Integer(required=True)
    scale_max = fields.Integer(required=True)
    weight = fields.Float(required=True)
    levels = fields.List(fields.Nested(ScoreLevelOut), required=True, metadata={
        "description": "The scores the manager described, lowest first"})


class AssignmentOut(Schema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    call_id = fields.Integer(required=True)
    application = fields.String(required=True, metadata={"description": "Its name (a number under blind review)"})
    reviewer_id = fields.Integer(required=True)
    reviewer = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["assigned", "submitted", "conflict"]})
    assigned_at = fields.DateTime(required=True)
    submitted_at = fields.DateTime(allow_none=True)
    conflict_reason = fields.String(required=True)
    due_on = fields.Date(allow_none=True, metadata={
        "description": "The day the review is wanted by (the organisation's time zone); null: no deadline"})
    overdue = fields.Boolean(required=True, metadata={"description": "Still to score after `due_on`"})
    rubric = fields.List(fields.Nested(RubricCriterionOut), required=True, metadata={
        "description": "The criteria to score, in order, with what their scores mean"})


class AssignIn(Strict):
    reviewer_id = fields.Integer(required=True, validate=ID)
    due_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "The day the review is wanted by, `YYYY-MM-DD`, today or later; assigning the same "
                       "reviewer again with a `due_on` moves the deadline"})


class ReviewerProgressOut(Schema):
    reviewer_id = fields.Integer(required=True)
    reviewer = fields.String(required=True)
    assigned = fields.Integer(required=True, metadata={"description": "Assignments not declined (to do or done)"})
    done = fields.Integer(required=True, metadata={"description": "Reviews submitted"})
    overdue = fields.Integer(required=True, metadata={"description": "Still to do after their `due_on`"})
    declined = fields.Integer(required=True, metadata={"description": "Declined for a conflict of interest"})


class ReviewConflictIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(max=2000), metadata={
        "description": "What the conflict of interest is"})


# -- what the answers hold -------------------------------------------------------------------------

def _review_out(r: Review) -> dict[str, Any]:
    return {"id": r.id, "application_id": r.application_id, "reviewer": r.reviewer.name, "scores": r.scores,
            "recommendation": r.recommendation, "comment": r.comment,
            "total": ranking.review_total(r, r.application.call.criteria)}


def _rubric_out(call: Call) -> list[dict[str, Any]]:
    """The call's criteria as a reviewer scores them, in the caller's language (once per call a request)."""
    memo = g.setdefault("_rubric_out", {})
    language = lang()
    if (call.id, language) not in memo:
        memo[call.id, language] = [{"key": c.key, "label": c.label(language), "scale_min": c.scale_min,
                                    "scale_max": c.scale_max, "weight": c.weight,
                                    "levels": [{"score": score, "text": text}
                                               for score, text in c.level_texts(language)]}
                                   for c in call.criteria]
    return memo[call.id, language]


def _assignment_out(r: Review) -> dict[str, Any]:
    blind = access.is_blind_for(r.application, current_user, g.membership)
    return {"id": r.id, "application_id": r.application_id, "call_id": r.application.call_id,
            "application": review.display_name(r.application, blind), "reviewer_id": r.reviewer_id,
            "reviewer": r.reviewer.name, "status": str(r.status), "assigned_at": r.assigned_at,
            "submitted_at": r.submitted_at, "conflict_reason": r.conflict_reason or "", "due_on": r.due_on,
            "overdue": r.is_overdue(review.org_today(g.org)), "rubric": _rubric_out(r.application.call)}


# -- operations ------------------------------------------------------------------------------------

@bp.route("/applications/<int:application_id>/assignments")
@require(Permission.MANAGE_PROGRAMMES)
@visible_application
@bp.response(200, AssignmentOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_assignments(pagination_parameters: Any, application_id: int) -> Any:
    """Who is assigned to review the application, and how far they are (a declared conflict stays listed)."""
    application = g.application
    stmt = select(Review).where(Review.application_id == application.id).order_by(Review.id)
    return [_assignment_out(r) for r in api_page(stmt, pagination_parameters)]


@bp.route("/applications/<int:application_id>/assignments", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@visible_application
@bp.arguments(AssignIn)
@bp.response(201, AssignmentOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "Not a reviewer of the organisation (`not_a_reviewer`), a conflict of "
                                    "interest (`conflict_of_interest`), not under review (`bad_stage`), or a "
                                    "deadline in the past (`due_in_past`, `fields.due_on`)"))
def assign_reviewer(data: dict[str, Any], application_id: int) -> Any:
    """Assign a reviewer (told by email); assigning the same one again changes nothing."""
    application = g.application
    reviewer = db.session.get(User, data["reviewer_id"])
    if reviewer is None:
        raise DomainError("Not a reviewer of this organisation", code="not_a_reviewer",
                          fields={"reviewer_id": "Not a valid choice."})
    return _assignment_out(review.assign(db.session, application, reviewer, due_on=data["due_on"]))


@bp.route("/applications/<int:application_id>/assignments/<int:review_id>", methods=["DELETE"])
@require(Permission.MANAGE_PROGRAMMES)
@visible_application
@bp.response(204)
@errors(NOT_FOUND, FORBIDDEN, (409, "The review is submitted (`already_submitted`), or the reviewer declared a "
                                    "conflict, which stays on record (`conflict_of_interest`)"))
def unassign_reviewer(application_id: int, review_id: int) -> Any:
    """Take back an assignment (its `id`) not scored yet."""
    application = g.application
    mine = next((r for r in application.reviews if r.id == review_id), None)
    if mine is None:
        raise NotFound("No such assignment")
    review.unassign(db.session, mine)
    return ""


@bp.route("/applications/<int:application_id>/conflict", methods=["POST"])
@visible_application  # another's row: 404 before the role's 403, as the page
@require(Permission.REVIEW_APPLICATIONS)
@bp.arguments(ReviewConflictIn)
@bp.response(200, AssignmentOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "No reason given (`fields.reason`), or the review is already submitted"))
def declare_conflict(data: dict[str, Any], application_id: int) -> Any:
    """The assigned reviewer declines for a conflict of interest; it is kept on record."""
    application = g.application
    mine = review.assignment(db.session, application, current_user)
    if mine is None:
        raise NotFound("Not assigned to you")
    review.declare_conflict(db.session, mine, current_user, data["reason"])
    return _assignment_out(mine)


@bp.route("/reviews")
@require(Permission.REVIEW_APPLICATIONS)
@bp.arguments(MyReviewsQuery, location="query")
@bp.response(200, AssignmentOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def my_reviews(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """The caller's own review assignments (`mine=true`), to do first; `call_id` narrows to one call."""
    stmt = access.assigned_reviews(current_user)
    if query["call_id"]:
        stmt = stmt.join(Application, Application.id == Review.application_id) \
            .where(Application.call_id == query["call_id"])
    return [_assignment_out(r) for r in api_page(stmt, pagination_parameters)]


@bp.route("/calls/<int:call_id>/review-progress")
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.response(200, ReviewerProgressOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def review_progress(pagination_parameters: Any, call_id: int) -> Any:
    """Per reviewer of the call, by name: assignments, reviews done, overdue ones and conflicts declared
    (the call's *Review progress* page)."""
    rows = review.review_progress(db.session, g.call, review.org_today(g.org))
    return [{"reviewer_id": r.reviewer_id, "reviewer": r.name, "assigned": r.assigned, "done": r.done,
             "overdue": r.overdue, "declined": r.declined} for r in page_of(rows, pagination_parameters)]


@bp.route("/applications/<int:application_id>/reviews")
@visible_application
@bp.response(200, ReviewOut(many=True))
@bp.paginate()
@errors(NOT_FOUND)
def list_reviews(pagination_parameters: Any, application_id: int) -> Any:
    """Submitted reviews: managers see all; a reviewer sees others' only after submitting their own."""
    application = g.application
    visible = access.visible_reviews(application, current_user, g.membership)
    return [_review_out(r) for r in page_of(visible, pagination_parameters)]


@bp.route("/applications/<int:application_id>/reviews", methods=["POST"])
@visible_application  # another's row: 404 before the role's 403, as the page
@require(Permission.REVIEW_APPLICATIONS)
@bp.arguments(ReviewIn)
@bp.response(201, ReviewOut)
@errors(NOT_FOUND, FORBIDDEN, INVALID)
def create_review(data: dict[str, Any], application_id: int) -> Any:
    application = g.application
    result = review.submit_review(db.session, application, current_user, scores=data["scores"],
                                  recommendation=data["recommendation"], comment=data["comment"])
    return _review_out(result)
