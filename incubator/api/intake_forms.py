"""A call's application form (its questions, versioned once answered) and its review rubric over the
API, each with an `ETag` for `If-Match` on its changes. Managers only (``MANAGE_PROGRAMMES``). Part
of the ``api_intake`` blueprint (``incubator.api.intake_common``).
"""

from __future__ import annotations

from typing import Any

from flask import g, request
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from incubator.api.intake_common import (
    FORBIDDEN,
    INVALID,
    MAX_ID,
    NOT_FOUND,
    STALE,
    Strict,
    bp,
    errors,
    managed_call,
)
from incubator.core.errors import NotFound
from incubator.core.permissions import Permission, require
from incubator.extensions import db
from incubator.intake import calls
from incubator.intake.formspec import QUESTION_TYPES
from incubator.intake.models import Application, Call

LEVELS_MAX = 101  # descriptions of one criterion's scores

# -- schemas ---------------------------------------------------------------------------------------

class OptionIn(Strict):
    value = fields.String(validate=validate.Length(min=1, max=40), metadata={
        "description": "Where answers are stored; left out: made from `label_en` (an option of the question "
                       "with the same English label keeps its own)"})
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
    key = fields.String(validate=validate.Length(max=40), metadata={
        "description": "Lowercase letters, digits and underscores, where answers are stored; left out: made "
                       "from `label_en` (\"Lĩnh vực\" gives `linh_vuc`), unique in the form, never renamed later"})
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


class LevelIn(Strict):
    en = fields.String(load_default="", validate=validate.Length(max=calls.LEVEL_TEXT_MAX))
    vi = fields.String(load_default="", validate=validate.Length(max=calls.LEVEL_TEXT_MAX))


class LevelOut(Schema):
    en = fields.String(required=True)
    vi = fields.String(required=True)


class CriterionIn(Strict):
    key = fields.String(required=True, validate=validate.Length(max=40))
    label_en = fields.String(required=True, validate=validate.Length(max=255))
    label_vi = fields.String(required=True, validate=validate.Length(max=255))
    scale_min = fields.Integer(load_default=0, validate=validate.Range(min=-10**6, max=10**6))
    scale_max = fields.Integer(load_default=5, validate=validate.Range(min=-10**6, max=10**6))
    weight = fields.Float(load_default=1.0, validate=validate.Range(min=-1000, max=1000),
                          metadata={"description": "Above 0, at most 100"})
    levels = fields.Dict(keys=fields.String(validate=validate.Length(max=20)), values=fields.Nested(LevelIn),
                         validate=validate.Length(max=LEVELS_MAX), metadata={
                             "description": "What scores mean, for reviewers: `{\"<score>\": {\"en\": .., "
                                            "\"vi\": ..}}`, each key a score of the scale; left out: kept"})


class RubricIn(Strict):
    criteria = fields.List(fields.Nested(CriterionIn), required=True, validate=validate.Length(max=50))


class CriterionOut(Schema):
    key = fields.String(required=True)
    label_en = fields.String(required=True)
    label_vi = fields.String(required=True)
    scale_min = fields.Integer(required=True)
    scale_max = fields.Integer(required=True)
    weight = fields.Float(required=True)
    levels = fields.Dict(keys=fields.String(), values=fields.Nested(LevelOut), required=True, metadata={
        "description": "What scores mean: `{\"<score>\": {\"en\": .., \"vi\": ..}}`"})


class RubricOut(Schema):
    call_id = fields.Integer(required=True)
    criteria = fields.List(fields.Nested(CriterionOut), required=True)


class QuestionKeyQuery(Strict):
    key = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "The question's key"})


# -- what the answers hold -------------------------------------------------------------------------

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


# -- operations ------------------------------------------------------------------------------------

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
