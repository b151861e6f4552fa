"""Weekly windows: a lab resource's opening hours, a mentor's availability.

Both are the same thing: on a weekday (0 is Monday), from a local wall-clock time to a later one on the
same day, in the owner's time zone. ``WeeklyWindow`` gives the model its columns; ``inside_windows`` is
the one check that a time range lies inside the windows, and ``window_times`` lists the times inside
them (what a booking calendar offers).

What "inside" means: every instant of ``[starts_at, ends_at)`` shows, on a wall clock of the zone, a
weekday and a time inside one of the windows (``starts <= time < ends``). So two windows that touch
(09:00-12:00 and 12:00-17:00) cover 09:00-17:00 together; a range across local midnight is inside only
if windows on both days cover it (a window itself never crosses midnight: ``ends > starts``). On a
day the clocks go forward the skipped wall times are not part of any range; on a day they go back
the repeated hour must be inside the windows both times it is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Time
from sqlalchemy.orm import Mapped, mapped_column


class WeeklyWindow:
    """The columns of a weekly window (the owner's reference, and the table's checks
    ``weekday BETWEEN 0 AND 6`` and ``ends > starts``, are the model's own)."""

    weekday: Mapped[int]
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class Window(Protocol):
    """What the check reads: a model with ``WeeklyWindow``, or any object with the three fields."""

    @property
    def weekday(self) -> int: ...

    @property
    def starts(self) -> time: ...

    @property
    def ends(self) -> time: ...


_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)


def _pieces(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime, datetime]]:
    """``[start, end)`` (UTC) cut where the zone's offset changes: ``(utc_start, wall_start, wall_end)``
    per piece, the wall-clock times naive.

    Within a piece the offset is constant, so wall time runs with the real clock. A piece is at most a
    day long (no zone changes its offset twice within a day); where the offset at its end differs, the
    change is found by halving, to the microsecond."""
    out: list[tuple[datetime, datetime, datetime]] = []
    cursor = start
    while cursor < end:
        offset = cursor.astimezone(zone).utcoffset()
        piece_end = min(end, cursor + _DAY)
        last = piece_end - _TICK
        if last.astimezone(zone).utcoffset() != offset:
            low, high = cursor, last  # offset(low) is the piece's, offset(high) is not
            while high - low > _TICK:
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            piece_end = high  # the first instant with the new offset
        wall = cursor.astimezone(zone).replace(tzinfo=None)
        out.append((cursor, wall, wall + (piece_end - cursor)))
        cursor = piece_end
    return out


def _spans(wall_start: datetime, wall_end: datetime, windows: Sequence[Window]) -> list[tuple[datetime, datetime]]:
    """The windows' wall-clock occurrences (naive) on the days from ``wall_start`` to ``wall_end``, sorted."""
    spans = []
    day = wall_start.date()
    while datetime.combine(day, time(0)) < wall_end:
        for window in windows:
            if window.weekday == day.weekday() and window.ends > window.starts:
                spans.append((datetime.combine(day, window.starts), datetime.combine(day, window.ends)))
        day += _DAY
    return sorted(spans)


def window_times(windows: Iterable[Window], start: datetime, end: datetime, tz: str) -> list[tuple[datetime, datetime]]:
    """The instants of ``[start, end)`` (aware) inside the weekly windows read in ``tz``: disjoint,
    sorted ranges in UTC, touching ones joined. (What a booking calendar offers, before bookings.)"""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("weekly windows need aware datetimes")
    zone, listed = ZoneInfo(tz), list(windows)
    found: list[tuple[datetime, datetime]] = []
    for utc_start, wall_start, wall_end in _pieces(start.astimezone(UTC), end.astimezone(UTC), zone):
        for span_start, span_end in _spans(wall_start, wall_end, listed):
            low, high = max(span_start, wall_start), min(span_end, wall_end)
            if low < high:  # back to real time: within the piece, wall and real clock run together
                found.append((utc_start + (low - wall_start), utc_start + (high - wall_start)))
    merged: list[tuple[datetime, datetime]] = []
    for piece in sorted(found):
        if merged and piece[0] <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], piece[1]))
        else:
            merged.append(piece)
    return merged


def inside_windows(windows: Iterable[Window], starts_at: datetime, ends_at: datetime, tz: str) -> bool:
    """Whether ``[starts_at, ends_at)`` (aware datetimes) lies inside the weekly windows, read in the
    time zone ``tz``. An empty or reversed range is never inside."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("inside_windows needs aware datetimes")
    if ends_at <= starts_at:
        return False
    return window_times(windows, starts_at, ends_at, tz) == [(starts_at.astimezone(UTC), ends_at.astimezone(UTC))]
