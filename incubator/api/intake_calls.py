"""Calls over the API: the list (what the caller may see), create, read with its `ETag`, and change
some settings (`If-Match`). Part of the ``api_intake`` blueprint (``incubator.api.intake_common``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g, url_for
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from incubator.api.intake_common import (
    FORBIDDEN,
    ID,
    INVALID,
    MAX_ID,
    NOT_FOUND,
    STALE,
    Strict,
    bp,
    errors,
    lang,
    managed_call,
)
from incubator.api.paging import api_page
from incubator.cohorts.models import Programme
from incubator.core.permissions import Permission, require
from incubator.core.tenancy import signed_in
from incubator.core.versioning import check_if_match, etag_of
from incubator.extensions import db
from incubator.intake import access, bulk, calls
from incubator.intake.access import visible_call_or_404
from incubator.intake.formspec import QUESTION_TYPES
from incubator.intake.models import Call

# -- schemas ---------------------------------------------------------------------------------------

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


# -- what the answers hold -------------------------------------------------------------------------

def _call_out(call: Call) -> dict[str, Any]:
    questions = []
    for q in call.current_form.questions:
        out = {k: q[k] for k in ("key", "type", "required", "label_en", "label_vi")}
        if "options" in q:
            out["options"] = [o["value"] for o in q["options"]]
        if "max_length" in q:
            out["max_length"] = q["max_length"]
        questions.append(out)
    data = {"id": call.id, "title": call.title(lang()), "title_en": call.title_en, "title_vi": call.title_vi,
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


# -- operations ------------------------------------------------------------------------------------

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
