"""The managers' webhook forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from incubator.core.forms import FlaskForm
from incubator.webhooks.services import EVENT_TYPES

EVENT_LABELS = {
    "application.submitted": _l("An application is submitted"),
    "application.decided": _l("An application is decided"),
    "checkin.submitted": _l("A check-in is submitted"),
    "checkin.verified": _l("A check-in is verified"),
    "booking.confirmed": _l("A booking is confirmed"),
    "booking.cancelled": _l("A booking is cancelled"),
    "payment.succeeded": _l("A payment succeeds"),
    "payment.refunded": _l("A payment is refunded"),
    "match.published": _l("A mentor match is published"),
    "session.logged": _l("A mentoring session is logged"),
}


class EventsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        """The service says what is wrong with the events (in the same words as the API)."""


class WebhookForm(FlaskForm):
    url = StringField(_l("Endpoint URL"), description=_l("The address that receives the events, https://…"))
    events = EventsField(_l("Events"), choices=[SelectChoice(e, e) for e in EVENT_TYPES])
    description = StringField(_l("Description"), validators=[Length(max=255)],
                              description=_l("Optional: what receives these events."))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events.choices = [SelectChoice(e, f"{EVENT_LABELS[e]} ({e})") for e in EVENT_TYPES]


class EditWebhookForm(WebhookForm):
    version = HiddenField()


class ButtonForm(FlaskForm):
    """For buttons that change state: carries only the CSRF token."""
