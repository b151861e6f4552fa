"""Words and number formats shared by the page and the downloads (in the current locale).

A report formats thousands of cells: the labels are translated once per locale, and numbers go through
``core.formatting``, which keeps a formatted value per (value, locale), since most cells repeat.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from incubator.cohorts.models import LABELS
from incubator.core import formatting
from incubator.core.money import to_major
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
    "unknown": _l("Unknown"),
    **HEADLINE_LABELS,
}


def label(name: str) -> str:
    return _label(name, locale_name())


@lru_cache(maxsize=2048)
def _label(name: str, locale: str) -> str:
    """A column or enum value's label in ``locale`` (the caller's current one), translated once."""
    if name in COLUMN_LABELS:
        return str(COLUMN_LABELS[name])
    if name in LABELS:  # enum values: statuses, stages, origins, resource kinds
        return str(LABELS[name])
    if len(name) == 2 and name.isalpha():  # an origin answered as a country code ("kr"): the country's name
        return formatting.country_name(name)
    return name


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


# The numbers of the page and the downloads are the formatting layer's (cached per value and locale).
number = formatting.number
percent = formatting.percent


def money(amount: int, currency: str) -> str:
    return formatting.money(amount, currency)


def major(amount: int, currency: str) -> Decimal:
    return to_major(amount, currency)


def figure(name: str, value: int, currency: str) -> str:
    return money(value, currency) if name in MONEY else number(value)
