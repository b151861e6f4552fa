"""The one iCalendar builder: every feed (a person's bookings, a resource's, a mentor's sessions) and
every mailed invitation (a mentor session's REQUEST or CANCEL) is written here, the same way.

* Times: local times with a TZID, in the time zone of the organisation the calendar belongs to, and
  that zone's VTIMEZONE in the file. A lab's hours and a session's time are agreed in local time
  (08:00 at the Fablab); calendar apps still convert them to the reader's zone, while one that shows
  the event's own zone, or a person reading the file, sees the time as the organisation said it.
  Every calendar the app writes belongs to exactly one organisation, so the zone is never in doubt.
* UIDs: ``<kind>-<id>@<uid_domain>``, the domain configured (``CALENDAR_UID_DOMAIN``, else the host of
  ``PUBLIC_URL``), never the request's host, so two fetches and a new host name keep every event.
* SEQUENCE: the event's revision (a session moved or cancelled bumps it; a booking's time never
  changes, so its revision stays 0); DTSTAMP and LAST-MODIFIED: when the row last changed, so the same
  data gives the same file.
* METHOD only for invitations (RFC 5546: REQUEST for a new or moved event, CANCEL), with the
  ATTENDEEs; feeds carry neither (an ORGANIZER, where there is one, in both). X-WR-CALNAME and
  X-WR-TIMEZONE on every calendar.
* Text (summary, location, description, names) is escaped by icalendar's ``vText``, one way for all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app

if TYPE_CHECKING:
    from icalendar import vCalAddress

PRODID = "-//Incubator//Calendar//EN"


def uid_domain() -> str:
    """The domain of every event's UID: configured, never the request's Host (a new host name would
    otherwise duplicate every event in the subscribers' calendars)."""
    configured = current_app.config.get("CALENDAR_UID_DOMAIN")
    return configured or urlsplit(current_app.config.get("PUBLIC_URL") or "").hostname or "incubator.invalid"


def event_uid(kind: str, ident: int) -> str:
    return f"{kind}-{ident}@{uid_domain()}"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class CalendarEvent:
    """One event as every calendar of the app writes it. ``kind`` and ``ident`` make its UID."""

    kind: str  # "booking", "mentor-session"
    ident: int
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    summary: str
    changed_at: datetime  # aware: DTSTAMP and LAST-MODIFIED
    status: str = "CONFIRMED"  # CONFIRMED, TENTATIVE, CANCELLED
    sequence: int = 0
    location: str = ""
    description: str = ""
    organizer: Person | None = None
    attendees: tuple[Person, ...] = ()


def _address(person: Person, **params: str) -> vCalAddress:
    from icalendar import vCalAddress, vText

    address = vCalAddress(f"mailto:{person.email}")
    address.params["cn"] = vText(person.name)
    for key, value in params.items():
        address.params[key] = value
    return address


def build_calendar(events: Iterable[CalendarEvent], *, name: str, timezone: str, method: str | None = None) -> bytes:
    """The calendar file: ``name`` as its X-WR-CALNAME, times in ``timezone`` (the organisation's),
    ``method`` ("REQUEST", "CANCEL") for an invitation, ``None`` for a feed."""
    if method not in (None, "REQUEST", "CANCEL"):
        raise ValueError(f"unknown iTIP method {method!r}")
    # Loaded by the first calendar a worker writes, not by every worker at start (about 9 MB).
    from icalendar import Calendar, Event

    zone = ZoneInfo(timezone)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", timezone)
    domain = uid_domain()
    for item in events:
        event = Event()
        event.add("uid", f"{item.kind}-{item.ident}@{domain}")
        event.add("sequence", item.sequence)
        event.add("dtstamp", item.changed_at)
        event.add("last-modified", item.changed_at)
        event.add("dtstart", item.starts_at.astimezone(zone))
        event.add("dtend", item.ends_at.astimezone(zone))
        event.add("summary", item.summary)
        if item.location:
            event.add("location", item.location)
        if item.description:
            event.add("description", item.description)
        event.add("status", item.status)
        if item.organizer is not None:
            event["organizer"] = _address(item.organizer)
        if method:
            for person in item.attendees:
                event.add("attendee", _address(person, role="REQ-PARTICIPANT", rsvp="FALSE"))
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
