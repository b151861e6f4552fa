"""Times are stored in UTC and shown in the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


@cache
def _zone_names() -> frozenset[str]:
    """The zones of the tz database, read once: ``available_timezones`` walks its directory each call."""
    return frozenset(available_timezones())


def is_valid_timezone(name: str) -> bool:
    return name in _zone_names()


def to_local(value: datetime, tz_name: str) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(tz_name))


def common_timezones() -> list[str]:
    preferred = [DEFAULT_TIMEZONE, "Asia/Seoul", "Asia/Singapore", "Asia/Tokyo", "Europe/Berlin", "UTC"]
    rest = sorted(tz for tz in _zone_names()
                  if "/" in tz and tz not in preferred and not tz.startswith(("Etc/", "SystemV/")))
    return preferred + rest


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_month(value: str | None, default: date) -> date:
    """``YYYY-MM`` as the first day of that month, or ``default``'s month when missing or malformed."""
    try:
        return date.fromisoformat(f"{value}-01") if value else default.replace(day=1)
    except ValueError:
        return default.replace(day=1)


def day_start_utc(day: date, tz_name: str) -> datetime:
    """Midnight at the start of ``day`` in the time zone, as a UTC moment."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def recipient_timezone(user: object | None, org: object | None) -> str:
    """The time zone a person reads times in: their own setting if they have one, else the organisation's."""
    for source in (user, org):
        name = getattr(source, "timezone", None) if source is not None else None
        if isinstance(name, str) and name and is_valid_timezone(name):
            return name
    return DEFAULT_TIMEZONE


def format_moment(value: datetime, tz_name: str, locale: str, zone: bool = True) -> str:
    """A moment as people read it, by Babel: "December 5, 2026, 9:00 AM" / "09:00 5 tháng 12, 2026",
    in ``tz_name``; with ``zone`` the zone follows in brackets. No seconds, no microseconds, no UTC."""
    from babel.dates import format_date, format_time, get_datetime_format

    local = to_local(value, tz_name)
    # Babel annotates a DateTimePattern; for a "medium" date-and-time key the CLDR data holds the
    # "{1}, {0}" string itself. str() keeps either readable by the type checker.
    text = (str(get_datetime_format("medium", locale=locale))
            .replace("{1}", format_date(local, "long", locale=locale))
            .replace("{0}", format_time(local, "short", locale=locale)))
    return f"{text} ({tz_name})" if zone else text
