"""What a report covers: the period, and the cohorts a member may report on.

* Staff of an organisation report on all of its cohorts.
* A member with the funder role reports on the cohorts funded by them or by an organisation they
  are a funder of (``cohorts.services.visible_cohorts_stmt``).
* Every member with the reports permission of a *funding organisation* (a state agency, a fund)
  also reports on the cohorts of other organisations that name it as a funder. That read crosses
  organisations, so it goes through ``all_orgs`` and is restricted to those cohorts by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from incubator.cohorts.models import Cohort, CohortFunder
from incubator.cohorts.services import visible_cohorts_stmt
from incubator.core.permissions import Permission
from incubator.core.timezones import add_months
from incubator.orgs.models import Membership, Organisation

PERIOD_KINDS = ("year", "quarter", "custom")


@dataclass(frozen=True)
class Period:
    kind: str
    start: date  # first day of the first month
    end: date  # first day of the month after the last one (exclusive)

    @property
    def label(self) -> str:
        last = add_months(self.end, -1)
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return f"{self.start:%Y-%m} – {last:%Y-%m}"

    @property
    def months(self) -> list[date]:
        months, month = [], self.start
        while month < self.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    def bounds(self, tz_name: str) -> tuple[datetime, datetime]:
        """The period as UTC instants, in the organisation's time zone."""
        zone = ZoneInfo(tz_name)
        return (datetime.combine(self.start, time(0), zone).astimezone(UTC),
                datetime.combine(self.end, time(0), zone).astimezone(UTC))

    def as_params(self) -> dict[str, str]:
        if self.kind == "year":
            return {"period": "year", "year": str(self.start.year)}
        if self.kind == "quarter":
            return {"period": "quarter", "year": str(self.start.year),
                    "quarter": str((self.start.month - 1) // 3 + 1)}
        return {"period": "custom", "start": f"{self.start:%Y-%m}", "end": f"{add_months(self.end, -1):%Y-%m}"}


class PeriodError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


MAX_MONTHS = 60


def _month(value: str | None, field: str) -> date:
    try:
        month = date.fromisoformat(f"{value}-01")
    except (TypeError, ValueError):
        raise PeriodError(field, _("A month as YYYY-MM.")) from None
    if not 2000 <= month.year <= 2100:
        raise PeriodError(field, _("A month as YYYY-MM."))
    return month


def parse_period(args: Any, today: date) -> Period:
    """``period=year&year=2026``, ``period=quarter&year=2026&quarter=2`` or ``period=custom&start=2026-01&end=2026-06``
    (months inclusive). Missing values default to today's year or quarter; bad ones raise PeriodError."""
    kind = args.get("period") or "year"
    if kind not in PERIOD_KINDS:
        raise PeriodError("period", _("Not a valid choice."))
    if kind == "custom":
        start, last = _month(args.get("start"), "start"), _month(args.get("end"), "end")
        if last < start:
            raise PeriodError("end", _("The end comes before the start."))
        end = add_months(last, 1)
        if len(Period("custom", start, end).months) > MAX_MONTHS:
            raise PeriodError("end", _("At most %(n)s months.", n=MAX_MONTHS))
        return Period("custom", start, end)
    try:
        year = int(args.get("year") or today.year)
    except ValueError:
        raise PeriodError("year", _("Not a valid year.")) from None
    if not 2000 <= year <= 2100:
        raise PeriodError("year", _("Not a valid year."))
    if kind == "year":
        return Period("year", date(year, 1, 1), date(year + 1, 1, 1))
    try:
        quarter = int(args.get("quarter") or (today.month - 1) // 3 + 1)
    except ValueError:
        raise PeriodError("quarter", _("Not a valid choice.")) from None
    if quarter not in (1, 2, 3, 4):
        raise PeriodError("quarter", _("Not a valid choice."))
    start = date(year, 3 * quarter - 2, 1)
    return Period("quarter", start, add_months(start, 3))


def reportable_cohorts(session: Session, org: Organisation, membership: Membership | None) -> list[Cohort]:
    """Every cohort the member may report on, their own organisation's first (see the module's doc)."""
    if membership is None or not membership.has(Permission.VIEW_REPORTS):
        return []
    own = list(session.execute(visible_cohorts_stmt(org, membership)
                               .options(joinedload(Cohort.programme))
                               .order_by(Cohort.starts_on.desc(), Cohort.id)).scalars())
    funded_ids = select(CohortFunder.cohort_id).where(CohortFunder.funder_org_id == org.id)
    funded = list(session.execute(
        select(Cohort).where(Cohort.id.in_(funded_ids), Cohort.org_id != org.id)
        .options(joinedload(Cohort.programme)).order_by(Cohort.starts_on.desc(), Cohort.id)
        .execution_options(all_orgs=True)).scalars())  # other organisations' cohorts that name this funder, by id
    return own + funded


def organisations(session: Session, cohorts: list[Cohort]) -> dict[int, Organisation]:
    ids = {c.org_id for c in cohorts}
    return {o.id: o for o in session.execute(select(Organisation).where(Organisation.id.in_(ids))).scalars()}


def narrow(cohorts: list[Cohort], *, programme_id: int | None = None,
           cohort_id: int | None = None) -> list[Cohort] | None:
    """The cohorts of the report after the filters; None when a filter names something not reportable."""
    chosen = cohorts
    if programme_id is not None:
        chosen = [c for c in chosen if c.programme_id == programme_id]
        if not chosen:
            return None
    if cohort_id is not None:
        chosen = [c for c in chosen if c.id == cohort_id]
        if not chosen:
            return None
    return chosen


def int_arg(value: str | None) -> int | None:
    """A positive 32-bit id from a query string, or None (a bad one is treated as naming nothing: -1)."""
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        return -1
    return number if 0 < number < 2**31 else -1
