"""Times are stored in UTC and shown in the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def is_valid_timezone(name: str) -> bool:
    return name in available_timezones()


def to_local(value: datetime, tz_name: str) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZoneInfo(tz_name))


def common_timezones() -> list[str]:
    preferred = [DEFAULT_TIMEZONE, "Asia/Seoul", "Asia/Singapore", "Asia/Tokyo", "Europe/Berlin", "UTC"]
    rest = sorted(tz for tz in available_timezones() if "/" in tz and tz not in preferred)
    return preferred + rest
