"""The mentoring pages' forms: what each page posts, read through Flask-WTF (with its CSRF check).

The fields take what was typed as it is (text, or a list for repeated fields); the services check
the values and refuse with their own translated messages (``DomainError`` with ``fields``), so a
page shows the same words as the API. The field names are the names the templates post.
"""

from __future__ import annotations

from typing import Any

from wtforms import SelectMultipleField, StringField

from incubator.core.forms import FlaskForm
from incubator.mentoring import criteria
from incubator.mentoring.models import SessionFormat


def _text(default: str | None = "") -> Any:
    return StringField(default=default)


def _many() -> Any:
    """A repeated field (several checkboxes, one input per row), as a list of strings."""
    return SelectMultipleField(coerce=str, validate_choice=False, default=list)


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ProfileForm(FlaskForm):
    expertise = _many()
    free_tags = _text()
    industries = _many()
    stages = _many()
    languages = _many()
    capacity = _text(None)
    hours_per_month = _text(None)
    timezone = _text()
    headline = _text()
    bio = _text()
    affiliation = _text("business")
    windows = _text()
    version = _text(None)  # the profile's version the page was rendered from (``core.versioning``)


class ConflictForm(FlaskForm):
    startup_id = _text(None)
    kind = _text()
    reason = _text()


class NeedsForm(FlaskForm):
    needs = _many()
    industry = _text("other")
    languages = _many()


class MatchingForm(FlaskForm):
    per_startup = _text(None)
    participation_first = _text(None)

    def weights(self) -> dict[str, Any]:
        """Each criterion's weight as typed (the default where the page sent none)."""
        typed = {name: getattr(self, f"w_{name}").data for name in criteria.CRITERIA}
        return {name: criteria.DEFAULT_WEIGHTS[name] if value is None else value for name, value in typed.items()}


for _criterion in criteria.CRITERIA:
    setattr(MatchingForm, f"w_{_criterion}", _text(None))


class ReplaceMentorForm(FlaskForm):
    mentor_id = _text(None)


class AnswerForm(FlaskForm):
    answer = _text()


class ScheduleForm(FlaskForm):
    starts_at = _text()
    duration = _text(None)
    format = _text(SessionFormat.IN_PERSON)
    location = _text()
    topics = _text()


class LogSessionForm(FlaskForm):
    notes = _text()
    topics = _text()
    duration = _text(None)
    action_title = _many()
    action_owner = _many()
    action_due = _many()


class RateForm(FlaskForm):
    rating = _text(None)
    comment = _text()


class RescheduleForm(FlaskForm):
    starts_at = _text()
    duration = _text(None)
