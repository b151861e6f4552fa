"""Calls, applications, reviews and decisions over the API: the same services and the same rules
(``intake.access``) as the pages.

Managers' operations declare ``@require(Permission.MANAGE_PROGRAMMES)`` like their pages, reviewers'
``@require(Permission.REVIEW_APPLICATIONS)``; the applicant's operations are open to anyone signed in
(``@signed_in``: applying makes no one a member) and decide themselves what the caller sees.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, request, url_for
from flask_babel import force_locale, get_locale
from flask_login import current_user
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from incubator.accounts.models import User
from incubator.api import api_blueprint, error_responses
from incubator.api.paging import api_page
from incubator.cohorts.models import Programme
from incubator.core.actions import savepoint
from incubator.core.errors import DomainError, NotAllowed, NotFound
from incubator.core.pagination import MAX_PAGE, text_filter
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import get_or_404, signed_in
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db
from incubator.intake import access, bulk, calls, decisions, formspec, pipeline, ranking, review, services
from incubator.intake.access import may_apply, own_application_or_404, visible_application_or_404, visible_call_or_404
from incubator.intake.formspec import QUESTION_TYPES
from incubator.intake.models import Application, Call, Review, Stage

bp = api_blueprint("api_intake", __name__, org=True, description="Calls, applications, reviews, decisions")

NOT_FOUND = (404, "Not found, or not visible to the caller")
INVALID = (422, "A rule refused the request; `code` says which and `fields` names the fields")
FORBIDDEN = (403, "The caller's role does not allow this")
STALE = (412, "`If-Match` names an older version (`stale`): read it again, then edit")
MAX_ID = 2**31 - 1
ID = validate.Range(min=1, max=MAX_ID)


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


class Strict(Schema):
    class Meta:
        unknown = EXCLUDE


# -- schemas: calls ---------------------------------------------------------------------------------

class QuestionOut(Schema):
    key = fields.String(required=True)
    type = fields.String(required=True, metadata={"enum": list(QUESTION_TYPES)})
    required = fields.Boolean(required=True)
    label_en = fields.String(required=True)
    label_vi = fields.String(required=True)
    options = fields.List(fields.String(), metadata={"description": "Choice values, for single and multiple choice"})
    max_length = fields.Integer(metadata={"description": "For long text"})


class CallOut(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True, metadata={"description": "In the caller's language"})
    title_en = fields.String(required=True)
    title_vi = fields.String(required=True)
    is_open = fields.Boolean(required=True)
    opens_at = fields.DateTime(required=True)
    closes_at = fields.DateTime(required=True)
    fee_minor = fields.Integer(allow_none=True, metadata={"description": "In the organisation's currency's minor unit"})
    currency = fields.String(required=True)
    form_version = fields.Integer(required=True)
    questions = fields.List(fields.Nested(QuestionOut), required=True)


class CallDetailOut(CallOut):
    """What managers read beside what applicants read."""

    programme_id = fields.Integer()
    cohort_id = fields.Integer(allow_none=True)
    description_en = fields.String()
    description_vi = fields.String()
    is_public = fields.Boolean()
    cap = fields.Integer(allow_none=True)
    allow_edits = fields.Boolean()
    blind_review = fields.Boolean()
    reviewers_per_application = fields.Integer()
    version = fields.Integer(metadata={"description": "Raised by every change; the `ETag` header carries it"})


class UtcDateTime(fields.AwareDateTime):
    """An ISO date-time; without an offset it is UTC. Years 2000 to 2100."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            if not 2000 <= parsed.astimezone(UTC).year <= 2100:
                raise ValueError
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise ValidationError("A date-time from 2000 to 2100.") from None


class CallPatchIn(Strict):
    programme_id = fields.Integer(validate=ID)
    cohort_id = fields.Integer(allow_none=True, validate=ID,
                               metadata={"description": "The cohort accepted startups join (null: none)"})
    title_en = fields.String(validate=validate.Length(max=255))
    title_vi = fields.String(validate=validate.Length(max=255))
    description_en = fields.String(validate=validate.Length(max=20000))
    description_vi = fields.String(validate=validate.Length(max=20000))
    opens_at = UtcDateTime(metadata={"description": "When applications open (it publishes the call)"})
    closes_at = UtcDateTime(metadata={"description": "The deadline (it closes the call)"})
    is_public = fields.Boolean(metadata={"description": "Listed publicly; false: reachable by its link only"})
    cap = fields.Integer(allow_none=True, validate=validate.Range(min=-MAX_ID, max=MAX_ID),
                         metadata={"description": "Most applications accepted (null: no cap)"})
    fee_minor = fields.Integer(allow_none=True, validate=validate.Range(min=-MAX_ID, max=MAX_ID),
                               metadata={"description": "Application fee in the currency's minor unit (null: none)"})
    allow_edits = fields.Boolean()
    blind_review = fields.Boolean()
    reviewers_per_application = fields.Integer(validate=validate.Range(min=-MAX_ID, max=MAX_ID))


class CallIn(CallPatchIn):
    programme_id = fields.Integer(required=True, validate=ID)
    title_en = fields.String(required=True, validate=validate.Length(max=255))
    title_vi = fields.String(required=True, validate=validate.Length(max=255))
    opens_at = UtcDateTime(required=True)
    closes_at = UtcDateTime(required=True)


class CallQuery(Strict):
    status = fields.String(load_default=None, validate=validate.OneOf(calls.STATUSES),
                           metadata={"description": "Managers: upcoming, open or closed now"})
    q = fields.String(load_default="", validate=validate.Length(max=100), metadata={"description": "In the titles"})


class OptionIn(Strict):
    value = fields.String(required=True, validate=validate.Length(min=1, max=40))
    label_en = fields.String(load_default="", validate=validate.Length(max=500))
    label_vi = fields.String(load_default="", validate=validate.Length(max=500))


class QuestionPatchIn(Strict):
    type = fields.String(validate=validate.OneOf(list(QUESTION_TYPES)))
    required = fields.Boolean()
    label_en = fields.String(validate=validate.Length(max=500))
    label_vi = fields.String(validate=validate.Length(max=500))
    help_en = fields.String(validate=validate.Length(max=1000))
    help_vi = fields.String(validate=validate.Length(max=1000))
    options = fields.List(fields.Nested(OptionIn), validate=validate.Length(max=200),
                          metadata={"description": "For single and multiple choice: at least two"})
    max_length = fields.Integer(allow_none=True, validate=validate.Range(min=-MAX_ID, max=MAX_ID),
                                metadata={"description": "For long text (1 to 100000)"})


class QuestionIn(QuestionPatchIn):
    key = fields.String(required=True, validate=validate.Length(max=40),
                        metadata={"description": "Lowercase letters, digits and underscores"})
    type = fields.String(required=True, validate=validate.OneOf(list(QUESTION_TYPES)))
    label_en = fields.String(required=True, validate=validate.Length(max=500))
    label_vi = fields.String(required=True, validate=validate.Length(max=500))


class FormIn(Strict):
    questions = fields.List(fields.Nested(QuestionIn), required=True, validate=validate.Length(max=200))


class OptionOut(Schema):
    value = fields.String(required=True)
    label_en = fields.String(required=True)
    label_vi = fields.String(required=True)


class QuestionFullOut(Schema):
    key = fields.String(required=True)
    type = fields.String(required=True)
    required = fields.Boolean(required=True)
    label_en = fields.String(required=True)
    label_vi = fields.String(required=True)
    help_en = fields.String()
    help_vi = fields.String()
    options = fields.List(fields.Nested(OptionOut))
    max_length = fields.Integer()


class FormOut(Schema):
    call_id = fields.Integer(required=True)
    number = fields.Integer(required=True, metadata={"description": "The form's version number"})
    answered = fields.Integer(required=True, metadata={
        "description": "Applications that answered this version: a change then makes a new version"})
    questions = fields.List(fields.Nested(QuestionFullOut), required=True)


class CriterionIn(Strict):
    key = fields.String(required=True, validate=validate.Length(max=40))
    label_en = fields.String(required=True, validate=validate.Length(max=255))
    label_vi = fields.String(required=True, validate=validate.Length(max=255))
    scale_min = fields.Integer(load_default=0, validate=validate.Range(min=-10**6, max=10**6))
    scale_max = fields.Integer(load_default=5, validate=validate.Range(min=-10**6, max=10**6))
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=-1000, max=1000),
                          metadata={"description": "Above 0, at most 100"})


class RubricIn(Strict):
    criteria = fields.List(fields.Nested(CriterionIn), required=True, validate=validate.Length(max=50))


class CriterionOut(Schema):
    key = fields.String(required=True)
    label_en = fields.String(required=True)
    label_vi = fields.String(required=True)
    scale_min = fields.Integer(required=True)
    scale_max = fields.Integer(required=True)
    weight = fields.Float(required=True)


class RubricOut(Schema):
    call_id = fields.Integer(required=True)
    criteria = fields.List(fields.Nested(CriterionOut), required=True)


# -- schemas: applications and review ---------------------------------------------------------------

class AnswersIn(Strict):
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True,
                          metadata={"description": "{question key: value}. Saving merges: a question left out "
                                                   "keeps its saved answer, and `null` clears that one answer. "
                                                   "A draft may leave any question empty; a submitted "
                                                   "application must keep its required answers."})


class ApplicationOut(Schema):
    id = fields.Integer(required=True)
    call_id = fields.Integer(required=True)
    stage = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "The stage in the applicant's words"})
    applicant = fields.String(allow_none=True, metadata={"description": "Null under blind review"})
    answers = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), required=True)
    form_version = fields.Integer(required=True)
    submitted_at = fields.DateTime(allow_none=True)


class DecisionOut(ApplicationOut):
    warnings = fields.List(fields.String(), required=True, metadata={
        "description": "Answers the accepted startup could not take (a stage or origin that is not one of the "
                       "startup's), to correct on the startup"})


class WithdrawIn(Strict):
    comment = fields.String(load_default="", validate=validate.Length(max=2000),
                            metadata={"description": "Why the applicant withdraws (optional)"})


class WithdrawOut(ApplicationOut):
    fee_refunded = fields.Integer(required=True, metadata={
        "description": "The application fee refunded by this withdrawal, in the currency's minor unit (0 if none)"})


class ListQuery(Strict):
    call_id = fields.Integer(load_default=None, validate=ID)
    stage = fields.String(load_default=None, validate=validate.OneOf([s.value for s in Stage]),
                          metadata={"description": "The pipeline stage (`status` is its applicant's wording)"})
    q = fields.String(load_default="", validate=validate.Length(max=100), metadata={
        "description": "In the startup's or team's name and the applicant's name (not under blind review)"})
    from_ = fields.Date(data_key="from", load_default=None,
                        validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31)),
                        metadata={"description": "Submitted on or after this day (organisation's time zone)"})
    to = fields.Date(load_default=None, validate=validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31)),
                     metadata={"description": "Submitted on or before this day (organisation's time zone)"})


class FileIn(Strict):
    file = Upload(required=True, metadata={"description": "A PDF (checked by its content)"})


class FileQuery(Strict):
    question = fields.String(required=True, validate=validate.Length(min=1, max=40),
                             metadata={"description": "The key of a question of type `file`"})


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


class AssignIn(Strict):
    reviewer_id = fields.Integer(required=True, validate=ID)


class ReviewConflictIn(Strict):
    reason = fields.String(required=True, validate=validate.Length(max=2000), metadata={
        "description": "What the conflict of interest is"})


class MoveIn(Strict):
    stage = fields.String(required=True, validate=validate.Length(max=20),
                          metadata={"enum": [s.value for s in Stage]})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class DecisionIn(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(list(decisions.OUTCOMES)))
    cohort_id = fields.Integer(load_default=None, allow_none=True,
                               metadata={"description": "The cohort an accepted startup joins (default: the call's)"})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


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


class LetterOut(Schema):
    outcome = fields.String(required=True, metadata={"enum": list(decisions.OUTCOMES)})
    locale = fields.String(required=True, metadata={"enum": ["en", "vi"]})
    subject = fields.String(required=True)
    body = fields.String(required=True)


class LetterIn(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(decisions.OUTCOMES))
    locale = fields.String(required=True, validate=validate.OneOf(["en", "vi"]))
    subject = fields.String(required=True, validate=validate.Length(max=255))
    body = fields.String(required=True, validate=validate.Length(max=20000), metadata={
        "description": "Placeholders: " + ", ".join(f"{{{p}}}" for p in decisions.PLACEHOLDERS)})


class LettersIn(Strict):
    templates = fields.List(fields.Nested(LetterIn), required=True, validate=validate.Length(min=1, max=6))


class QuestionKeyQuery(Strict):
    key = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "The question's key"})


class LetterPreviewOut(Schema):
    application_id = fields.Integer(required=True)
    to = fields.String(required=True)
    subject = fields.String(required=True)
    body = fields.String(required=True)


class LettersSentOut(Schema):
    queued = fields.Integer(required=True, metadata={"description": "Letters sent by a job once this answer is given"})


# -- what the answers hold ----------------------------------------------------------------------------

def _lang() -> str:
    """The language the app chose for this request (the caller's setting, Accept-Language, a member's
    organisation, else English), as on the pages."""
    return str(get_locale())


def _page(rows: list[Any], params: Any) -> list[Any]:
    """One page of a list already in its order (the ranking's)."""
    params.item_count = len(rows)
    start = (min(params.page, MAX_PAGE) - 1) * params.page_size
    return rows[start:start + params.page_size]


def _call_out(call: Call) -> dict[str, Any]:
    questions = []
    for q in call.current_form.questions:
        out = {k: q[k] for k in ("key", "type", "required", "label_en", "label_vi")}
        if "options" in q:
            out["options"] = [o["value"] for o in q["options"]]
        if "max_length" in q:
            out["max_length"] = q["max_length"]
        questions.append(out)
    data = {"id": call.id, "title": call.title(_lang()), "title_en": call.title_en, "title_vi": call.title_vi,
            "is_open": call.is_open(), "opens_at": call.opens_at, "closes_at": call.closes_at,
            "fee_minor": call.fee_minor, "currency": g.org.currency, "form_version": call.current_form.number,
            "questions": questions}
    if access.may_manage(g.membership):
        data.update({"programme_id": call.programme_id, "cohort_id": call.cohort_id, "version": call.version,
                     **{k: getattr(call, k) for k in ("description_en", "description_vi", "is_public", "cap",
                                                      "allow_edits", "blind_review", "reviewers_per_application")}})
    return data


def _with_etag(call: Call) -> tuple[dict[str, Any], int, dict[str, str]]:
    return _call_out(call), 200, {"ETag": etag_of(call)}


def _form_out(call: Call) -> tuple[dict[str, Any], int, dict[str, str]]:
    version = call.current_form
    answered = db.session.execute(select(func.count()).select_from(Application).where(
        Application.form_version_id == version.id)).scalar_one()
    return ({"call_id": call.id, "number": version.number, "answered": answered, "questions": version.questions},
            200, {"ETag": f'"{calls.form_tag(call)}"'})


def _rubric_out(call: Call) -> tuple[dict[str, Any], int, dict[str, str]]:
    return {"call_id": call.id, "criteria": list(call.criteria)}, 200, {"ETag": f'"{calls.rubric_tag(call)}"'}


def _expected() -> set[str] | None:
    """The tags ``If-Match`` names (None: no header, or ``*``: not checked)."""
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return None
    return set(if_match.as_set())


def _application_out(application: Application) -> dict[str, Any]:
    blind = access.is_blind_for(application, current_user, g.membership)
    answers = {}
    for question, value in review.answers_for(application, blind):
        if value is not None:
            answers[question["key"]] = value["id"] if question["type"] == "file" and isinstance(value, dict) else value
    return {"id": application.id, "call_id": application.call_id, "stage": str(application.stage),
            "status": Stage(application.stage).applicant_label, "applicant": None if blind else
            application.applicant.name, "answers": answers, "form_version": application.form_version.number,
            "submitted_at": application.submitted_at}


def _review_out(r: Review) -> dict[str, Any]:
    return {"id": r.id, "application_id": r.application_id, "reviewer": r.reviewer.name, "scores": r.scores,
            "recommendation": r.recommendation, "comment": r.comment,
            "total": ranking.review_total(r, r.application.call.criteria)}


def _assignment_out(r: Review) -> dict[str, Any]:
    blind = access.is_blind_for(r.application, current_user, g.membership)
    return {"id": r.id, "application_id": r.application_id, "call_id": r.application.call_id,
            "application": review.display_name(r.application, blind), "reviewer_id": r.reviewer_id,
            "reviewer": r.reviewer.name, "status": str(r.status), "assigned_at": r.assigned_at,
            "submitted_at": r.submitted_at, "conflict_reason": r.conflict_reason or ""}


def _ranking_out(row: ranking.Row) -> dict[str, Any]:
    a = row.application
    return {"application_id": a.id, "name": a.display_name, "applicant": a.applicant.name, "stage": str(a.stage),
            "reviews": row.review_count, "total": row.total, "normalised": row.normalised,
            "recommendations": dict(row.recommendations)}


def _org_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(g.org.timezone)).astimezone(UTC)


def visible_application(view: Any) -> Any:
    """Resolve ``application_id`` (404 unless the caller may see it) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.application = visible_application_or_404(kwargs["application_id"])
        return view(*args, **kwargs)

    return wrapper


def own_application(view: Any) -> Any:
    """The caller's own application (404 for anyone else's, 403 for a role that does not apply), resolved
    before the body is parsed: the applicant's operations, as their pages."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.application = own_application_or_404(kwargs["application_id"])
        return view(*args, **kwargs)

    return wrapper


def visible_call(view: Any) -> Any:
    """Resolve ``call_id`` (404 for a call not published yet, but to its managers) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.call = visible_call_or_404(kwargs["call_id"])
        return view(*args, **kwargs)

    return wrapper


def managed_call(view: Any) -> Any:
    """Resolve ``call_id`` (404 for another organisation's) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.call = get_or_404(Call, kwargs["call_id"])
        return view(*args, **kwargs)

    return wrapper


# -- calls --------------------------------------------------------------------------------------------

@bp.route("/calls")
@bp.arguments(CallQuery, location="query")
@bp.response(200, CallOut(many=True))
@bp.paginate()
@errors(NOT_FOUND)
@signed_in  # applicants need not be members: the operation decides what they see
def list_calls(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """Managers see every call (`status`: upcoming, open or closed now); everyone else the public calls
    open now. `q` searches the titles."""
    stmt = access.listed_calls(calls.calls_stmt(g.org, status=query["status"], q=query["q"]), g.membership)
    return [_call_out(c) for c in api_page(stmt, pagination_parameters)]


@bp.route("/calls", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@bp.arguments(CallIn)
@bp.response(201, CallDetailOut)
@errors(NOT_FOUND, FORBIDDEN, INVALID)
def create_call(data: dict[str, Any]) -> Any:
    """A new call of a programme, with its first (empty) form. Answers 201 and its `Location`."""
    call = _save_call(None, data)
    location = url_for("api_intake.get_call", org=g.org.slug, call_id=call.id)
    return _call_out(call), 201, {"Location": location, "ETag": etag_of(call)}


def _save_call(call: Call | None, data: dict[str, Any]) -> Call:
    programme_id = data.pop("programme_id", call.programme_id if call is not None else None)
    programme = db.session.execute(select(Programme).where(Programme.id == programme_id,
                                                           Programme.org_id == g.org.id)).scalar_one_or_none()
    if call is not None and "cohort_id" not in data:
        data["cohort_id"] = call.cohort_id
    cohort = bulk.cohort_of(db.session, g.org.id, data.pop("cohort_id", None))
    values = {**(calls.call_values(call) if call is not None else {"reviewers_per_application": 2}), **data}
    return calls.save_call(db.session, g.org, call, programme=programme, cohort=cohort, **values)


@bp.route("/calls/<int:call_id>")
@bp.response(200, CallDetailOut)
@errors(NOT_FOUND)
@signed_in  # applicants need not be members: the operation decides what they see
def get_call(call_id: int) -> Any:
    """A call as the caller may see it (managers also read its settings). The `ETag` header names its
    version, for `If-Match` on `PATCH`."""
    return _with_etag(visible_call_or_404(call_id))


@bp.route("/calls/<int:call_id>", methods=["PATCH"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(CallPatchIn)
@bp.response(200, CallDetailOut)
@errors(NOT_FOUND, FORBIDDEN, STALE, INVALID)
def update_call(data: dict[str, Any], call_id: int) -> Any:
    """Change some settings of a call (fields left out keep theirs): publish it by its opening time,
    close it by its deadline. With `If-Match`, a call changed meanwhile answers 412."""
    call = g.call
    check_if_match(call)
    return _with_etag(_save_call(call, data))


@bp.route("/calls/<int:call_id>/form")
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.response(200, FormOut)
@errors(NOT_FOUND, FORBIDDEN)
def get_form(call_id: int) -> Any:
    """The form's current version, as the builder edits it; `ETag` for `If-Match` on its changes."""
    return _form_out(g.call)


@bp.route("/calls/<int:call_id>/form", methods=["PUT"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(FormIn)
@bp.response(200, FormOut)
@errors(NOT_FOUND, FORBIDDEN, STALE, INVALID)
def replace_form(data: dict[str, Any], call_id: int) -> Any:
    """Replace every question. Once an application answered the current version, this makes a new
    version (applications keep theirs). `fields` names `questions.<index>.<field>`."""
    call = g.call
    calls.replace_questions(db.session, call, data["questions"], _expected())
    return _form_out(call)


@bp.route("/calls/<int:call_id>/form/questions", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(QuestionIn)
@bp.response(201, FormOut)
@errors(NOT_FOUND, FORBIDDEN, STALE, INVALID)
def add_question(data: dict[str, Any], call_id: int) -> Any:
    """Add a question at the end of the form (as the builder's "Add a question")."""
    call = g.call
    calls.add_question(db.session, call, data, _expected())
    body, _status, headers = _form_out(call)
    return body, 201, headers


@bp.route("/calls/<int:call_id>/form/questions", methods=["PATCH"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(QuestionKeyQuery, location="query")
@bp.arguments(QuestionPatchIn)
@bp.response(200, FormOut)
@errors(NOT_FOUND, FORBIDDEN, STALE, INVALID)
def edit_question(query: dict[str, Any], data: dict[str, Any], call_id: int) -> Any:
    """Change the question `key` (fields left out keep theirs; its key stays)."""
    call, key = g.call, query["key"]
    current = next((q for q in call.current_form.questions if q["key"] == key), None)
    if current is None:
        raise NotFound("No such question")
    calls.edit_question(db.session, call, key, {**current, **data}, _expected())
    return _form_out(call)


@bp.route("/calls/<int:call_id>/form/questions", methods=["DELETE"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(QuestionKeyQuery, location="query")
@bp.response(200, FormOut)
@errors(NOT_FOUND, FORBIDDEN, STALE)
def remove_question(query: dict[str, Any], call_id: int) -> Any:
    """Remove the question `key` (applications that answered the current version keep it in theirs)."""
    call = g.call
    calls.remove_question(db.session, call, query["key"], _expected())
    return _form_out(call)


@bp.route("/calls/<int:call_id>/rubric")
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.response(200, RubricOut)
@errors(NOT_FOUND, FORBIDDEN)
def get_rubric(call_id: int) -> Any:
    """The weighted criteria reviewers score; `ETag` for `If-Match` on `PUT`."""
    return _rubric_out(g.call)


@bp.route("/calls/<int:call_id>/rubric", methods=["PUT"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.arguments(RubricIn)
@bp.response(200, RubricOut)
@errors(NOT_FOUND, FORBIDDEN, STALE, (422, "Invalid criteria (`fields` names `criteria.<index>.<field>`), or "
                                          "reviews were submitted against the rubric (`rubric_in_use`)"))
def replace_rubric(data: dict[str, Any], call_id: int) -> Any:
    """Replace the rubric (criteria in this order). Once a review is submitted it can no longer change."""
    call = g.call
    calls.replace_rubric(db.session, call, data["criteria"], _expected())
    return _rubric_out(call)


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
    rows = ranking.rank(db.session, call, stage=query["stage"], sort=query["sort"], min_reviews=query["min_reviews"])
    return [_ranking_out(r) for r in _page(rows, pagination_parameters)]


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
    for row in ranking.rank(db.session, call):
        if row.application.id not in ids:
            continue
        own = {q["key"]: q for q in row.application.form_version.questions}
        answers = {q["key"]: decisions.answer_text(own.get(q["key"], q), row.application.answers.get(q["key"]),
                                                   _lang()) for q in choices}
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
    never a conflicted one), `decide` (`decision`, `cohort_id`). Each application is tried on its own:
    those refused are in `skipped` with the reason and keep nothing of it."""
    call = g.call
    result = bulk.run(db.session, call, bulk.chosen(db.session, call, data["application_ids"]), current_user,
                      g.membership, data["action"], stage=data["stage"], comment=data["comment"],
                      reviewer_id=data["reviewer_id"], decision=data["decision"], cohort_id=data["cohort_id"],
                      locale=_lang())
    return {"done": result.done,
            "skipped": [{"application_id": s.application.id, "message": s.message} for s in result.skipped],
            "warnings": [{"application_id": s.application.id, "message": s.message} for s in result.warnings]}


@bp.route("/calls/<int:call_id>/letters")
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.response(200, LetterPreviewOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def preview_letters(pagination_parameters: Any, call_id: int) -> Any:
    """The decision letters not sent yet, as they will be sent (the applicant's language)."""
    call = g.call
    out = []
    for application in _page(decisions.letters_due(db.session, call), pagination_parameters):
        subject, body = decisions.render_letter(db.session, application)
        out.append({"application_id": application.id, "to": application.applicant.email, "subject": subject,
                    "body": body})
    return out


@bp.route("/calls/<int:call_id>/letters", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.response(202, LettersSentOut)
@errors(NOT_FOUND, FORBIDDEN)
def send_letters(call_id: int) -> Any:
    """Send the decision letters not sent yet, from a job (each exactly once)."""
    return {"queued": decisions.queue_letters(db.session, g.call)}


# -- letter templates ---------------------------------------------------------------------------------

@bp.route("/letters")
@require(Permission.MANAGE_PROGRAMMES)
@bp.response(200, LetterOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_letter_templates(pagination_parameters: Any) -> Any:
    """The organisation's decision letter per outcome and language (the default text until changed)."""
    rows = [_letter_out(outcome, locale) for outcome in decisions.OUTCOMES for locale in ("en", "vi")]
    return _page(rows, pagination_parameters)


def _letter_out(outcome: str, locale: str) -> dict[str, str]:
    subject, body = decisions.letter_template(db.session, g.org.id, outcome, locale)
    return {"outcome": outcome, "locale": locale, "subject": subject, "body": body}


@bp.route("/letters", methods=["PATCH"])
@require(Permission.MANAGE_PROGRAMMES)
@bp.arguments(LettersIn)
@bp.response(200, LetterOut(many=True))
@errors(NOT_FOUND, FORBIDDEN, INVALID)
def save_letter_templates(data: dict[str, Any]) -> Any:
    """Replace the letters sent (each one outcome in one language); the others keep theirs. Unknown
    placeholders are refused (`fields` names `templates.<index>.<field>`), and then nothing is saved."""
    for index, template in enumerate(data["templates"]):
        try:
            with savepoint():
                decisions.save_letter_template(db.session, g.org, template["outcome"], template["locale"],
                                               template["subject"], template["body"])
        except DomainError as error:
            raise DomainError(error.message, code=error.code, fields={
                f"templates.{index}.{name}": message for name, message in error.fields.items()}) from None
    return [_letter_out(outcome, locale) for outcome in decisions.OUTCOMES for locale in ("en", "vi")]


# -- applications ---------------------------------------------------------------------------------------

@bp.route("/calls/<int:call_id>/applications", methods=["POST"])
@visible_call
@bp.arguments(AnswersIn)
@bp.response(201, ApplicationOut)
@errors(NOT_FOUND, FORBIDDEN, INVALID)
@signed_in  # applicants need not be members: the operation decides what they see
def create_application(data: dict[str, Any], call_id: int) -> Any:
    """Create the caller's draft, or save into their application to this call.

    Answers merge into what is saved: questions left out keep their answers, `null` clears one. A
    submitted application can be edited this way until the deadline when the call allows it; each
    edit is recorded in its timeline. After the deadline: 422 with code `deadline_passed`."""
    if not may_apply(g.membership):
        raise NotAllowed("The organisation's own managers, staff and reviewers do not apply to its calls")
    application = services.start_application(db.session, g.org, g.call, current_user, data["answers"])
    return _application_out(application)


@bp.route("/applications")
@bp.arguments(ListQuery, location="query")
@bp.response(200, ApplicationOut(many=True))
@bp.paginate()
@errors(NOT_FOUND)
@signed_in  # applicants need not be members: the operation decides what they see
def list_applications(query: dict[str, Any], pagination_parameters: Any) -> Any:
    """Managers see every submitted application (and their own drafts), reviewers their assignments,
    everyone their own. Filters: `call_id`, `stage`, `q` (names), submitted `from`/`to` (days)."""
    stmt = access.visible_applications(select(Application).where(Application.org_id == g.org.id),
                                       current_user, g.membership)
    if query["call_id"]:
        stmt = stmt.where(Application.call_id == query["call_id"])
    if query["stage"]:
        stmt = stmt.where(Application.stage == query["stage"])
    if query["from_"]:
        stmt = stmt.where(Application.submitted_at >= _org_midnight(query["from_"]))
    if query["to"]:
        stmt = stmt.where(Application.submitted_at < _org_midnight(query["to"] + timedelta(days=1)))
    names = text_filter(query["q"], User.name, *(Application.answers[k].as_string()
                                                 for k in ("startup_name", "team_name", "project_name")))
    if names is not None:
        stmt = stmt.join(User, User.id == Application.applicant_id).join(Call, Call.id == Application.call_id) \
            .where(names)
        if not access.may_manage(g.membership):  # a name must not find a blind application
            stmt = stmt.where(Call.blind_review.is_(False) | (Application.applicant_id == current_user.id))
    stmt = stmt.options(selectinload(Application.reviews), selectinload(Application.call)).order_by(Application.id)
    return [_application_out(a) for a in api_page(stmt, pagination_parameters)]


@bp.route("/applications/<int:application_id>")
@visible_application
@bp.response(200, ApplicationOut)
@errors(NOT_FOUND)
@signed_in  # applicants need not be members: the operation decides what they see
def get_application(application_id: int) -> Any:
    return _application_out(visible_application_or_404(application_id))


@bp.route("/applications/<int:application_id>", methods=["PATCH"])
@own_application
@bp.arguments(AnswersIn)
@bp.response(200, ApplicationOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "An answer is invalid (`fields` names it), the application can no longer "
                                    "change (`not_editable`), or the deadline passed (`deadline_passed`)"))
@signed_in  # applicants need not be members: the operation decides what they see
def update_application(data: dict[str, Any], application_id: int) -> Any:
    """Change some answers of the caller's application.

    The answers sent merge into the saved ones: questions left out keep theirs, and `null` clears one.
    A submitted application can be edited until the deadline when the call allows it, and each edit is
    recorded in its timeline (who, when, which questions)."""
    application = g.application
    return _application_out(services.save_answers(db.session, application, current_user, data["answers"]))


@bp.route("/applications/<int:application_id>/submit", methods=["POST"])
@own_application
@bp.response(200, ApplicationOut)
@errors(NOT_FOUND, FORBIDDEN, (402, "The call has a fee: `POST .../applications/{id}/checkout` pays it, and the "
                                     "payment submits the application"),
        (422, "Required answers missing (`fields` names them), or the deadline passed"))
@signed_in  # applicants need not be members: the operation decides what they see
def submit_application(application_id: int) -> Any:
    application = g.application
    return _application_out(services.submit_application(db.session, application, current_user))


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@own_application
@bp.arguments(WithdrawIn)
@bp.response(200, WithdrawOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "The application can no longer be withdrawn (`bad_transition`)"),
        (502, "The fee's refund failed at the payment provider (`refund_failed`); nothing changed, try again"))
@signed_in  # applicants need not be members: the operation decides what they see
def withdraw_application(data: dict[str, Any], application_id: int) -> Any:
    """Withdraw the caller's application (the same rule as the page).

    A paid application fee is refunded when the application is withdrawn before the deadline and before
    it goes into review (stage `submitted` or `screening`); later the fee is kept. The refund's receipt is
    emailed, and `fee_refunded` says how much came back."""
    application = g.application
    refunded = services.withdraw_application(db.session, application, current_user, data["comment"])
    return {**_application_out(application), "fee_refunded": refunded}


@bp.route("/applications/<int:application_id>/files", methods=["POST"])
@own_application
@bp.arguments(FileQuery, location="query")
@bp.arguments(FileIn, location="files")
@bp.response(201, ApplicationOut)
@errors(NOT_FOUND, FORBIDDEN, (413, "Larger than the upload limit"), (415, "Not a PDF"), INVALID)
@signed_in  # applicants need not be members: the operation decides what they see
def upload_file(query: dict[str, Any], files: dict[str, Any], application_id: int) -> Any:
    """Attach a PDF to the caller's application for a file question; its id becomes the answer."""
    application = g.application
    upload = files["file"]
    services.upload_file(db.session, application, current_user, query["question"], upload.stream,
                         upload.filename or "document.pdf")
    return _application_out(application)


@bp.route("/applications/<int:application_id>/move", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@visible_application
@bp.arguments(MoveIn)
@bp.response(200, ApplicationOut)
@errors(NOT_FOUND, FORBIDDEN, (422, "The pipeline does not allow this move (`bad_transition`), or acceptance "
                                    "goes through a decision (`use_decision`)"))
def move_application(data: dict[str, Any], application_id: int) -> Any:
    """Move an application to another stage of the pipeline, with a comment for its timeline."""
    application = g.application
    pipeline.move(db.session, application, current_user, g.membership, data["stage"], data["comment"])
    return _application_out(application)


@bp.route("/applications/<int:application_id>/decision", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@visible_application
@bp.arguments(DecisionIn)
@bp.response(200, DecisionOut)
@errors(NOT_FOUND, FORBIDDEN, (409, "The startup is already in the cohort"), INVALID)
def decide(data: dict[str, Any], application_id: int) -> Any:
    application = g.application
    cohort = bulk.cohort_of(db.session, g.org.id, data.get("cohort_id"))
    decisions.decide(db.session, application, current_user, g.membership, data["decision"], cohort,
                     data.get("comment") or "")
    with force_locale(_lang()):
        warnings = decisions.mapping_problems(application, _lang())
    return {**_application_out(application), "warnings": warnings}


# -- review ---------------------------------------------------------------------------------------------

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
                                    "interest (`conflict_of_interest`), or not under review (`bad_stage`)"))
def assign_reviewer(data: dict[str, Any], application_id: int) -> Any:
    """Assign a reviewer (told by email); assigning the same one again changes nothing."""
    application = g.application
    reviewer = db.session.get(User, data["reviewer_id"])
    if reviewer is None:
        raise DomainError("Not a reviewer of this organisation", code="not_a_reviewer",
                          fields={"reviewer_id": "Not a valid choice."})
    return _assignment_out(review.assign(db.session, application, reviewer))


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


@bp.route("/applications/<int:application_id>/reviews")
@visible_application
@bp.response(200, ReviewOut(many=True))
@bp.paginate()
@errors(NOT_FOUND)
def list_reviews(pagination_parameters: Any, application_id: int) -> Any:
    """Submitted reviews: managers see all; a reviewer sees others' only after submitting their own."""
    application = g.application
    visible = access.visible_reviews(application, current_user, g.membership)
    return [_review_out(r) for r in _page(visible, pagination_parameters)]


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
