"""Mail about mentor sessions: the invitation, a new time, a cancellation, each with its .ics.

The .ics keeps the session's UID; a change bumps its SEQUENCE, so calendar apps update or remove
the event they already hold (RFC 5546: METHOD:REQUEST for a new or moved event, METHOD:CANCEL).
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from incubator.accounts.models import User
from incubator.core.mail import Attachment, send_mail
from incubator.extensions import db
from incubator.mentoring import calendar, services
from incubator.mentoring.models import MentorSession


def _send(record: MentorSession, template: str, subject: str, method: str, actor: User | None) -> None:
    ics = calendar.calendar([record], "Incubator", request.host, method=method)
    agenda = services.open_action_items(db.session, record.match)
    for person in record.attendees():
        if actor is not None and person.id == actor.id:
            continue
        body = render_template(template, record=record, person=person, agenda=agenda, actor=actor)
        send_mail(db.session, person.email, subject, body, attachments=[Attachment("invite.ics", "text/calendar", ics)])


def invite(record: MentorSession) -> None:
    """Email the mentor and the founders an invitation with the .ics attached."""
    _send(record, "mentoring/email/invitation.txt", _("Mentoring session: %(startup)s",
                                                      startup=record.match.startup.name), "REQUEST", None)


def rescheduled(record: MentorSession, actor: User | None) -> None:
    """Tell the others of the session's new time (an updated invitation)."""
    _send(record, "mentoring/email/rescheduled.txt", _("Mentoring session moved: %(startup)s",
                                                       startup=record.match.startup.name), "REQUEST", actor)


def cancelled(record: MentorSession, actor: User | None) -> None:
    """Tell the others that the session is cancelled (the .ics removes it from their calendars)."""
    _send(record, "mentoring/email/cancelled.txt", _("Mentoring session cancelled: %(startup)s",
                                                     startup=record.match.startup.name), "CANCEL", actor)
