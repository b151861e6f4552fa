"""The manager's cohort dashboard: one table of startups with health signals, totals over time.

A fixed number of queries whatever the number of startups: enrolments with startups, milestone
counts grouped by startup, and the cohort's check-ins.
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
    rows: list[StartupRow]
    periods: list[str]
    totals_by_period: dict[str, dict[str, int]]
    totals: dict[str, int]


def cohort_dashboard(session: Session, cohort: Cohort, today: date, *, status: str | None = None,
                     stage: str | None = None, search: str | None = None) -> Dashboard:
    stmt = (select(Enrolment).join(Enrolment.startup).options(contains_eager(Enrolment.startup))
            .where(Enrolment.cohort_id == cohort.id).order_by(Startup.name))
    if status:
        stmt = stmt.where(Enrolment.status == status)
    if stage:
        stmt = stmt.where(Startup.stage == stage)
    if search:
        stmt = stmt.where(func.lower(Startup.name).contains(search.lower().strip()))
    enrolments = session.execute(stmt).scalars().all()
    rows = {e.startup_id: StartupRow(enrolment=e, startup=e.startup) for e in enrolments}
    ids = list(rows)
    if not ids:
        return Dashboard(rows=[], periods=[], totals_by_period={}, totals={k: 0 for k in STANDARD_KPIS})

    open_statuses = (MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS)
    milestone_counts = session.execute(
        select(Milestone.startup_id, func.count(),
               func.sum(case((Milestone.status == MilestoneStatus.DONE, 1), else_=0)),
               func.sum(case((and_(Milestone.due_on < today, Milestone.status.in_(open_statuses)), 1), else_=0)))
        .where(Milestone.startup_id.in_(ids)).group_by(Milestone.startup_id)
    ).all()
    for startup_id, total, done, overdue in milestone_counts:
        row = rows[startup_id]
        row.milestones_total, row.milestones_done, row.milestones_overdue = total, done or 0, overdue or 0

    checkins = session.execute(select(CheckIn).where(CheckIn.startup_id.in_(ids))
                               .order_by(CheckIn.startup_id, CheckIn.period)).scalars().all()
    by_startup: dict[int, list[CheckIn]] = defaultdict(list)
    totals_by_period: dict[str, dict[str, int]] = defaultdict(lambda: {k: 0 for k in STANDARD_KPIS})
    for checkin in checkins:
        by_startup[checkin.startup_id].append(checkin)
        bucket = totals_by_period[checkin.period_label]
        for name in STANDARD_KPIS:
            bucket[name] += getattr(checkin, name)

    for startup_id, row in rows.items():
        history = by_startup.get(startup_id, [])
        reported = {c.period for c in history}
        row.missing_checkins = [p.strftime("%Y-%m") for p, months in due_periods(cohort, row.enrolment, today)
                                if p not in reported and due_date(p, months) < today]
        if history:
            row.last_period = history[-1].period_label
            row.latest = {name: getattr(history[-1], name) for name in STANDARD_KPIS}
        if len(history) >= 2:
            last, before = history[-1].revenue, history[-2].revenue
            row.revenue_trend = "up" if last > before else "down" if last < before else "flat"

    # Flows add up over the periods; head-counts are the latest report of each startup.
    totals = {name: sum(t[name] for t in totals_by_period.values()) for name in STANDARD_KPIS}
    for stock in ("employees_full_time", "employees_part_time", "customers"):
        totals[stock] = sum(row.latest.get(stock, 0) for row in rows.values())
    return Dashboard(rows=list(rows.values()), periods=sorted(totals_by_period),
                     totals_by_period=dict(totals_by_period), totals=totals)


def chart_data(dashboard: Dashboard, currency_exponent: int) -> dict[str, Any]:
    """Series for Chart.js: money in major units."""
    scale = 10 ** currency_exponent
    series = {}
    for name in ("revenue", "jobs_created", "funding_equity", "funding_debt", "funding_grant"):
        values = [dashboard.totals_by_period[p][name] for p in dashboard.periods]
        series[name] = [v / scale for v in values] if name in MONEY_KPIS else values
    return {"periods": dashboard.periods, "series": series}
