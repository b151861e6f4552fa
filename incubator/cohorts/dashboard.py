"""The manager's cohort dashboard: one table of startups with health signals, totals over time.

A fixed number of queries whatever the number of startups, and work for one page of the table only:
the totals are sums in the database over every startup the filters keep (flows over all their
check-ins, head-counts from each startup's latest check-in, picked by a window function); the
table's page is one page of enrolments, with the milestone counts and the check-ins of its startups.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, contains_eager

from incubator.cohorts.checkins import due_date, due_periods
from incubator.cohorts.models import (
    MONEY_KPIS,
    STANDARD_KPIS,
    CheckIn,
    Cohort,
    Enrolment,
    Milestone,
    MilestoneStatus,
    Startup,
)
from incubator.core import formatting
from incubator.core.pagination import Page, paginate

STOCKS = ("employees_full_time", "employees_part_time", "customers")  # head-counts: the latest report's
PER_PAGE = 50  # startups a page of the table (the totals and charts cover them all)


@dataclass
class StartupRow:
    enrolment: Enrolment
    startup: Startup
    milestones_total: int = 0
    milestones_done: int = 0
    milestones_overdue: int = 0
    missing_checkins: list[str] = field(default_factory=list)
    last_period: str | None = None
    revenue_trend: str = "none"  # up | down | flat | none
    latest: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.milestones_overdue and not self.missing_checkins


@dataclass
class Dashboard:
    rows: list[StartupRow]  # the table's page
    periods: list[str]
    totals_by_period: dict[str, dict[str, int]]
    totals: dict[str, int]
    table: Page = field(default_factory=lambda: Page(items=[], page=1, per_page=PER_PAGE, total=0))

    @property
    def startups(self) -> int:
        """Every startup the filters keep (not only the page's)."""
        return self.table.total


def _filters(cohort: Cohort, status: str | None, stage: str | None, search: str | None) -> list[Any]:
    """What keeps an enrolment in the table (and in the totals), on ``Enrolment`` joined to ``Startup``."""
    where: list[Any] = [Enrolment.cohort_id == cohort.id]
    if status:
        where.append(Enrolment.status == status)
    if stage:
        where.append(Startup.stage == stage)
    if search:
        where.append(func.lower(Startup.name).contains(search.lower().strip()))
    return where


def cohort_dashboard(session: Session, cohort: Cohort, today: date, *, status: str | None = None,
                     stage: str | None = None, search: str | None = None, page: int = 1,
                     per_page: int = PER_PAGE) -> Dashboard:
    where = _filters(cohort, status, stage, search)
    stmt = (select(Enrolment).join(Enrolment.startup).options(contains_eager(Enrolment.startup))
            .where(*where).order_by(Startup.name, Startup.id))
    table = paginate(session, stmt, per_page=per_page, page=page)
    rows = {e.startup_id: StartupRow(enrolment=e, startup=e.startup) for e in table.items}
    table.items = list(rows.values())
    if not table.total:
        return Dashboard(rows=[], periods=[], totals_by_period={}, totals={k: 0 for k in STANDARD_KPIS},
                         table=table)
    kept = select(Enrolment.startup_id).join(Enrolment.startup).where(*where).scalar_subquery()
    totals_by_period = _totals_by_period(session, kept)
    totals = {name: sum(t[name] for t in totals_by_period.values()) for name in STANDARD_KPIS}
    totals.update(_latest_stocks(session, kept))
    if rows:
        _milestones(session, rows, today)
        _checkins(session, cohort, rows, today)
    return Dashboard(rows=table.items, periods=sorted(totals_by_period), totals_by_period=totals_by_period,
                     totals=totals, table=table)


def _totals_by_period(session: Session, startup_ids: Any) -> dict[str, dict[str, int]]:
    """Each KPI summed per period over the startups' check-ins."""
    found = session.execute(
        select(CheckIn.period, *(func.sum(getattr(CheckIn, name)) for name in STANDARD_KPIS))
        .where(CheckIn.startup_id.in_(startup_ids)).group_by(CheckIn.period)).all()
    return {period.strftime("%Y-%m"): {name: int(value or 0) for name, value in zip(STANDARD_KPIS, sums, strict=True)}
            for period, *sums in found}


def _latest_stocks(session: Session, startup_ids: Any) -> dict[str, int]:
    """Head-counts are the latest report of each startup, added up."""
    newest = func.row_number().over(partition_by=CheckIn.startup_id, order_by=CheckIn.period.desc())
    latest = (select(*(getattr(CheckIn, name) for name in STOCKS), newest.label("newest"))
              .where(CheckIn.startup_id.in_(startup_ids)).subquery())
    sums = session.execute(select(*(func.coalesce(func.sum(latest.c[name]), 0) for name in STOCKS))
                           .where(latest.c.newest == 1)).one()
    return {name: int(value) for name, value in zip(STOCKS, sums, strict=True)}


def _milestones(session: Session, rows: dict[int, StartupRow], today: date) -> None:
    open_statuses = (MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS)
    milestone_counts = session.execute(
        select(Milestone.startup_id, func.count(),
               func.sum(case((Milestone.status == MilestoneStatus.DONE, 1), else_=0)),
               func.sum(case((and_(Milestone.due_on < today, Milestone.status.in_(open_statuses)), 1), else_=0)))
        .where(Milestone.startup_id.in_(list(rows))).group_by(Milestone.startup_id)
    ).all()
    for startup_id, total, done, overdue in milestone_counts:
        row = rows[startup_id]
        row.milestones_total, row.milestones_done, row.milestones_overdue = total, done or 0, overdue or 0


def _checkins(session: Session, cohort: Cohort, rows: dict[int, StartupRow], today: date) -> None:
    """The page's startups' check-ins (their figures only): what is missing, the latest, the trend."""
    history: dict[int, list[Any]] = defaultdict(list)
    for checkin in session.execute(
            select(CheckIn.startup_id, CheckIn.period, *(getattr(CheckIn, name) for name in STANDARD_KPIS))
            .where(CheckIn.startup_id.in_(list(rows))).order_by(CheckIn.startup_id, CheckIn.period)):
        history[checkin.startup_id].append(checkin)
    for startup_id, row in rows.items():
        mine = history.get(startup_id, [])
        reported = {c.period for c in mine}
        row.missing_checkins = [p.strftime("%Y-%m") for p, months in due_periods(cohort, row.enrolment, today)
                                if p not in reported and due_date(p, months) < today]
        if mine:
            row.last_period = mine[-1].period.strftime("%Y-%m")
            row.latest = {name: getattr(mine[-1], name) for name in STANDARD_KPIS}
        if len(mine) >= 2:
            last, before = mine[-1].revenue, mine[-2].revenue
            row.revenue_trend = "up" if last > before else "down" if last < before else "flat"


def chart_data(dashboard: Dashboard, currency_exponent: int) -> dict[str, Any]:
    """Series for Chart.js: money in major units."""
    scale = 10 ** currency_exponent
    series = {}
    for name in ("revenue", "jobs_created", "funding_equity", "funding_debt", "funding_grant"):
        values = [dashboard.totals_by_period[p][name] for p in dashboard.periods]
        series[name] = [v / scale for v in values] if name in MONEY_KPIS else values
    return {"periods": dashboard.periods, "period_labels": formatting.months(dashboard.periods), "series": series}
