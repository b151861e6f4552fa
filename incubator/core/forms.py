"""The base of every form: WTForms' own messages ("This field is required.", "Field must be between
12 and 256 characters long.") in the reader's language.

WTForms ships no Vietnamese catalogue, so its messages are listed below for extraction and translated
in our own catalogue; ``Meta.get_translations`` hands WTForms the translations of the current locale.
"""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm

from incubator.core.errors import DomainError


class _BabelTranslations:
    """What WTForms asks of ``translations``; it formats the %(min)d placeholders itself."""

    def gettext(self, string: str) -> str:
        text: str = get_translations().ugettext(string)
        return text

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        text: str = get_translations().ungettext(singular, plural, n)
        return text


translations = _BabelTranslations()


def apply_form_errors(form: Any, error: DomainError) -> None:
    """Show a service's field errors next to the fields; the rest (and errors of hidden fields only) as a flash."""
    shown = False
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
            shown = shown or field.type != "HiddenField"  # a hidden field (a form's version) shows nothing
    if not shown:
        flash(error.message, "danger")


# flask_wtf ships no types (no py.typed, no stubs), so its classes are Any to mypy.
class FlaskForm(_FlaskForm):  # type: ignore[misc]  # subclassing Any: flask_wtf is untyped
    class Meta(_FlaskForm.Meta):  # type: ignore[misc]  # subclassing Any: flask_wtf is untyped
        def get_translations(self, form: Any) -> Any:
            return translations


# WTForms 3.x built-in messages (wtforms/locale/wtforms.pot), for pybabel to extract; never used directly.
WTFORMS_MESSAGES = (
    _l("Invalid field name '%s'."),
    _l("Field must be equal to %(other_name)s."),
    lazy_ngettext("Field must be at least %(min)d character long.",
                  "Field must be at least %(min)d characters long.", 1),
    lazy_ngettext("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters.", 1),
    lazy_ngettext("Field must be exactly %(max)d character long.",
                  "Field must be exactly %(max)d characters long.", 1),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid IP address."),
    _l("Invalid Mac address."),
    _l("Invalid URL."),
    _l("Invalid UUID."),
    _l("Invalid value, must be one of: %(values)s."),
    _l("Invalid value, can't be any of: %(values)s."),
    _l("This field cannot be edited."),
    _l("This field is disabled and cannot have a value."),
    _l("Invalid CSRF Token."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
    _l("CSRF token expired."),
    _l("Invalid Choice: could not coerce."),
    _l("Choices cannot be None."),
    _l("Not a valid choice."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    lazy_ngettext("'%(value)s' is not a valid choice for this field.",
                  "'%(value)s' are not valid choices for this field.", 1),
    _l("Not a valid datetime value."),
    _l("Not a valid date value."),
    _l("Not a valid time value."),
    _l("Not a valid week value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
)
