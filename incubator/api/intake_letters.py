"""Decision letters over the API: a call's letters not sent yet (preview, send) and the
organisation's letter templates (Markdown), with a preview of a template as typed. Managers only
(``MANAGE_PROGRAMMES``). Part of the ``api_intake`` blueprint (``incubator.api.intake_common``).
"""

from __future__ import annotations

from typing import Any

from flask import g
from marshmallow import Schema, fields, validate

from incubator.api.intake_common import (
    FORBIDDEN,
    INVALID,
    NOT_FOUND,
    Strict,
    bp,
    errors,
    managed_call,
    page_of,
)
from incubator.core.actions import savepoint
from incubator.core.errors import DomainError
from incubator.core.permissions import Permission, require
from incubator.extensions import db
from incubator.intake import decisions

# -- schemas ---------------------------------------------------------------------------------------

class LetterOut(Schema):
    outcome = fields.String(required=True, metadata={"enum": list(decisions.OUTCOMES)})
    locale = fields.String(required=True, metadata={"enum": ["en", "vi"]})
    subject = fields.String(required=True)
    body = fields.String(required=True)


class LetterIn(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(decisions.OUTCOMES))
    locale = fields.String(required=True, validate=validate.OneOf(["en", "vi"]))
    subject = fields.String(required=True, validate=validate.Length(max=decisions.SUBJECT_MAX))
    body = fields.String(required=True, validate=validate.Length(max=decisions.BODY_MAX), metadata={
        "description": "Markdown (CommonMark; raw HTML is shown as text, links go to http, https or mailto "
                       "only). Placeholders: " + ", ".join(f"{{{p}}}" for p in decisions.PLACEHOLDERS)})


class LettersIn(Strict):
    templates = fields.List(fields.Nested(LetterIn), required=True, validate=validate.Length(min=1, max=6))


class LetterPreviewOut(Schema):
    application_id = fields.Integer(required=True)
    to = fields.String(required=True)
    subject = fields.String(required=True)
    body = fields.String(required=True, metadata={"description": "The plain-text part: the Markdown, filled in"})
    html = fields.String(required=True, metadata={"description": "The HTML part: the Markdown rendered"})


class LetterRenderedOut(Schema):
    subject = fields.String(required=True)
    html = fields.String(required=True, metadata={
        "description": "The letter's HTML part (a fragment), as the mail carries it"})
    text = fields.String(required=True, metadata={
        "description": "The letter's plain-text part: the Markdown with the placeholders filled in"})


class LettersSentOut(Schema):
    queued = fields.Integer(required=True, metadata={"description": "Letters sent by a job once this answer is given"})


# -- what the answers hold -------------------------------------------------------------------------

def _letter_out(outcome: str, locale: str) -> dict[str, str]:
    subject, body = decisions.letter_template(db.session, g.org.id, outcome, locale)
    return {"outcome": outcome, "locale": locale, "subject": subject, "body": body}


# -- operations ------------------------------------------------------------------------------------

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
    for application in page_of(decisions.letters_due(db.session, call), pagination_parameters):
        letter = decisions.render_letter(db.session, application)
        out.append({"application_id": application.id, "to": application.applicant.email, "subject": letter.subject,
                    "body": letter.text, "html": letter.html})
    return out


@bp.route("/calls/<int:call_id>/letters", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@managed_call
@bp.response(202, LettersSentOut)
@errors(NOT_FOUND, FORBIDDEN)
def send_letters(call_id: int) -> Any:
    """Send the decision letters not sent yet, from a job (each exactly once)."""
    return {"queued": decisions.queue_letters(db.session, g.call)}


# -- letter templates ------------------------------------------------------------------------------

@bp.route("/letters")
@require(Permission.MANAGE_PROGRAMMES)
@bp.response(200, LetterOut(many=True))
@bp.paginate()
@errors(NOT_FOUND, FORBIDDEN)
def list_letter_templates(pagination_parameters: Any) -> Any:
    """The organisation's decision letter per outcome and language (the default text until changed)."""
    rows = [_letter_out(outcome, locale) for outcome in decisions.OUTCOMES for locale in ("en", "vi")]
    return page_of(rows, pagination_parameters)


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


@bp.route("/letters/preview", methods=["POST"])
@require(Permission.MANAGE_PROGRAMMES)
@bp.arguments(LetterIn)
@bp.response(200, LetterRenderedOut)
@errors(NOT_FOUND, FORBIDDEN, INVALID)
def preview_letter_template(data: dict[str, Any]) -> Any:
    """Preview a letter template as given, without saving it.

    The template is filled in for a made-up applicant of the organisation's latest call and rendered
    exactly as the mail is: `html` is its HTML part, `text` its plain-text part. Unknown placeholders
    or too long a text are refused as on saving (`fields` names `subject` or `body`)."""
    letter = decisions.preview_letter(db.session, g.org, data["outcome"], data["locale"], data["subject"],
                                      data["body"])
    return {"subject": letter.subject, "html": letter.html, "text": letter.text}
