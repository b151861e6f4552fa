"""The booking pages' forms. Each field reads what was typed with the readers of ``booking.inputs`` (the
same messages as before) and keeps the typed value on ``field.value``; the rules that weigh several
values, or rows, stay in the services, so the API (its own marshmallow schemas) meets the same ones."""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from wtforms import BooleanField, FileField, HiddenField, StringField
from wtforms.validators import ValidationError

from incubator.booking import inputs
from incubator.booking.rules import MAX_BOOKING
from incubator.booking.setup import RULE_FLAGS, RULE_NUMBERS, Hours
from incubator.core.errors import DomainError
from incubator.core.forms import FlaskForm

LONGEST = int(MAX_BOOKING.total_seconds() // 60)


def reading(reader: Callable[[Any, str | None], Any]) -> Callable[[Any, Any], None]:
    """A validator that keeps ``reader(form, text)`` on ``field.value``, its ``DomainError`` as the field's error."""

    def validate(form: Any, field: Any) -> None:
        try:
            field.value = reader(form, field.data)
        except DomainError as error:
            field.value = None
            raise ValidationError(error.message) from error

    return validate


def minutes_field() -> StringField:
    return StringField(validators=[reading(lambda form, text: inputs.whole_number(
        text, "minutes", default=form.default_minutes, low=1, high=LONGEST))])


def start_field(name: str = "start") -> StringField:
    return StringField(validators=[reading(lambda form, text: inputs.local_time(text, form.zone, name))])


def form_error(form: Any, code: str = "invalid_input") -> DomainError:
    """A form's field errors as the ``DomainError`` the booking templates show (first message, each field's)."""
    errors = {name: messages[0] for name, messages in form.errors.items() if messages}
    return DomainError(next(iter(errors.values()), _("Please correct the highlighted fields.")), code=code,
                       fields=errors)


class _Timed(FlaskForm):
    """Forms with a length defaulting to the resource's shortest booking, and local times of ``zone``."""

    def __init__(self, *args: Any, default_minutes: int = 30, zone: ZoneInfo | None = None, **kwargs: Any) -> None:
        self.default_minutes = default_minutes
        self.zone = zone or ZoneInfo("UTC")
        super().__init__(*args, **kwargs)


class BookForm(_Timed):
    """Booking a resource from the week grid: a length, weekly repeats (all or nothing, or skipping), a note."""

    minutes = minutes_field()
    weeks = StringField(validators=[reading(lambda _form, text: inputs.whole_number(
        text, "weeks", default=1, low=1, high=26))])
    skip_conflicts = BooleanField()
    note = StringField(filters=[lambda value: inputs.text(value, 500)])


class TimedSlotForm(_Timed):
    """A start and a length: joining the waitlist, booking a shared resource."""

    start = start_field()
    minutes = minutes_field()


class ClosureForm(FlaskForm):
    starts = StringField()
    ends = StringField()
    reason = StringField(filters=[lambda value: inputs.text(value, 255)])
    maintenance = BooleanField()
    remove = StringField(filters=[inputs.row_id])


class ShareForm(FlaskForm):
    partner_org_id = StringField(filters=[inputs.row_id])
    needs_approval = BooleanField()
    action = StringField()


class TrainingForm(FlaskForm):
    name = StringField(default="")
    validity_months = StringField(default="12")


class CertificationForm(FlaskForm):
    training_id = StringField(filters=[inputs.row_id])
    user_id = StringField(filters=[inputs.row_id])


class LabForm(FlaskForm):
    name = StringField(default="")
    site = StringField(default="")


class NewResourceForm(FlaskForm):
    name = StringField(default="")
    kind = StringField(default="")


class ApprovalForm(FlaskForm):
    decision = StringField()

    def validate_decision(self, field: Any) -> None:
        if field.data not in ("approve", "decline"):  # anything else once declined the booking
            raise ValidationError(_("Choose approve or decline."))


def _rule_number(_form: Any, text: str | None) -> int:
    value = (text or "").strip()
    if not (value.isascii() and value.isdigit()):  # "²" is a digit to isdigit(), and int() refuses it
        raise inputs.invalid("number", _("Enter a whole number, 0 or more."))
    return int(value) if len(value) <= 12 else inputs.INT_MAX + 1  # beyond every rule's largest value


def _quota(text: str | None) -> int | None:
    """Hours per startup per week: anything but 1 to 168 means no quota (as the page always took it)."""
    value = (text or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 4 and 0 < int(value) <= 168 else None


def _training(_form: Any, text: str | None) -> int | None:
    value = (text or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) < 10):
        raise inputs.invalid("training_id", _("Not a valid choice."))
    return int(value)


class RulesForm(FlaskForm):
    """A resource's rules, as its settings page sends them: every field (so what is left out is cleared)."""

    name = StringField(default="")
    kind = StringField(default="")
    description = StringField(default="")
    max_hours_per_week = StringField(default="")
    training_id = StringField(validators=[reading(_training)])
    photo = FileField()
    version = HiddenField()

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        self.hours_errors: dict[str, str] = {}
        self.hours: Hours = []
        for weekday in range(7):
            opens = (getattr(self, f"opens_{weekday}").data or "").strip()
            closes = (getattr(self, f"closes_{weekday}").data or "").strip()
            if not (opens and closes):
                continue
            try:
                o, c = time.fromisoformat(opens), time.fromisoformat(closes)
                if o.tzinfo or c.tzinfo:
                    raise ValueError(opens)
            except ValueError:
                self.hours_errors[f"hours_{weekday}"] = _("Use HH:MM.")
                continue
            self.hours.append((weekday, o, c))
        return valid and not self.hours_errors

    @property
    def field_errors(self) -> dict[str, str]:
        """Every error by the name the page shows it under (``hours_<weekday>`` for opening hours)."""
        return {**{name: messages[0] for name, messages in self.errors.items() if messages}, **self.hours_errors}

    def changes(self) -> dict[str, Any]:
        """The typed values for ``setup.save_rules``."""
        return {"name": self.name.data, "kind": self.kind.data, "description": self.description.data,
                "max_hours_per_week": _quota(self.max_hours_per_week.data), "training_id": self.training_id.value,
                "hours": self.hours,
                **{name: getattr(self, name).value for name in RULE_NUMBERS},
                **{flag: getattr(self, flag).data for flag in RULE_FLAGS}}


for _name in RULE_NUMBERS:
    setattr(RulesForm, _name, StringField(validators=[reading(_rule_number)]))
for _flag in RULE_FLAGS:
    setattr(RulesForm, _flag, BooleanField())
for _weekday in range(7):
    setattr(RulesForm, f"opens_{_weekday}", StringField())
    setattr(RulesForm, f"closes_{_weekday}", StringField())

