"""Reading what people type into the booking pages: whole numbers, local times and free text.

Each reader answers a value or raises a ``DomainError`` naming the field, so a page shows a form error
(and the API a 422) instead of failing on ``int()``, an out-of-range date or a NUL character.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from incubator.core.errors import DomainError

INT_MAX = 2**31 - 1  # the integer columns' limit
HORIZON = timedelta(days=5 * 366)  # no booking page needs a time further than this from now


def invalid(field: str, message: str, code: str = "invalid_input") -> DomainError:
    return DomainError(message, code=code, fields={field: message})


def whole_number(value: str | None, field: str, *, default: int | None = None, low: int = 0,
                 high: int = INT_MAX) -> int:
    """A whole number from ``low`` to ``high``; empty answers ``default`` (refused when there is none)."""
    if not value and default is not None:  # a field left out, or empty
        return default
    text = (value or "").strip()
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 12:  # "²" is a digit to isdigit()
        raise invalid(field, _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high))
    number = int(text)
    if not low <= number <= high:
        raise invalid(field, _("Enter a whole number from %(low)d to %(high)d.", low=low, high=high))
    return number


def row_id(value: str | None) -> int:
    """An id posted by a form, or 0 (which no row has) when it is not one: callers answer 404."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < len(text) < 11 and int(text) <= INT_MAX else 0


def local_time(value: str | None, zone: ZoneInfo, field: str = "start", *, now: datetime | None = None) -> datetime:
    """An ISO date and time (local to ``zone`` unless it carries an offset), in UTC, within a few years
    of now. A "+" of the offset may arrive unescaped in a query string, as a space."""
    text = (value or "").strip().replace(" ", "+")
    now = now or datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
        if abs(moment - now) > HORIZON:
            raise ValueError(text)
    except (ValueError, OverflowError) as exc:
        raise invalid(field, _("Choose a date and time in the coming months."), "invalid_time") from exc
    return moment


def text(value: str | None, limit: int) -> str:
    """Free text without NUL characters (PostgreSQL refuses them), stripped and cut to ``limit``."""
    return (value or "").replace("\x00", "").strip()[:limit]
