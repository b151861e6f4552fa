"""The booking pages' words and formats, built once per language instead of once per row or cell.

``status_labels`` translates the eight booking states once per locale; ``Moments`` formats the times
of a list with Babel's patterns for the locale read once, and each amount of money once (the same text as flask-babel's
``datetimeformat``/``timeformat`` filters, which look the locale, the zone and the pattern up again for
every value).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, get_date_format, get_datetime_format, get_time_format
from flask_babel import gettext as _

from incubator.core.money import format_money


@lru_cache(maxsize=16)
def status_labels(locale: str) -> dict[str, str]:
    """Each booking status in ``locale`` (the current one: callers pass ``str(get_locale())``)."""
    return {"pending_approval": _("waiting for approval"), "awaiting_payment": _("awaiting payment"),
            "confirmed": _("confirmed"), "cancelled": _("cancelled"), "completed": _("completed"),
            "held": _("held for you"), "no_show": _("no-show"), "expired": _("expired")}


@lru_cache(maxsize=16)
def row_words(locale: str) -> dict[str, str]:
    """The words of a row of *My bookings* (its money column and its buttons) in ``locale``; those with
    ``%(amount)s`` or ``%(time)s`` are filled in by the template."""
    return {"paid": _("Paid"), "refunded": _("Refunded"), "credits": _("Covered by credits"),
            "to_pay": _("To pay %(amount)s"), "invoiced": _("%(amount)s, invoiced"), "receipt": _("Receipt"),
            "pay_now": _("Pay now"), "take": _("Take it"), "cancel": _("Cancel"),
            "cancel_confirm": _("Cancel this booking?"), "held_until": _("held until %(time)s")}


@lru_cache(maxsize=16)
def _patterns(locale: str) -> tuple[Locale, DateTimePattern, DateTimePattern, str]:
    parsed = Locale.parse(locale)
    return (parsed, get_date_format("short", parsed), get_time_format("short", parsed),
            str(get_datetime_format("short", parsed)))


class Moments:
    """Short dates with times, and short times, in one zone and locale (what a list of bookings shows)."""

    def __init__(self, zone: str, locale: str) -> None:
        self.zone = ZoneInfo(zone)
        self.locale_name = locale
        self.locale, self.date_pattern, self.time_pattern, self.joined = _patterns(locale)
        self.amounts: dict[tuple[int, str], str] = {}

    def money(self, amount: int, currency: str) -> str:
        """The ``money`` filter's text, each amount formatted once per list."""
        key = (amount, currency)
        if key not in self.amounts:
            self.amounts[key] = format_money(amount, currency, self.locale_name)
        return self.amounts[key]

    def time(self, value: datetime) -> str:
        return self.time_pattern.apply(value.astimezone(self.zone), self.locale)

    def datetime(self, value: datetime) -> str:
        local = value.astimezone(self.zone)
        return (self.joined.replace("'", "").replace("{0}", self.time_pattern.apply(local, self.locale))
                .replace("{1}", self.date_pattern.apply(local, self.locale)))
