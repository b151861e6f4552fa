"""Applications over the API: the applicant's draft, answers, files, submission and withdrawal
(``@signed_in``: applying makes no one a member), the lists each role may see, and the managers'
moves and decisions. Part of the ``api_intake`` blueprint (``incubator.api.intake_common``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import g
from flask_babel import force_locale
from flask_login import current_user
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

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
    own_application,
    visible_application,
    visible_call,
)
from incubator.api.paging import api_page
from incubator.core.errors import NotAllowed
from incubator.core.pagination import text_filter
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import signed_in
from incubator.extensions import db
from incubator.intake import access, bulk, decisions, pipeline, review, services
from incubator.intake.access import may_apply, visible_application_or_404
from incubator.intake.models import Application, Call, Stage

# -- schemas ---------------------------------------------------------------------------------------

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


class MoveIn(Strict):
    stage = fields.String(required=True, validate=validate.Length(max=20),
                          metadata={"enum": [s.value for s in Stage]})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


class DecisionIn(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(list(decisions.OUTCOMES)))
    cohort_id = fields.Integer(load_default=None, allow_none=True, validate=ID,
                               metadata={"description": "The cohort an accepted startup joins (default: the call's)"})
    comment = fields.String(load_default="", validate=validate.Length(max=2000))


# -- what the answers hold -------------------------------------------------------------------------

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


def _org_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(g.org.timezone)).astimezone(UTC)


# -- operations ------------------------------------------------------------------------------------

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
    with force_locale(lang()):
        warnings = decisions.mapping_problems(application, lang())
    return {**_application_out(application), "warnings": warnings}
