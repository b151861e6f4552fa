"""Words and number formats shared by the page and the downloads (in the current locale)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal, format_percent
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


def number(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""), locale=locale_name())


def percent(value: float | None) -> str:
    return "–" if value is None else format_percent(value, format="#,##0%", locale=locale_name())


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency, locale_name())


def major(amount: int, currency: str) -> Decimal:
    return to_major(amount, currency)


def figure(name: str, value: int, currency: str) -> str:
    return money(value, currency) if name in MONEY else number(value)
