"""The one formatting layer: every date, time, number, percentage, money amount, duration, relative time,
time zone, language and country a person reads, in their language and time zone, by Babel.

Pages use these as Jinja filters (registered once in ``register``); mail, PDFs and downloads call the same
functions. The time zone is the reader's: their own setting when they have one, else the organisation's
(``viewer_timezone``); mail passes the recipient's. Nothing here shows seconds, a UTC offset or a zone's
IANA key.

A list formats thousands of values: each function is cached per (value, options, locale, zone), and
Babel's patterns are parsed once per locale, so a page never asks Babel twice for the same text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.core import Locale
from babel.dates import (
    format_date,
    format_interval,
    format_skeleton,
    format_time,
    format_timedelta,
    get_datetime_format,
    get_timezone_location,
)
from babel.numbers import NumberFormatError, parse_decimal, parse_pattern
from babel.units import format_unit
from flask import Flask, g, has_request_context
from flask_babel import get_locale

from incubator.core.money import format_money, format_money_cached
from incubator.core.timezones import DEFAULT_TIMEZONE, is_valid_timezone

DASH = "–"
WIDTHS = ("short", "medium", "long", "full")


# -- the reader's locale and time zone --------------------------------------------------------------

def locale_name() -> str:
    return str(get_locale() or "vi")


def zone_of(*sources: Any) -> str:
    """The first valid ``timezone`` of ``sources`` (a user, then an organisation), else the default."""
    for source in sources:
        name = getattr(source, "timezone", None) if source is not None else None
        if isinstance(name, str) and name and is_valid_timezone(name):
            return name
    return DEFAULT_TIMEZONE


def viewer_timezone() -> str:
    """The signed-in reader's own time zone when they set one, else the organisation's of the page."""
    if not has_request_context():
        return DEFAULT_TIMEZONE
    user = None
    if not g.get("database_unavailable"):
        from flask_login import current_user

        if current_user and current_user.is_authenticated:
            user = current_user
    return zone_of(user, g.get("org"))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(value: datetime, tz: str) -> datetime:
    if value.tzinfo is None:  # stored UTC, read back naive by SQLite
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone(tz))


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


# -- dates and times --------------------------------------------------------------------------------

def date_(value: date | datetime | None, width: str = "medium", tz: str | None = None) -> str:
    """A day: "1 thg 12, 2026" / "Dec 1, 2026"; a moment is first put in the reader's time zone. ``width``
    is one of Babel's widths or a skeleton ("MMMEd": "Th 3, 1 thg 12" / "Tue, Dec 1")."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, tz or viewer_timezone()).date()
    return _date(value, width, locale_name())


@lru_cache(maxsize=8192)
def _date(value: date, width: str, locale: str) -> str:
    if width in WIDTHS:
        return format_date(value, width, locale=_locale(locale))
    return format_skeleton(width, value, locale=_locale(locale))


def months(periods: list[str]) -> list[str]:
    """``YYYY-MM`` keys (a chart's periods) as the reader's month names: "Dec 2026", "thg 12 2026"."""
    return [date_(date.fromisoformat(f"{period}-01"), "yMMM") for period in periods]


def time_(value: datetime | time | None, width: str = "short", tz: str | None = None) -> str:
    """A time of day, without seconds: "08:00" / "8:00 AM"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value, tz or viewer_timezone()).time()
    return _time(value.replace(second=0, microsecond=0, tzinfo=None), locale_name())


@lru_cache(maxsize=4096)
def _time(value: time, locale: str) -> str:
    return format_time(value, "short", locale=_locale(locale))


def datetime_(value: datetime | None, width: str = "medium", tz: str | None = None, zone: bool = False) -> str:
    """A moment in the reader's time zone: "08:00 1 thg 12, 2026" / "Dec 1, 2026, 8:00 AM"; the day in
    ``width``, the time always short. With ``zone`` the zone's name follows in brackets."""
    if value is None:
        return ""
    tz = tz or viewer_timezone()
    # Naive, the wall-clock time: two zones' equal moments are equal keys of the cache, not their texts.
    text = _datetime(_local(value, tz).replace(second=0, microsecond=0, tzinfo=None), width, locale_name())
    return f"{text} ({timezone_name(tz)})" if zone else text


def _width(width: str) -> Literal["full", "long", "medium", "short"]:
    for known in ("full", "long", "medium", "short"):
        if width == known:
            return known
    return "medium"  # a skeleton's day joins its time as a medium one does


@lru_cache(maxsize=16384)
def _datetime(local: datetime, width: str, locale: str) -> str:
    joined = str(get_datetime_format(_width(width), locale=_locale(locale)))
    return (joined.replace("'", "").replace("{1}", _date(local.date(), width, locale))
            .replace("{0}", _time(local.time(), locale)))


def daterange(start: date | datetime | None, end: date | datetime | None, skeleton: str = "yMMMd",
              tz: str | None = None) -> str:
    """Two days as one interval, what they share said once: "1 thg 1 – 31 thg 12, 2027" / "Jan 1 – Dec 31, 2027"."""
    if start is None or end is None:
        return date_(start or end, "medium", tz)
    if isinstance(start, datetime):
        start = _local(start, tz or viewer_timezone()).date()
    if isinstance(end, datetime):
        end = _local(end, tz or viewer_timezone()).date()
    return _daterange(start, end, skeleton, locale_name())


@lru_cache(maxsize=4096)
def _daterange(start: date, end: date, skeleton: str, locale: str) -> str:
    return format_interval(start, end, skeleton, locale=_locale(locale))


def relative(value: datetime | timedelta | None, now: datetime | None = None) -> str:
    """How long ago or from now: "3 ngày trước" / "in 2 hours"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value - (now or datetime.now(UTC))
    return _relative(int(value.total_seconds()), locale_name())


@lru_cache(maxsize=4096)
def _relative(seconds: int, locale: str) -> str:
    return format_timedelta(timedelta(seconds=seconds), add_direction=True, locale=_locale(locale))


def duration(minutes: int | float | None) -> str:
    """A length of time in hours and minutes: "2 giờ 30 phút" / "2 hr 30 min"."""
    if minutes is None:
        return DASH
    return _duration(round(minutes), locale_name())


@lru_cache(maxsize=2048)
def _duration(minutes: int, locale: str) -> str:
    sign, minutes = ("-" if minutes < 0 else ""), abs(minutes)
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(format_unit(hours, "duration-hour", length="short", locale=_locale(locale)))
    if rest or not hours:
        parts.append(format_unit(rest, "duration-minute", length="short", locale=_locale(locale)))
    return sign + " ".join(parts)


# -- numbers and money ------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _fixed(digits: int) -> Any:
    return parse_pattern("#,##0" + ("." + "0" * digits if digits else ""))


@lru_cache(maxsize=16)
def _upto(digits: int) -> Any:
    return parse_pattern("#,##0" + ("." + "#" * digits if digits else ""))


@lru_cache(maxsize=8)
def _percent_pattern(digits: int) -> Any:
    return parse_pattern("#,##0" + ("." + "0" * digits if digits else "") + "%")


def number(value: Any, digits: int = 0) -> str:
    """A count or a figure with exactly ``digits`` decimals: "2.400.000", "3,0" / "2,400,000", "3.0"."""
    if value is None:
        return DASH
    # Keyed by the repr too: -0.0 == 0.0 (and Decimal("-0") == 0) yet they print "-0".
    return _number(repr(value), value, digits, locale_name())


@lru_cache(maxsize=8192, typed=True)
def _number(_key: str, value: Any, digits: int, locale: str) -> str:
    return str(_fixed(digits).apply(value, _locale(locale)))


def decimal(value: Any, digits: int = 2) -> str:
    """A measure with at most ``digits`` decimals, no trailing zeros: "4,25", "4" / "4.25", "4"."""
    if value is None:
        return DASH
    return _decimal(repr(value), value, digits, locale_name())


@lru_cache(maxsize=8192, typed=True)
def _decimal(_key: str, value: Any, digits: int, locale: str) -> str:
    return str(_upto(digits).apply(value, _locale(locale)))


def percent(value: float | Decimal | None, digits: int = 0) -> str:
    """A ratio as a percentage: 0.25 is "25%"."""
    if value is None:
        return DASH
    return _percent(repr(value), value, digits, locale_name())


@lru_cache(maxsize=2048, typed=True)
def _percent(_key: str, value: Any, digits: int, locale: str) -> str:
    return str(_percent_pattern(digits).apply(value, _locale(locale)))


def money(amount_minor: int | None, currency: str | None = None) -> str:
    """An amount stored in the currency's minor unit: "2.400.000 ₫" / "₫2,400,000"."""
    if amount_minor is None:
        return ""
    if currency is None:
        org = g.get("org") if has_request_context() else None
        currency = org.currency if org is not None else "VND"
    if type(amount_minor) is int:  # minor units, as stored: formatted once per amount (floats vary: -0.0)
        return format_money_cached(amount_minor, currency, locale_name())
    return format_money(amount_minor, currency, locale_name())


def parse_number(text: str, locale: str | None = None) -> Decimal:
    """What a person typed, with their language's separators ("97.102.000" in Vietnamese, "97,102,000" in
    English; a plain "97102000" in either). Raises ``ValueError`` on anything else."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("\u202f", "")
    if not cleaned:
        raise ValueError("empty")
    try:
        return parse_decimal(cleaned, locale=_locale(locale or locale_name()), strict=True)
    except NumberFormatError as error:
        raise ValueError(str(error)) from error


# -- names from the locale data ---------------------------------------------------------------------

def timezone_name(name: str | None) -> str:
    """A time zone as people say it: "Giờ Việt Nam" / "Vietnam Time", "Germany (Berlin) Time"."""
    if not name:
        return ""
    return _timezone_name(name, locale_name())


@lru_cache(maxsize=2048)
def _timezone_name(name: str, locale: str) -> str:
    if name in ("UTC", "Etc/UTC"):
        return "UTC"
    if not is_valid_timezone(name):
        return name
    text = str(get_timezone_location(name, locale=_locale(locale)))
    if _locale(locale).territories.get("ZZ", "Unknown Region") in text:  # a zone of no country: its city
        return str(get_timezone_location(name, locale=_locale(locale), return_city=True))
    return text


def language_name(code: str | None) -> str:
    """A language code in the reader's language: "ko" is "Tiếng Hàn" / "Korean"."""
    if not code:
        return ""
    return str(_locale(locale_name()).languages.get(code.lower(), code))


def country_name(code: str | None) -> str:
    """An ISO country code in the reader's language: "kr" is "Hàn Quốc" / "South Korea"."""
    if not code:
        return ""
    return str(_locale(locale_name()).territories.get(code.upper(), code))


def timezone_choices(names: list[str]) -> list[tuple[str, str]]:
    """(key, name) pairs for a time zone select: the key submitted, the localized name shown."""
    return [(name, timezone_name(name)) for name in names]


FILTERS = {
    "date": date_, "datetime": datetime_, "time": time_, "daterange": daterange, "number": number,
    "decimal": decimal, "percent": percent, "money": money, "duration": duration, "relative": relative,
    "timezone_name": timezone_name, "language_name": language_name, "country_name": country_name,
    "months": months,
}


def register(app: Flask) -> None:
    """The filters of every template (pages, mail, PDFs), registered once."""
    app.jinja_env.filters.update(FILTERS)
    # Flask-Babel's own filters format without the reader's zone rules or the caches: one way only
    for name in ("dateformat", "datetimeformat", "timeformat", "timedeltaformat", "numberformat", "decimalformat",
                 "currencyformat", "percentformat", "scientificformat"):
        app.jinja_env.filters.pop(name, None)
    app.jinja_env.globals.update(viewer_timezone=viewer_timezone, zone_of=zone_of)
