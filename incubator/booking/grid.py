"""The calendar grids of the lab pages (a resource's week, a lab's day): cells of a few minutes, each
free, busy (and whether it is the viewer's), closed or past.

One query for the window's bookings (only the columns a cell shows) besides the free time's
(``availability.free_intervals``: its bookings and closures), whatever the number of cells or bookings;
the free time is computed once per resource, and each row of cells is a single sweep over the sorted
bookings and free intervals (``sweep``), not a scan per cell.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from incubator.booking import access, availability
from incubator.booking.models import ACTIVE_STATUSES, HOLD_STATUSES, Booking, Resource
from incubator.booking.rules import overlapping
from incubator.core import formatting
from incubator.orgs.models import Organisation


class Busy(NamedTuple):
    """What a cell needs of a booking."""

    resource_id: int
    user_id: int
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    status: str = "confirmed"


# A cell as the grids show it: a free one links to the booking form (for those who may book), a busy
# one says whose it is, the others are a coloured box. Built here rather than by a template macro per
# cell (a week has some two hundred cells): the busy and empty boxes once per grid, each free link from
# its parts (escaped by ``Markup``'s ``%``).
FREE = Markup('<a class="slot slot-free" href="%s" aria-label="%s" data-slot="%s">%s</a>')
BUSY = Markup('<span class="slot slot-busy" title="{}">{}</span>')
BOX = Markup('<span class="slot slot-{}"></span>')
# Free time the viewer may not book (their training, their role, a resource switched off): the reason
# is its title and, for screen readers, its text.
UNBOOKABLE = Markup('<span class="slot slot-unbookable" title="{0}"><span class="visually-hidden">{0}</span></span>')
HELD = Markup('<span class="slot slot-busy" data-state="held" title="{}">{}</span>')
MINE = Markup('<span class="slot slot-busy" data-state="mine" title="{}">{}</span>')


@dataclass
class Cell:
    starts_at: datetime
    state: str  # free | busy | closed | past | unbookable (free, but not for the viewer)
    mine: bool = False  # busy with the viewer's own booking
    html: Markup = field(default_factory=Markup)


@lru_cache(maxsize=16)
def words(locale: str) -> dict[str, str]:
    """The grid's words in ``locale`` (the current one: callers pass ``str(get_locale())``), translated once."""
    return {"free": _("free"), "busy": _("busy"), "mine": _("mine"), "book": _("Book %(time)s"),
            "held": _("held")}


def sweep(moments: Sequence[datetime], step: timedelta, bookings: Sequence[Busy],
          free: Sequence[tuple[datetime, datetime]], now: datetime) -> list[tuple[str, Busy | None]]:
    """The state of each cell ``[moment, moment + step)`` (``moments`` ascending) and the booking that
    takes it: busy when a booking overlaps it (the earliest-starting one), else past before ``now``, free
    when one free interval holds the whole cell, else closed.

    ``bookings`` are sorted by start and ``free`` by start; neither needs to be disjoint."""
    starts = [s for s, _e in free]
    reach: list[datetime] = []  # the latest end among the free intervals starting so far
    for _s, e in free:
        reach.append(e if not reach or e > reach[-1] else reach[-1])
    out: list[tuple[str, Busy | None]] = []
    low = 0
    for moment in moments:
        slot_end = moment + step
        while low < len(bookings) and bookings[low].ends_at <= moment:
            low += 1  # ended before this cell, and so before every later one
        taken = None
        for booking in bookings[low:]:
            if booking.starts_at >= slot_end:
                break
            if booking.ends_at > moment:
                taken = booking
                break
        if taken is not None:
            out.append(("busy", taken))
            continue
        if moment < now:
            out.append(("past", None))
            continue
        last = bisect_right(starts, moment) - 1
        out.append(("free" if last >= 0 and reach[last] >= slot_end else "closed", None))
    return out


def _day_moments(day: date, resource: Resource, step: timedelta, tz: ZoneInfo) -> list[datetime]:
    """07:00 to 21:00 (or the whole day for round-the-clock resources) in steps."""
    first, last = (time(0), time(23, 59)) if resource.open_24h else (time(7), time(21))
    moment, stop = datetime.combine(day, first, tz), datetime.combine(day, last, tz)
    moments = []
    while moment < stop:
        moments.append(moment)
        moment += step
    return moments


def window_bookings(session: Session, ids: list[int], start: datetime, end: datetime) -> list[Busy]:
    """The active bookings of ``ids`` that block any time between ``start`` and ``end`` (their buffers
    included), by start."""
    rows = session.execute(select(Booking.resource_id, Booking.user_id, Booking.starts_at, Booking.ends_at,
                                  Booking.blocked_until, Booking.status).where(
        Booking.resource_id.in_(ids), Booking.status.in_(ACTIVE_STATUSES), *overlapping(start, end))
        .order_by(Booking.starts_at, Booking.id)).all()
    return [Busy(*row) for row in rows]


class _Labels:
    """The free cells' links and labels, each time of day formatted once per grid."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.locale = str(get_locale())
        self.words = words(self.locale)
        self.times: dict[time, str] = {}
        self.links: dict[int, str] = {}
        self.boxes: dict[tuple[str, bool, str, bool], Markup] = {}
        self.refusals: dict[str, Markup] = {}

    def refused(self, reason: str) -> Markup:
        if reason not in self.refusals:
            self.refusals[reason] = UNBOOKABLE.format(reason)
        return self.refusals[reason]

    def label(self, moment: datetime) -> str:
        local = moment.astimezone(self.tz).time()
        if local not in self.times:
            self.times[local] = self.words["book"] % {"time": formatting.time_(local)}
        return self.times[local]

    def link_name(self, moment: datetime) -> str:
        """A free cell's accessible name: the word it shows, then what following it does ("free, Book
        10:00"): a name that leaves out the visible word fails WCAG's label in name (2.5.3)."""
        return f"{self.words['free']}, {self.label(moment)}"

    def href(self, resource_id: int, moment: datetime) -> str:
        if resource_id not in self.links:
            self.links[resource_id] = url_for("booking.book", resource_id=resource_id)
        return f"{self.links[resource_id]}?start={quote(moment.isoformat(), safe=':')}"


def grid(session: Session, org: Organisation, resources: list[Resource], days: list[date], step_minutes: int,
         viewer_id: int, now: datetime, bookable: bool,
         refusals: Mapping[int, str] | None = None) -> dict[tuple[int, date], list[Cell]]:
    """Cells of ``step_minutes`` per (resource, day), in the organisation's time zone; the free ones link
    to the booking form when the viewer may book (``bookable``), and are ``unbookable``, with the reason,
    for the resources ``refusals`` names (``access.resource_refusals``)."""
    refusals = refusals or {}
    tz = ZoneInfo(org.timezone)
    start = datetime.combine(days[0], time(0), tz)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), tz)
    booked = window_bookings(session, [r.id for r in resources], start, end)
    free = availability.free_intervals(session, org, resources, start, end)
    step = timedelta(minutes=step_minutes)
    labels = _Labels(tz)
    cells: dict[tuple[int, date], list[Cell]] = {}
    for resource in resources:
        own = [b for b in booked if b.resource_id == resource.id]
        reason = refusals.get(resource.id)
        for day in days:
            moments = _day_moments(day, resource, step, tz)
            row = []
            for moment, (state, taken) in zip(moments, sweep(moments, step, own, free[resource.id], now),
                                              strict=True):
                mine = taken is not None and taken.user_id == viewer_id
                if state == "free" and reason is not None:
                    row.append(Cell(moment, "unbookable", False, labels.refused(reason)))
                    continue
                held = taken is not None and not mine and taken.status in HOLD_STATUSES
                row.append(Cell(moment, state, mine, _html(state, mine, moment, resource, bookable, labels, held)))
            cells[(resource.id, day)] = row
    return cells


def _html(state: str, mine: bool, moment: datetime, resource: Resource, bookable: bool, labels: _Labels,
          held: bool = False) -> Markup:
    if state == "free" and bookable:
        return FREE % (labels.href(resource.id, moment), labels.link_name(moment), moment.isoformat(),
                       labels.words["free"])
    key = (state, mine, resource.name if state == "busy" else "", held)
    if key not in labels.boxes:
        if state != "busy":
            labels.boxes[key] = BOX.format(state)
        elif held:
            labels.boxes[key] = HELD.format(resource.name, labels.words["held"])
        else:
            labels.boxes[key] = (MINE if mine else BUSY).format(resource.name, labels.words["mine" if mine else "busy"])
    return labels.boxes[key]


def resource_or_404(resource_id: int) -> Resource:
    """``access.resource_or_404`` with what its week shows and its free time needs (its lab, its
    training, its opening hours), in one query."""
    return access.resource_or_404(resource_id, joinedload(Resource.lab), joinedload(Resource.training),
                                  joinedload(Resource.hours))


