"""Mail about matches and sessions: a published match; an invitation, a new time, a cancellation (.ics).

The .ics keeps the session's UID; a change bumps its SEQUENCE, so calendar apps update or remove
the event they already hold (RFC 5546: METHOD:REQUEST for a new or moved event, METHOD:CANCEL).
"""

from __future__ import annotations

from flask import g, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from incubator.accounts.models import User
from incubator.core.mail import Attachment, send_mail
from incubator.extensions import db
from incubator.mentoring import calendar, mentor_sessions
from incubator.mentoring.models import Match, MentorSession

SUBJECTS = {
    "invitation": lambda startup: _("Mentoring session: %(startup)s", startup=startup),
    "rescheduled": lambda startup: _("Mentoring session moved: %(startup)s", startup=startup),
    "cancelled": lambda startup: _("Mentoring session cancelled: %(startup)s", startup=startup),
}


def _send(record: MentorSession, kind: str, method: str, actor: User | None) -> None:
    ics = calendar.calendar([record], "Incubator", g.org.timezone, method=method)
    agenda = mentor_sessions.open_action_items(db.session, record.match)
    for person in record.attendees():
        if actor is not None and person.id == actor.id:
            continue
        # In the reader's language and time zone (a mentor's own, from their profile; else the org's).
        reader = record.match.mentor if person.id == record.match.mentor.user_id else person
        with force_locale(person.locale or g.org.default_locale):
            body = render_template(f"mentoring/email/{kind}.txt", record=record, person=person, reader=reader,
                                   org=g.org, agenda=agenda, actor=actor)
            subject = SUBJECTS[kind](record.match.startup.name)
        send_mail(db.session, person.email, subject, body, attachments=[Attachment("invite.ics", "text/calendar", ics)])


def invite(record: MentorSession) -> None:
    """Email the mentor and the founders an invitation with the .ics attached."""
    _send(record, "invitation", "REQUEST", None)


def rescheduled(record: MentorSession, actor: User | None) -> None:
    """Tell the others of the session's new time (an updated invitation)."""
    _send(record, "rescheduled", "REQUEST", actor)


def cancelled(record: MentorSession, actor: User | None) -> None:
    """Tell the others that the session is cancelled (the .ics removes it from their calendars)."""
    _send(record, "cancelled", "CANCEL", actor)


def published(match: Match) -> None:
    """Tell the mentor and the founders of a newly published match, asking them to accept it."""
    link = url_for("mentoring.mine", _external=True)
    for person in [match.mentor.user] + [f.user for f in match.startup.founders]:
        body = render_template("mentoring/email/published.txt", match=match, person=person, link=link)
        send_mail(db.session, person.email, _("New mentoring match: %(startup)s and %(mentor)s",
                                              startup=match.startup.name, mentor=match.mentor.user.name), body)
