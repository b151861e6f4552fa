"""Weekly windows: a lab resource's opening hours, a mentor's availability.

Both are the same thing: on a weekday (0 is Monday), from a local wall-clock time to a later one on the
same day, in the owner's time zone. ``WeeklyWindow`` gives the model its columns; ``inside_windows`` is
the one check that a time range lies inside the windows.

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


def _pieces(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` (UTC) cut where the zone's offset changes, as wall-clock (naive) ranges.

    Within a piece the offset is constant, so wall time runs with the real clock. A piece is at most a
    day long (no zone changes its offset twice within a day); where the offset at its end differs, the
    change is found by halving, to the microsecond."""
    out: list[tuple[datetime, datetime]] = []
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
        out.append((wall, wall + (piece_end - cursor)))
        cursor = piece_end
    return out


def _covered(wall_start: datetime, wall_end: datetime, windows: Sequence[Window]) -> bool:
    """Whether the naive wall-clock range lies inside the union of the windows' occurrences."""
    spans = []
    day = wall_start.date()
    while datetime.combine(day, time(0)) < wall_end:
        for window in windows:
            if window.weekday == day.weekday() and window.ends > window.starts:
                spans.append((datetime.combine(day, window.starts), datetime.combine(day, window.ends)))
        day += _DAY
    cursor = wall_start
    for span_start, span_end in sorted(spans):
        if span_start > cursor:
            break
        cursor = max(cursor, span_end)
        if cursor >= wall_end:
            return True
    return cursor >= wall_end


def inside_windows(windows: Iterable[Window], starts_at: datetime, ends_at: datetime, tz: str) -> bool:
    """Whether ``[starts_at, ends_at)`` (aware datetimes) lies inside the weekly windows, read in the
    time zone ``tz``. An empty or reversed range is never inside."""
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("inside_windows needs aware datetimes")
    if ends_at <= starts_at:
        return False
    zone = ZoneInfo(tz)
    listed = list(windows)
    return all(_covered(wall_start, wall_end, listed)
               for wall_start, wall_end in _pieces(starts_at.astimezone(UTC), ends_at.astimezone(UTC), zone))
