"""Words and number formats shared by the page and the downloads (in the current locale).

A report formats thousands of cells: the number patterns are parsed once, the labels translated once
per locale, and a formatted value is kept per (value, locale), since most cells repeat (zeros, dashes).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.core import Locale
from babel.numbers import NumberPattern, parse_pattern
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from incubator.cohorts.models import LABELS
from incubator.core.money import format_money, to_major
from incubator.reporting.figures import HEADLINE_LABELS, MONEY

COLUMN_LABELS = {
    "org": _l("Organisation"),
    "cohorts": _l("Cohorts"),
    "startup": _l("Startup"),
    "registration_number": _l("Registration number"),
    "status": _l("Status"),
    "stage": _l("Stage"),
    "origin": _l("Origin"),
    "st_enterprise": _l("S&T enterprise"),
    "month": _l("Month"),
    "source": _l("Figures from"),
    "employees_full_time": _l("Full-time employees"),
    "mentoring_sessions": _l("Mentoring sessions"),
    "mentoring_hours": _l("Mentoring hours"),
    "lab_hours": _l("Lab hours"),
    "milestones": _l("Milestones done"),
    "milestones_total": _l("Milestones due"),
    "sessions": _l("Sessions"),
    "hours": _l("Hours"),
    "bookings": _l("Bookings"),
    "credit_hours": _l("Credit hours"),
    "paid_hours": _l("Paid hours"),
    "paid_amount": _l("Amount paid"),
    "in_kind_value": _l("In-kind value at list price"),
    "resource_kind": _l("Resource kind"),
    "resource": _l("Resource"),
    "starts_at": _l("Starts"),
    "minutes": _l("Minutes"),
    "price": _l("Price"),
    "target": _l("Target"),
    "actual": _l("Actual"),
    "achieved": _l("Achieved"),
    "metric": _l("Figure"),
    "value": _l("Value"),
    "milestone_rate": _l("Milestone completion"),
    "applications": _l("Applications"),
    "reviewed": _l("Reviewed"),
    "accepted": _l("Accepted"),
    "acceptance_rate": _l("Acceptance rate"),
    "yes": _l("yes"),
    "no": _l("no"),
    **HEADLINE_LABELS,
}


def label(name: str) -> str:
    return _label(name, locale_name())


@lru_cache(maxsize=2048)
def _label(name: str, locale: str) -> str:
    """A column or enum value's label in ``locale`` (the caller's current one), translated once."""
    if name in COLUMN_LABELS:
        return str(COLUMN_LABELS[name])
    return str(LABELS.get(name, name))  # enum values: statuses, stages, origins, resource kinds


def sources(line: Any) -> str:
    """Whose check-ins a startup's figures come from: one organisation's name, or each with its months."""
    counts = line.source_counts
    if len(counts) <= 1:
        return counts[0][0] if counts else ""
    total = sum(count for _org, count in counts)
    return "; ".join(_("%(org)s: %(count)s of %(total)s months", org=org, count=count, total=total)
                     for org, count in counts)


def locale_name() -> str:
    return str(get_locale() or "en")


@lru_cache(maxsize=16)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


@lru_cache(maxsize=8)
def _decimal_pattern(digits: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "0" * digits if digits else ""))


PERCENT = parse_pattern("#,##0%")


def number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    return _number(repr(value), value, digits, locale_name())


# The cached ones are keyed by the value's repr too: -0.0 == 0.0 (and Decimal("-0") == 0) yet they print "-0".
@lru_cache(maxsize=4096, typed=True)
def _number(_key: str, value: Any, digits: int, locale: str) -> str:
    return _decimal_pattern(digits).apply(value, _locale(locale))


def percent(value: float | None) -> str:
    return "–" if value is None else _percent(repr(value), value, locale_name())


@lru_cache(maxsize=1024, typed=True)
def _percent(_key: str, value: float, locale: str) -> str:
    return PERCENT.apply(value, _locale(locale))


def money(amount: int, currency: str) -> str:
    return _money(amount, currency, locale_name())


@lru_cache(maxsize=4096, typed=True)
def _money(amount: int, currency: str, locale: str) -> str:
    return format_money(amount, currency, _locale(locale))


def major(amount: int, currency: str) -> Decimal:
    return to_major(amount, currency)


def figure(name: str, value: int, currency: str) -> str:
    return money(value, currency) if name in MONEY else number(value)
