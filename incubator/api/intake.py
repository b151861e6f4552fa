"""Calls, applications, reviews and decisions over the API (the same services as the pages)."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import abort, g
from flask_babel import force_locale, get_locale
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from incubator.api import api_blueprint, error_responses
from incubator.cohorts.models import Cohort
from incubator.core.db import utcnow
from incubator.core.errors import DomainError, NotAllowed
from incubator.core.permissions import Permission
from incubator.core.tenancy import get_or_404, signed_in
from incubator.extensions import db
from incubator.intake import decisions, ranking, review, services
from incubator.intake.access import may_apply
from incubator.intake.formspec import QUESTION_TYPES
from incubator.intake.models import Application, Call, Review, ReviewStatus, Stage

bp = api_blueprint("api_intake", __name__, org=True, description="Calls, applications, reviews, decisions")

NOT_FOUND = (404, "Not found, or not visible to the caller")
INVALID = (422, "A rule refused the request; `code` says which and `fields` names the fields")
FORBIDDEN = (403, "The caller's role does not allow this")


def errors(*codes: tuple[int, str]) -> Any:
    return error_responses(bp, *codes)


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


class AnswersIn(Schema):
    class Meta:
        unknown = EXCLUDE

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


class WithdrawIn(Schema):
    class Meta:
        unknown = EXCLUDE

    comment = fields.String(load_default="", validate=validate.Length(max=2000),
                            metadata={"description": "Why the applicant withdraws (optional)"})


class WithdrawOut(ApplicationOut):
    fee_refunded = fields.Integer(required=True, metadata={
        "description": "The application fee refunded by this withdrawal, in the currency's minor unit (0 if none)"})


class ListQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    call_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**31 - 1))


class FileIn(Schema):
    class Meta:
        unknown = EXCLUDE

    file = Upload(required=True, metadata={"description": "A PDF (checked by its content)"})


class FileQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    question = fields.String(required=True, validate=validate.Length(min=1, max=40),
                             metadata={"description": "The key of a question of type `file`"})


class ReviewIn(Schema):
    class Meta:
        unknown = EXCLUDE

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


class DecisionIn(Schema):
    class Meta:
        unknown = EXCLUDE

    decision = fields.String(required=True, validate=validate.OneOf(list(decisions.OUTCOMES)))
    cohort_id = fields.Integer(load_default=None, allow_none=True,
                               metadata={"description": "The cohort an accepted startup joins (default: the call's)"})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


def _lang() -> str:
    """The language the app chose for this request (the caller's setting, Accept-Language, a member's
    organisation, else English), as on the pages."""
    return str(get_locale())


def _manager() -> bool:
    return g.membership is not None and g.membership.has(Permission.MANAGE_PROGRAMMES)


def _call_out(call: Call) -> dict[str, Any]:
    questions = []
    for q in call.current_form.questions:
        out = {k: q[k] for k in ("key", "type", "required", "label_en", "label_vi")}
        if "options" in q:
            out["options"] = [o["value"] for o in q["options"]]
        if "max_length" in q:
            out["max_length"] = q["max_length"]
        questions.append(out)
    return {"id": call.id, "title": call.title(_lang()), "title_en": call.title_en, "title_vi": call.title_vi,
            "is_open": call.is_open(), "opens_at": call.opens_at, "closes_at": call.closes_at,
            "fee_minor": call.fee_minor, "currency": g.org.currency, "form_version": call.current_form.number,
            "questions": questions}


def _application_out(application: Application) -> dict[str, Any]:
    blind = review.is_blind_for(application, g.api_user, g.membership)
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


def _call_or_404(call_id: int) -> Call:
    call = get_or_404(Call, call_id)
    if not _manager() and call.opens_at > utcnow():
        abort(404)  # not published yet
    return call


def visible_call(view: Any) -> Any:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.call = _call_or_404(kwargs["call_id"])
        return view(*args, **kwargs)

    return wrapper


def visible_application(view: Any) -> Any:
    """Resolve ``application_id`` (404 unless the caller may see it) before the body is parsed."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        application = get_or_404(Application, kwargs["application_id"])
        if not review.may_view(application, g.api_user, g.membership) or (
                application.stage == Stage.DRAFT and not application.is_owned_by(g.api_user)):
            abort(404)
        g.application = application
        return view(*args, **kwargs)

    return wrapper


@bp.route("/calls")
@bp.response(200, CallOut(many=True))
@errors(NOT_FOUND)
@signed_in  # applicants need not be members: the operation decides what they see
def list_calls() -> Any:
    """Managers see every call; everyone else the public calls open now."""
    stmt = select(Call).where(Call.org_id == g.org.id).order_by(Call.closes_at.desc())
    if not _manager():
        now = utcnow()
        stmt = stmt.where(Call.is_public.is_(True), Call.opens_at <= now, Call.closes_at > now)
    return [_call_out(c) for c in db.session.execute(stmt).scalars()]


@bp.route("/calls/<int:call_id>")
@bp.response(200, CallOut)
@errors(NOT_FOUND)
@signed_in  # applicants need not be members: the operation decides what they see
def get_call(call_id: int) -> Any:
    return _call_out(_call_or_404(call_id))


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
    application = services.start_application(db.session, g.org, g.call, g.api_user, data["answers"])
    return _application_out(application)


@bp.route("/applications")
@bp.arguments(ListQuery, location="query")
@bp.response(200, ApplicationOut(many=True))
@errors(NOT_FOUND)
@signed_in  # applicants need not be members: the operation decides what they see
def list_applications(query: dict[str, Any]) -> Any:
    """Managers see every submitted application (and their own drafts), reviewers their assignments,
    founders their own."""
    stmt = select(Application).where(Application.org_id == g.org.id).order_by(Application.id)
    if query.get("call_id"):
        stmt = stmt.where(Application.call_id == query["call_id"])
    me = g.api_user.id
    if _manager():
        stmt = stmt.where((Application.stage != Stage.DRAFT) | (Application.applicant_id == me))
    elif g.membership is not None and g.membership.has(Permission.REVIEW_APPLICATIONS):
        assigned = select(Review.application_id).where(Review.reviewer_id == me,
                                                       Review.status != ReviewStatus.CONFLICT)
        stmt = stmt.where(Application.id.in_(assigned) | (Application.applicant_id == me))
    else:
        stmt = stmt.where(Application.applicant_id == me)
    return [_application_out(a) for a in db.session.execute(stmt).scalars()]


@bp.route("/applications/<int:application_id>")
@visible_application
@bp.response(200, ApplicationOut)
@errors(NOT_FOUND)
@signed_in  # applicants need not be members: the operation decides what they see
def get_application(application_id: int) -> Any:
    return _application_out(g.application)


@bp.route("/applications/<int:application_id>", methods=["PATCH"])
@visible_application
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
    return _application_out(services.save_answers(db.session, g.application, g.api_user, data["answers"]))


@bp.route("/applications/<int:application_id>/submit", methods=["POST"])
@visible_application
@bp.response(200, ApplicationOut)
@errors(NOT_FOUND, FORBIDDEN, (402, "The call has a fee: `POST .../applications/{id}/checkout` pays it, and the "
                                     "payment submits the application"),
        (422, "Required answers missing (`fields` names them), or the deadline passed"))
@signed_in  # applicants need not be members: the operation decides what they see
def submit_application(application_id: int) -> Any:
    application = services.submit_application(db.session, g.application, g.api_user)
    return _application_out(application)


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@visible_application
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
    refunded = services.withdraw_application(db.session, g.application, g.api_user, data["comment"])
    return {**_application_out(g.application), "fee_refunded": refunded}


@bp.route("/applications/<int:application_id>/files", methods=["POST"])
@visible_application
@bp.arguments(FileQuery, location="query")
@bp.arguments(FileIn, location="files")
@bp.response(201, ApplicationOut)
@errors(NOT_FOUND, FORBIDDEN, (413, "Larger than the upload limit"), (415, "Not a PDF"), INVALID)
@signed_in  # applicants need not be members: the operation decides what they see
def upload_file(query: dict[str, Any], files: dict[str, Any], application_id: int) -> Any:
    """Attach a PDF to the caller's application for a file question; its id becomes the answer."""
    upload = files["file"]
    services.upload_file(db.session, g.application, g.api_user, query["question"], upload.stream,
                         upload.filename or "document.pdf")
    return _application_out(g.application)


@bp.route("/applications/<int:application_id>/reviews")
@visible_application
@bp.response(200, ReviewOut(many=True))
@errors(NOT_FOUND)
def list_reviews(application_id: int) -> Any:
    """Submitted reviews: managers see all; a reviewer sees others' only after submitting their own."""
    application = g.application
    if application.is_owned_by(g.api_user) and not _manager():
        return []
    return [_review_out(r) for r in review.visible_reviews(application, g.api_user, _manager())]


@bp.route("/applications/<int:application_id>/reviews", methods=["POST"])
@visible_application
@bp.arguments(ReviewIn)
@bp.response(201, ReviewOut)
@errors(NOT_FOUND, FORBIDDEN, INVALID)
def create_review(data: dict[str, Any], application_id: int) -> Any:
    result = review.submit_review(db.session, g.application, g.api_user, scores=data["scores"],
                                  recommendation=data["recommendation"], comment=data["comment"])
    return _review_out(result)


@bp.route("/applications/<int:application_id>/decision", methods=["POST"])
@visible_application
@bp.arguments(DecisionIn)
@bp.response(200, DecisionOut)
@errors(NOT_FOUND, FORBIDDEN, (409, "The startup is already in the cohort"), INVALID)
def decide(data: dict[str, Any], application_id: int) -> Any:
    if not _manager():
        raise NotAllowed("Only managers decide")
    cohort = None
    if data.get("cohort_id") is not None:
        cohort_id = data["cohort_id"]
        cohort = db.session.execute(select(Cohort).where(Cohort.id == cohort_id, Cohort.org_id == g.org.id)) \
            .scalar_one_or_none() if 0 < cohort_id < 2**31 else None
        if cohort is None:
            raise DomainError("Not a valid cohort", fields={"cohort_id": "Not a valid choice."})
    decisions.decide(db.session, g.application, g.api_user, g.membership, data["decision"], cohort,
                     data.get("comment") or "")
    with force_locale(_lang()):
        warnings = decisions.mapping_problems(g.application, _lang())
    return {**_application_out(g.application), "warnings": warnings}
