"""The figures of the programme report, as the page, the API and the downloads read them.

``queries.build_report`` fills them; nothing here queries the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from incubator.cohorts.models import LABELS, Cohort, EnrolmentStatus
from incubator.orgs.models import Organisation
from incubator.reporting.scope import Period

FLOWS = ("revenue", "jobs_created", "funding_equity", "funding_debt", "funding_grant", "products_commercialised",
         "ip_filings")
MONEY = ("revenue", "funding_equity", "funding_debt", "funding_grant", "funding_total")
HEADLINE = ("startups", "active", "graduated", "st_enterprises", "employees", *FLOWS, "funding_total")
TARGET_METRICS = ("startups", "st_enterprises", "employees", "revenue", "jobs_created", "funding_equity",
                  "funding_debt", "funding_grant", "funding_total", "products_commercialised", "ip_filings")
HEADLINE_LABELS = {
    "startups": _l("Startups"),
    "active": _l("Active"),
    "graduated": _l("Graduated"),
    "st_enterprises": _l("Certified S&T enterprises"),
    "employees": _l("Full-time employees"),
    "revenue": _l("Revenue"),
    "jobs_created": _l("Jobs created"),
    "funding_equity": _l("Equity raised"),
    "funding_debt": _l("Debt raised"),
    "funding_grant": _l("Grants raised"),
    "funding_total": _l("Funding raised"),
    "products_commercialised": _l("Products commercialised"),
    "ip_filings": _l("IP filings"),
}
GRADUATED = (EnrolmentStatus.GRADUATED, EnrolmentStatus.ALUMNI)


# -- the application funnel -------------------------------------------------------------------------

@dataclass
class Funnel:
    applications: int = 0
    reviewed: int = 0
    accepted: int = 0
    by_origin: dict[str, dict[str, int]] = field(default_factory=dict)  # origin -> {applications, accepted}

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.applications if self.applications else None


# -- the report -------------------------------------------------------------------------------------

@dataclass
class StartupLine:
    startup_id: int
    key: str
    org_id: int
    org_name: str
    name: str
    registration_number: str | None
    cohorts: str
    status: str
    stage: str
    origin: str
    st_enterprise: bool
    kpis: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLOWS, 0))
    by_month: dict[str, dict[str, int]] = field(default_factory=dict)
    employees: int = 0
    mentoring_sessions: int = 0
    mentoring_minutes: int = 0
    lab_minutes: int = 0
    milestones_total: int = 0
    milestones_done: int = 0
    lab_paid: int = 0  # money received for the startup's lab bookings (ledger, net of refunds), minor units
    # The records of a company held by several incubators (one startup row per organisation), and for
    # each month with figures, the name of the organisation whose check-in they come from.
    startup_ids: list[int] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    # How many months of figures come from each organisation (filled without ``sources`` on the report page).
    source_months: dict[str, int] = field(default_factory=dict)

    @property
    def funding_total(self) -> int:
        return self.kpis["funding_equity"] + self.kpis["funding_debt"] + self.kpis["funding_grant"]

    @property
    def source_counts(self) -> list[tuple[str, int]]:
        """Whose check-ins the figures come from: (organisation name, months), most months first."""
        return sorted(self.source_months.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class Mentoring:
    sessions: int = 0
    minutes: int = 0
    rated: int = 0
    rating_sum: int = 0
    by_month: dict[str, list[int]] = field(default_factory=dict)  # month -> [sessions, minutes]

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_sum / self.rated, 2) if self.rated else None


@dataclass
class LabKind:
    kind: str
    bookings: int = 0
    minutes: int = 0
    credit_minutes: int = 0
    paid_minutes: int = 0
    paid_amount: int = 0  # minor units
    in_kind_value: int = 0  # credit hours at the list price, minor units

    @property
    def label(self) -> str:
        return str(LABELS.get(self.kind, self.kind))


@dataclass
class Milestones:
    total: int = 0
    done: int = 0
    missed: int = 0
    overdue: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.done / self.total if self.total else None


@dataclass
class Report:
    period: Period
    cohorts: list[Cohort]
    orgs: dict[int, Organisation]
    viewer: Organisation
    today: date
    headline: dict[str, int]
    months: list[str]
    trend: dict[str, list[int]]
    funnel: Funnel
    mentoring: Mentoring
    lab: list[LabKind]
    milestones: Milestones
    startups: list[StartupLine]
    comparison: list[dict[str, Any]]
    targets: list[dict[str, Any]]

    @property
    def currency(self) -> str:
        return self.viewer.currency

    @property
    def lab_total(self) -> LabKind:
        total = LabKind(kind="total")
        for line in self.lab:
            for name in ("bookings", "minutes", "credit_minutes", "paid_minutes", "paid_amount", "in_kind_value"):
                setattr(total, name, getattr(total, name) + getattr(line, name))
        return total

    @property
    def spans_orgs(self) -> bool:
        return len(self.orgs) > 1
