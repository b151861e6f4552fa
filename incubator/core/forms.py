"""The base of every form: WTForms' own messages ("This field is required.", "Field must be between
12 and 256 characters long.") in the reader's language.

WTForms ships no Vietnamese catalogue, so its messages are listed below for extraction and translated
in our own catalogue; ``Meta.get_translations`` hands WTForms the translations of the current locale.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import flash
from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import DecimalField, FloatField, IntegerField
from wtforms.widgets import TextInput

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


class LocaleNumber:
    """What a number field shares: the reader's separators read with Babel ("97.102.000" in Vietnamese,
    "97,102,000" in English, "97102000" in both), a text box (a browser's number box refuses separators),
    and on an error the text as typed stays in the box."""

    widget = TextInput()
    invalid_message = "Not a valid decimal value."  # WTForms' own messages, translated below
    shown_digits = 6
    data: Any

    def _parse(self, text: str) -> Decimal:
        from incubator.core.formatting import parse_number

        return parse_number(text)

    def _value(self) -> str:
        if self.raw_data:  # type: ignore[attr-defined]  # a WTForms field's
            return str(self.raw_data[0])  # type: ignore[attr-defined]
        if self.data is None:
            return ""
        from incubator.core.formatting import decimal

        return decimal(self.data, self.shown_digits)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = self._convert(self._parse(str(valuelist[0])))
        except (ValueError, ArithmeticError) as error:
            self.data = None
            raise ValueError(self.gettext(self.invalid_message)) from error  # type: ignore[attr-defined]

    def _convert(self, value: Decimal) -> Any:
        return value


class LocaleDecimalField(LocaleNumber, DecimalField):  # type: ignore[misc]  # WTForms is untyped here
    """A money amount or a measure, typed with the reader's separators; ``data`` is a ``Decimal``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, **kwargs)
        self.shown_digits = self.places if isinstance(self.places, int) else 6


class LocaleIntegerField(LocaleNumber, IntegerField):  # type: ignore[misc]  # WTForms is untyped here
    """A count typed with the reader's separators ("1.200" is twelve hundred in Vietnamese); ``data`` is an int."""

    invalid_message = "Not a valid integer value."
    shown_digits = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(*args, **kwargs)

    def _convert(self, value: Decimal) -> int:
        if value != value.to_integral_value():
            raise ValueError("not a whole number")
        return int(value)


class LocaleFloatField(LocaleNumber, FloatField):  # type: ignore[misc]  # WTForms is untyped here
    """A weight or a score, typed with the reader's separators; ``data`` is a float."""

    invalid_message = "Not a valid float value."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(*args, **kwargs)

    def _convert(self, value: Decimal) -> float:
        return float(value)


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
