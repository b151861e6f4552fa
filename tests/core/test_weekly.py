"""The one weekly-window check (opening hours, mentor availability) against a minute-by-minute count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from incubator.core.weekly import inside_windows, window_times

ZONES = ["Asia/Ho_Chi_Minh", "Europe/Berlin", "America/New_York", "UTC"]


@dataclass(frozen=True)
class W:
    weekday: int
    starts: time
    ends: time


def by_minutes(windows: list[W], start: datetime, end: datetime, tz: str) -> bool:
    """Independent: every minute of the range, read on the zone's wall clock, is inside a window."""
    zone = ZoneInfo(tz)
    if end <= start:
        return False
    moment = start
    while moment < end:
        local = moment.astimezone(zone)
        if not any(w.weekday == local.weekday() and w.starts <= local.time() < w.ends for w in windows):
            return False
        moment += timedelta(minutes=1)
    return True


def quarter(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


@st.composite
def windows(draw: st.DrawFn) -> list[W]:
    out = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, 95)) * 15
        end = draw(st.integers(start // 15 + 1, 96)) * 15
        out.append(W(draw(st.integers(0, 6)), quarter(start), time(23, 59) if end == 1440 else quarter(end)))
    return out


# Around the ends of daylight saving time in Berlin and New York (2026), and ordinary weeks.
ANCHORS = [datetime(2026, 3, 28, 20, tzinfo=UTC), datetime(2026, 10, 24, 20, tzinfo=UTC),
           datetime(2026, 3, 7, 20, tzinfo=UTC), datetime(2026, 10, 31, 20, tzinfo=UTC),
           datetime(2026, 12, 7, 0, tzinfo=UTC)]


@settings(max_examples=400, deadline=None)
@given(windows=windows(), anchor=st.sampled_from(ANCHORS), offset=st.integers(0, 3 * 24 * 4),
       length=st.integers(1, 30 * 4), minute=st.integers(0, 14), tz=st.sampled_from(ZONES))
@example(windows=[W(0, time(9), time(17))], anchor=datetime(2026, 12, 7, 0, tzinfo=UTC), offset=36,
         length=32, minute=0, tz="Asia/Ho_Chi_Minh")  # Monday 16:00 to Tuesday 00:00 local: not inside
def test_the_check_agrees_with_a_minute_by_minute_count(windows, anchor, offset, length, minute, tz):
    start = anchor + timedelta(minutes=offset * 15 + minute)
    end = start + timedelta(minutes=length * 15)
    assert inside_windows(windows, start, end, tz) == by_minutes(windows, start, end, tz)


@settings(max_examples=200, deadline=None)
@given(windows=windows(), anchor=st.sampled_from(ANCHORS), offset=st.integers(0, 3 * 24 * 4),
       length=st.integers(1, 2 * 24 * 4), tz=st.sampled_from(ZONES))
def test_the_listed_times_are_the_minutes_inside(windows, anchor, offset, length, tz):
    start = anchor + timedelta(minutes=offset * 15)
    end = start + timedelta(minutes=length * 15)
    listed = window_times(windows, start, end, tz)
    assert all(a < b for a, b in listed) and all(b < c for (_a, b), (c, _d) in zip(listed, listed[1:], strict=False))
    zone, inside, moment = ZoneInfo(tz), set(), start
    while moment < end:
        local = moment.astimezone(zone)
        if any(w.weekday == local.weekday() and w.starts <= local.time() < w.ends for w in windows):
            inside.add(moment)
        moment += timedelta(minutes=1)
    minutes = set()
    for a, b in listed:
        assert a.utcoffset() == timedelta(0) and start <= a and b <= end
        moment = a
        while moment < b:
            minutes.add(moment)
            moment += timedelta(minutes=1)
    assert minutes == inside


def at(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


MONDAY = (2026, 12, 7)  # a Monday


def test_touching_windows_cover_the_range_together_and_a_gap_does_not():
    split = [W(0, time(9), time(12)), W(0, time(12), time(17))]
    tz = "Asia/Ho_Chi_Minh"
    assert inside_windows(split, at(tz, *MONDAY, 11), at(tz, *MONDAY, 13), tz)
    gap = [W(0, time(9), time(12)), W(0, time(12, 30), time(17))]
    assert not inside_windows(gap, at(tz, *MONDAY, 11), at(tz, *MONDAY, 13), tz)


def test_a_range_across_midnight_needs_both_days():
    tz = "Asia/Ho_Chi_Minh"
    late, early = W(0, time(18), time(23, 59)), W(1, time(0), time(2))
    assert not inside_windows([late, early], at(tz, *MONDAY, 23), at(tz, 2026, 12, 8, 1), tz)  # 23:59-00:00 open
    assert not inside_windows([W(0, time(9), time(17))], at(tz, *MONDAY, 16), at(tz, 2026, 12, 8, 0), tz)
    assert inside_windows([early], at(tz, 2026, 12, 8, 0), at(tz, 2026, 12, 8, 2), tz)


def test_the_zone_is_the_windows_own():
    """09:00-17:00 in Saigon is 02:00-10:00 UTC; the same instants are outside a Berlin 09:00-17:00."""
    window = [W(0, time(9), time(17))]
    start, end = datetime(2026, 12, 7, 2, tzinfo=UTC), datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert inside_windows(window, start, end, "Asia/Ho_Chi_Minh")
    assert not inside_windows(window, start, end, "Europe/Berlin")


def test_daylight_saving_days_in_berlin():
    tz = "Europe/Berlin"
    night = [W(6, time(1), time(4))]  # Sundays 01:00-04:00
    # 29 March 2026: 02:00 becomes 03:00. 01:30-03:30 local is one real hour and inside.
    assert inside_windows(night, at(tz, 2026, 3, 29, 1, 30), at(tz, 2026, 3, 29, 3, 30), tz)
    # 25 October 2026: 03:00 becomes 02:00 again; 01:00-04:00 is four real hours, all inside.
    start = at(tz, 2026, 10, 25, 1).astimezone(UTC)  # (arithmetic on real time, not on the wall clock)
    assert inside_windows(night, start, start + timedelta(hours=4), tz)
    assert not inside_windows(night, start, start + timedelta(hours=4, minutes=1), tz)
    # A window 02:30-04:00 on that day: the second 02:00-02:30 (after the clocks go back) is outside.
    late = [W(6, time(2, 30), time(4))]
    second_two = datetime(2026, 10, 25, 1, tzinfo=UTC)  # 02:00 CET, the repeated hour
    assert not inside_windows(late, second_two, second_two + timedelta(minutes=45), tz)


def test_empty_reversed_and_naive_ranges():
    tz, window = "UTC", [W(0, time(9), time(17))]
    start = at(tz, *MONDAY, 10)
    assert not inside_windows(window, start, start, tz)
    assert not inside_windows(window, start, start - timedelta(hours=1), tz)
    assert not inside_windows([], start, start + timedelta(hours=1), tz)
    with pytest.raises(ValueError):
        inside_windows(window, start.replace(tzinfo=None), start + timedelta(hours=1), tz)
