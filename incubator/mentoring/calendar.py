"""iCalendar: one event per mentor session, for invitations and the mentor's personal feed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from icalendar import Calendar, Event, vCalAddress, vText

from incubator.mentoring.models import MentorSession, SessionStatus


def session_event(record: MentorSession, domain: str) -> Event:
    event = Event()
    event.add("uid", f"mentor-session-{record.id}@{domain}")
    event.add("sequence", record.sequence)
    event.add("dtstamp", record.updated_at)
    event.add("dtstart", record.starts_at.astimezone(UTC))  # in UTC: every calendar shows it in local time
    event.add("dtend", record.ends_at.astimezone(UTC))
    event.add("summary", f"Mentoring: {record.match.startup.name} · {record.match.mentor.user.name}")
    if record.location:
        event.add("location", record.location)
    if record.topics:
        event.add("description", record.topics)
    event.add("status", "CANCELLED" if record.status == SessionStatus.CANCELLED else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{record.match.mentor.user.email}")
    organizer.params["cn"] = vText(record.match.mentor.user.name)
    event["organizer"] = organizer
    return event


def calendar(records: Iterable[MentorSession], name: str, domain: str, method: str | None = None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Incubator//Mentoring//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    if method:
        cal.add("method", method)
    for record in records:
        cal.add_component(session_event(record, domain))
    return cal.to_ical()
