"""Mentor sessions as calendar events, for the invitations and the mentor's feed (written by
``core.ics``, the builder every calendar of the app shares)."""

from __future__ import annotations

from collections.abc import Iterable

from incubator.core.ics import CalendarEvent, Person, build_calendar
from incubator.mentoring.models import MentorSession, SessionStatus


def session_event(record: MentorSession, *, invitation: bool = False) -> CalendarEvent:
    """``invitation``: with the attendees (the mentor and the founders), which only invitations list."""
    mentor = record.match.mentor.user
    return CalendarEvent(
        kind="mentor-session", ident=record.id, starts_at=record.starts_at, ends_at=record.ends_at,
        summary=f"Mentoring: {record.match.startup.name} · {mentor.name}", changed_at=record.updated_at,
        status="CANCELLED" if record.status == SessionStatus.CANCELLED else "CONFIRMED",
        sequence=record.sequence, location=record.location, description=record.topics,
        organizer=Person(mentor.name, mentor.email),
        attendees=tuple(Person(user.name, user.email) for user in record.attendees()) if invitation else ())


def calendar(records: Iterable[MentorSession], name: str, timezone: str, method: str | None = None) -> bytes:
    """``timezone``: the organisation's (the sessions' times are written in it, with its VTIMEZONE)."""
    events = [session_event(r, invitation=method is not None) for r in records]
    return build_calendar(events, name=name, timezone=timezone, method=method)
