"""The month and agenda views beside the week grid (#16), for one resource or a lab's resources side by
side: each built from one query for the window's bookings (``grid.window_bookings``) and the free time's
(``availability.free_intervals``: its bookings and closures), whatever the number of days or resources;
no query per day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from incubator.booking import availability
from incubator.booking.grid import window_bookings
from incubator.booking.models import HOLD_STATUSES, Resource
from incubator.orgs.models import Organisation

AGENDA_DAYS = 7


@dataclass
class Entry:
    """A line of the agenda: a booking (``booked``, ``mine`` or ``held``) or ``free`` time of a resource."""

    resource: Resource
    starts_at: datetime
    ends_at: datetime
    kind: str


@dataclass
class DaySummary:
    """A day of the month view: the bookings that start that day and the free minutes left in it."""

    day: date
    bookings: int = 0
    mine: int = 0
    free_minutes: int = 0
    in_month: bool = True
    entries: list[Entry] = field(default_factory=list)


def _window(days: list[date], tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(days[0], time(0), tz), datetime.combine(days[-1] + timedelta(days=1), time(0), tz)


def _free_by_day(session: Session, org: Organisation, resources: list[Resource], days: list[date],
                 now: datetime) -> dict[date, list[Entry]]:
    """Each day's free time per resource (what is left of it from ``now``), cut at midnight."""
    tz = ZoneInfo(org.timezone)
    start, end = _window(days, tz)
    free = availability.free_intervals(session, org, resources, start, end)
    out: dict[date, list[Entry]] = {day: [] for day in days}
    for resource in resources:
        for s, e in free[resource.id]:
            s = max(s, now.astimezone(tz))
            while s < e:
                midnight = datetime.combine(s.date() + timedelta(days=1), time(0), tz)
                piece_end = min(e, midnight)
                if s.date() in out and piece_end > s:
                    out[s.date()].append(Entry(resource, s, piece_end, "free"))
                s = piece_end
    return out


def agenda(session: Session, org: Organisation, resources: list[Resource], first: date, viewer_id: int,
           now: datetime) -> dict[date, list[Entry]]:
    """The coming ``AGENDA_DAYS`` days from ``first``: each day's bookings and free time, by start."""
    tz = ZoneInfo(org.timezone)
    days = [first + timedelta(days=i) for i in range(AGENDA_DAYS)]
    start, end = _window(days, tz)
    by_id = {r.id: r for r in resources}
    out = _free_by_day(session, org, resources, days, now)
    for b in window_bookings(session, list(by_id), start, end):
        day = b.starts_at.astimezone(tz).date()
        if day in out and b.ends_at > now:
            kind = "mine" if b.user_id == viewer_id else "held" if b.status in HOLD_STATUSES else "booked"
            out[day].append(Entry(by_id[b.resource_id], b.starts_at.astimezone(tz), b.ends_at.astimezone(tz), kind))
    for entries in out.values():
        entries.sort(key=lambda e: (e.starts_at, e.resource.name, e.kind))
    return out


def month(session: Session, org: Organisation, resources: list[Resource], any_day: date, viewer_id: int,
          now: datetime) -> list[list[DaySummary]]:
    """The weeks (Monday first) that cover the month of ``any_day``, each day with its bookings counted
    and the free minutes left in it."""
    tz = ZoneInfo(org.timezone)
    first = any_day.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    begin, finish = first - timedelta(days=first.weekday()), last + timedelta(days=6 - last.weekday())
    days = [begin + timedelta(days=i) for i in range((finish - begin).days + 1)]
    summaries = {day: DaySummary(day, in_month=day.month == first.month) for day in days}
    start, end = _window(days, tz)
    for b in window_bookings(session, [r.id for r in resources], start, end):
        summary = summaries.get(b.starts_at.astimezone(tz).date())
        if summary is not None:
            summary.bookings += 1
            summary.mine += b.user_id == viewer_id
    for day, entries in _free_by_day(session, org, resources, days, now).items():
        summaries[day].free_minutes = sum(int((e.ends_at - e.starts_at).total_seconds()) // 60 for e in entries)
    return [[summaries[days[w * 7 + d]] for d in range(7)] for w in range(len(days) // 7)]
