"""The programme report: one function builds every figure the page, the API and the downloads show.

A fixed number of queries whatever the size: enrolments with startups, check-ins, held mentoring
sessions, lab bookings, milestones. The cohorts come from ``scope.reportable_cohorts`` (access is
checked there); every query here is keyed by those cohorts' ids or their startups' ids, and runs
with the organisation filter lifted so that a funder's report may span organisations.

Counting once: a startup is known by its registration number across organisations (by its row when
it has none). Each startup's month counts once, in the headline figures, the trends and the
startup's own row: when two incubators both hold a check-in for it, a verified (or locked) one is
taken before an unverified one, then the most recently updated (then the older record); the
database makes that choice (``reporting.checkins``), and adds up the chosen ones for the page. A startup
held by several incubators is one row, which says whose check-ins its figures come from; the
incubators side by side each count their own records and check-ins.

Money received comes from the payments ledger (payments less refunds), never from booking prices.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from incubator.booking.models import Booking, Resource
from incubator.booking.usage import lab_use_totals
from incubator.cohorts.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Milestone,
    MilestoneStatus,
    ResourceKind,
    Startup,
)
from incubator.core.tenancy import all_orgs
from incubator.intake.reporting import application_funnel as intake_funnel
from incubator.ledger.models import MONEY_KINDS, LedgerEntry
from incubator.mentoring.mentor_sessions import held_session_sums
from incubator.orgs.models import Organisation
from incubator.reporting.checkins import FLOW_SLICE, counted, counted_sums
from incubator.reporting.figures import (
    FLOWS,
    GRADUATED,
    HEADLINE,
    Funnel,
    LabKind,
    Mentoring,
    Milestones,
    Report,
    StartupLine,
)
from incubator.reporting.models import ReportTarget
from incubator.reporting.scope import Period


def identity(startup_id: int, registration_number: str | None) -> str:
    number = (registration_number or "").strip().upper()
    return f"reg:{number}" if number else f"id:{startup_id}"


def application_funnel(session: Session, *, org_ids: list[int], cohort_ids: list[int], start: datetime,
                       end: datetime) -> Funnel:
    """Applications submitted in [start, end) to the calls feeding these cohorts (calls that target
    one of them): how many, reviewed, accepted, and by the applicant's origin (intake's query)."""
    found = intake_funnel(session, org_ids=org_ids, cohort_ids=cohort_ids, start=start, end=end)
    return Funnel(applications=found["applications"], reviewed=found["reviewed"], accepted=found["accepted"],
                  by_origin={origin: {"applications": count, "accepted": found["accepted_by_origin"].get(origin, 0)}
                             for origin, count in sorted(found["by_origin"].items())})


def build_report(session: Session, viewer: Organisation, cohorts: list[Cohort], period: Period,
                 today: date, *, by_month: bool = True) -> Report:
    """Every figure of the report for these (already access-checked) cohorts over ``period``; without
    ``by_month``, the startups' rows have no month by month figures (``by_month``, ``sources``): the
    report page shows none, and its check-ins are then added up in the database."""
    with all_orgs(session):  # the cohorts were access-checked by reporting.scope; a funder's span organisations
        return _build(session, viewer, cohorts, period, today, by_month)


def booking_money() -> Any:
    """The money the ledger holds for a booking (payments less refunds), as a subquery on ``Booking``."""
    return (select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .where(LedgerEntry.booking_id == Booking.id, LedgerEntry.kind.in_(MONEY_KINDS)).scalar_subquery())


def lab_money(session: Session, *, startup_ids: list[int], start: datetime, end: datetime) -> list[Any]:
    """Money received for the lab bookings of these startups that start in [start, end), per startup
    and resource kind: the ledger's payments less its refunds. Whatever became of the booking (money
    kept for a late cancellation was received all the same). The caller scopes the organisations."""
    return list(session.execute(
        select(Booking.startup_id, Resource.kind, func.sum(LedgerEntry.amount))
        .join(Booking, Booking.id == LedgerEntry.booking_id)
        .join(Resource, Resource.id == Booking.resource_id)
        .where(LedgerEntry.kind.in_(MONEY_KINDS), Booking.startup_id.in_(startup_ids), Booking.starts_at >= start,
               Booking.starts_at < end)
        .group_by(Booking.startup_id, Resource.kind)).all())


def _build(session: Session, viewer: Organisation, cohorts: list[Cohort], period: Period, today: date,
           by_month: bool) -> Report:
    cohort_ids = [c.id for c in cohorts]
    orgs = {o.id: o for o in session.execute(
        select(Organisation).where(Organisation.id.in_({c.org_id for c in cohorts} or {-1}))).scalars()}
    months = [m.strftime("%Y-%m") for m in period.months]
    start_utc, end_utc = period.bounds(viewer.timezone)

    records, statuses = _startup_records(session, cohorts, orgs, period)
    startup_ids = list(records) or [-1]
    mentoring = _mentoring(session, records, cohort_ids, start_utc, end_utc, period, viewer.timezone)
    lab = _lab(session, records, startup_ids, start_utc, end_utc)
    milestones = _milestones(session, records, startup_ids, period, today)

    if by_month:
        lines, trend = _monthly(session, records, statuses, startup_ids, period, own=len(orgs) > 1)
    else:
        lines, trend = _summed(session, records, statuses, startup_ids, period, own=len(orgs) > 1)
    headline = _headline(lines, statuses, trend)
    funnel = application_funnel(session, org_ids=list(orgs), cohort_ids=cohort_ids, start=start_utc, end=end_utc)
    comparison = _comparison(orgs, sorted(records.values(), key=lambda r: (r.org_name, r.name.lower(), r.startup_id)),
                             statuses) if len(orgs) > 1 else []
    targets = _targets(session, viewer, period, headline)
    return Report(period=period, cohorts=cohorts, orgs=orgs, viewer=viewer, today=today, headline=headline,
                  months=months, trend=trend, funnel=funnel, mentoring=mentoring,
                  lab=[k for k in lab.values() if k.bookings or k.paid_amount], milestones=milestones,
                  startups=lines, comparison=comparison, targets=targets)


def _monthly(session: Session, records: dict[int, StartupLine], statuses: dict[int, set[str]],
             startup_ids: list[int], period: Period, *, own: bool) -> tuple[list[StartupLine], dict[str, list[int]]]:
    """The startups' rows with their months, and the trends, from the check-ins that count (with ``own``, the
    incubators side by side: each record also adds up its own check-ins)."""
    picked = counted(session, records, startup_ids, period, own=own)
    lines = _merged(records, statuses, picked)
    trend = {name: [0] * len(period.months) for name in FLOWS}
    by_date = {m: i for i, m in enumerate(period.months)}
    series = [trend[name] for name in FLOWS]
    for (_key, month), checkin in picked.items():
        at = by_date[month]
        for values, value in zip(series, checkin[FLOW_SLICE], strict=True):
            values[at] += value
    return lines, trend


def _summed(session: Session, records: dict[int, StartupLine], statuses: dict[int, set[str]],
            startup_ids: list[int], period: Period, *, own: bool) -> tuple[list[StartupLine], dict[str, list[int]]]:
    """The same figures without the months, from the check-ins that count added up in the database."""
    per_record, per_month = counted_sums(session, records, startup_ids, period, own=own)
    lines = _merged(records, statuses, {})
    by_key = {line.key: line for line in lines}
    for startup_id, count, employees, *sums in per_record:
        record = records[startup_id]
        line = by_key[record.key]
        for name, value in zip(FLOWS, sums, strict=True):
            line.kpis[name] += int(value or 0)
        line.source_months[record.org_name] = line.source_months.get(record.org_name, 0) + count
        if employees is not None:
            line.employees = employees  # the company's latest month's
    trend = {name: [0] * len(period.months) for name in FLOWS}
    by_date = {m: i for i, m in enumerate(period.months)}
    for month, *sums in per_month:
        for name, value in zip(FLOWS, sums, strict=True):
            trend[name][by_date[month]] = int(value or 0)
    return lines, trend


def _startup_records(session: Session, cohorts: list[Cohort], orgs: dict[int, Organisation],
                     period: Period) -> tuple[dict[int, StartupLine], dict[int, set[str]]]:
    """One record per startup row (an organisation's own view of the company), for the comparison of
    incubators, with the enrolment statuses it holds; the report's rows merge the records of one
    company (``_merged``)."""
    cohort_names = {c.id: c.name for c in cohorts}
    rows = session.execute(
        select(Enrolment.cohort_id, Enrolment.status, Startup.id, Startup.org_id, Startup.name,
               Startup.registration_number, Startup.stage, Startup.origin, Startup.is_st_enterprise)
        .join(Startup, Startup.id == Enrolment.startup_id)
        .where(Enrolment.cohort_id.in_(list(cohort_names) or [-1]), Enrolment.enrolled_on < period.end)
        .order_by(Startup.name, Startup.id)).all()
    records: dict[int, StartupLine] = {}
    statuses: dict[int, set[str]] = defaultdict(set)
    in_cohorts: dict[int, list[str]] = defaultdict(list)
    for startup in rows:  # a row: the enrolment's cohort_id and status, the startup's columns
        cohort_id, status = startup.cohort_id, startup.status
        statuses[startup.id].add(status)
        in_cohorts[startup.id].append(cohort_names[cohort_id])
        if startup.id not in records:
            records[startup.id] = StartupLine(
                startup_id=startup.id, key=identity(startup.id, startup.registration_number), org_id=startup.org_id,
                org_name=orgs[startup.org_id].name, name=startup.name,
                registration_number=startup.registration_number, cohorts="", status="", stage=startup.stage,
                origin=startup.origin, st_enterprise=startup.is_st_enterprise, startup_ids=[startup.id])
    for startup_id, record in records.items():
        record.cohorts = ", ".join(sorted(set(in_cohorts[startup_id])))
        record.status = _best_status(statuses[startup_id])
    return records, statuses


def _mentoring(session: Session, records: dict[int, StartupLine], cohort_ids: list[int], start: datetime,
               end: datetime, period: Period, tz_name: str) -> Mentoring:
    """The sessions held, added up by the database per startup and per month (in the viewer's time zone)."""
    mentoring = Mentoring(by_month={m.strftime("%Y-%m"): [0, 0] for m in period.months})
    per_startup, per_month = held_session_sums(session, cohort_ids=cohort_ids, start=start, end=end,
                                               tz_name=tz_name, months=period.months)
    for startup_id, sessions, minutes, rated, rating_sum in per_startup:
        mentoring.sessions += sessions
        mentoring.minutes += int(minutes or 0)
        mentoring.rated += rated
        mentoring.rating_sum += int(rating_sum or 0)
        if startup_id in records:
            records[startup_id].mentoring_sessions += sessions
            records[startup_id].mentoring_minutes += int(minutes or 0)
    for month, sessions, minutes in per_month:
        if month in mentoring.by_month:
            mentoring.by_month[month] = [sessions, int(minutes or 0)]
    return mentoring


def _lab(session: Session, records: dict[int, StartupLine], startup_ids: list[int], start: datetime,
         end: datetime) -> dict[str, LabKind]:
    """Lab use per resource kind (time from the bookings, money from the ledger), and per startup."""
    lab = {kind.value: LabKind(kind=kind.value) for kind in ResourceKind}
    list_value: dict[str, int] = defaultdict(int)
    for startup_id, kind, count, minutes, credit, paid, credit_value in lab_use_totals(
            session, startup_ids=startup_ids, start=start, end=end):
        line = lab.setdefault(kind, LabKind(kind=kind))
        line.bookings += count
        line.minutes += int(minutes or 0)
        line.credit_minutes += int(credit or 0)
        line.paid_minutes += int(paid or 0)
        list_value[kind] += int(credit_value or 0)
        records[startup_id].lab_minutes += int(minutes or 0)
    for kind, value in list_value.items():
        lab[kind].in_kind_value = value // 60  # credit hours at the hourly list price
    for startup_id, kind, amount in lab_money(session, startup_ids=startup_ids, start=start, end=end):
        lab.setdefault(kind, LabKind(kind=kind)).paid_amount += int(amount or 0)
        records[startup_id].lab_paid += int(amount or 0)
    return lab


def _milestones(session: Session, records: dict[int, StartupLine], startup_ids: list[int], period: Period,
                today: date) -> Milestones:
    """The milestones due in the period, counted by the database per startup, status and lateness."""
    milestones = Milestones()
    late = (Milestone.due_on < today).label("late")
    for startup_id, milestone_status, is_late, count in session.execute(
            select(Milestone.startup_id, Milestone.status, late, func.count())
            .where(Milestone.startup_id.in_(startup_ids), Milestone.due_on >= period.start,
                   Milestone.due_on < period.end)
            .group_by(Milestone.startup_id, Milestone.status, late)):
        milestones.total += count
        records[startup_id].milestones_total += count
        if milestone_status == MilestoneStatus.DONE:
            milestones.done += count
            records[startup_id].milestones_done += count
        elif milestone_status == MilestoneStatus.MISSED:
            milestones.missed += count
        elif is_late:
            milestones.overdue += count
    return milestones


def _headline(lines: list[StartupLine], statuses: dict[int, set[str]],
              trend: dict[str, list[int]]) -> dict[str, int]:
    headline = dict.fromkeys(HEADLINE, 0)
    headline.update({name: sum(values) for name, values in trend.items()})
    headline["funding_total"] = headline["funding_equity"] + headline["funding_debt"] + headline["funding_grant"]
    headline["startups"] = len(lines)
    headline["active"] = sum(1 for line in lines if line.status == EnrolmentStatus.ACTIVE)
    headline["graduated"] = sum(1 for line in lines
                                if any(statuses[i] & set(GRADUATED) for i in line.startup_ids))
    headline["st_enterprises"] = sum(1 for line in lines if line.st_enterprise)
    headline["employees"] = sum(line.employees for line in lines)
    return headline


def _best_status(found: set[str]) -> str:
    return next((s for s in (EnrolmentStatus.ACTIVE, *GRADUATED, EnrolmentStatus.WITHDRAWN) if s in found),
                EnrolmentStatus.WITHDRAWN)


def _merged(records: dict[int, StartupLine], statuses: dict[int, set[str]],
            picked: dict[tuple[str, date], Any]) -> list[StartupLine]:
    """One row per company: its records in every incubator together, with the check-ins that count
    (``picked``) as its figures, and for each month the incubator whose check-in that is."""
    groups: dict[str, list[StartupLine]] = defaultdict(list)
    for record in sorted(records.values(), key=lambda r: r.startup_id):
        groups[record.key].append(record)
    lines: dict[str, StartupLine] = {}
    for key, group in groups.items():
        first = group[0]  # the oldest record names the company
        org_names = list(dict.fromkeys(r.org_name for r in sorted(group, key=lambda r: r.org_name)))
        found = set().union(*(statuses[r.startup_id] for r in group))
        lines[key] = StartupLine(
            startup_id=first.startup_id, key=key, org_id=first.org_id, org_name=", ".join(org_names), name=first.name,
            registration_number=first.registration_number,
            cohorts=", ".join(sorted({c for r in group for c in r.cohorts.split(", ") if c})),
            status=_best_status(found), stage=first.stage, origin=first.origin,
            st_enterprise=any(r.st_enterprise for r in group),
            mentoring_sessions=sum(r.mentoring_sessions for r in group),
            mentoring_minutes=sum(r.mentoring_minutes for r in group),
            lab_minutes=sum(r.lab_minutes for r in group), lab_paid=sum(r.lab_paid for r in group),
            milestones_total=sum(r.milestones_total for r in group),
            milestones_done=sum(r.milestones_done for r in group),
            startup_ids=sorted(r.startup_id for r in group))
    latest: dict[str, date] = {}
    labels: dict[date, str] = {}
    for (key, month), checkin in sorted(picked.items(), key=lambda item: item[0][1]):
        line = lines[key]
        label = labels.get(month) or labels.setdefault(month, month.strftime("%Y-%m"))
        values = dict(zip(FLOWS, checkin[FLOW_SLICE], strict=True))
        line.by_month[label] = {**values, "employees_full_time": checkin.employees_full_time}
        line.sources[label] = org_name = records[checkin.startup_id].org_name
        line.source_months[org_name] = line.source_months.get(org_name, 0) + 1
        for name in FLOWS:
            line.kpis[name] += values[name]
        if key not in latest or latest[key] < month:
            latest[key] = month
            line.employees = checkin.employees_full_time  # the latest month's
    return sorted(lines.values(), key=lambda ln: (ln.org_name, ln.name.lower(), ln.startup_id))


def _comparison(orgs: dict[int, Organisation], lines: list[StartupLine],
                statuses: dict[int, set[str]]) -> list[dict[str, Any]]:
    """The incubators side by side (each counts its own startups)."""
    result = []
    for org in sorted(orgs.values(), key=lambda o: o.name):
        mine = [ln for ln in lines if ln.org_id == org.id]
        done, total = sum(ln.milestones_done for ln in mine), sum(ln.milestones_total for ln in mine)
        result.append({
            "org": org.name, "slug": org.slug, "startups": len(mine),
            "active": sum(1 for ln in mine if EnrolmentStatus.ACTIVE in statuses[ln.startup_id]),
            "st_enterprises": sum(1 for ln in mine if ln.st_enterprise),
            "revenue": sum(ln.kpis["revenue"] for ln in mine),
            "jobs_created": sum(ln.kpis["jobs_created"] for ln in mine),
            "funding_total": sum(ln.funding_total for ln in mine),
            "mentoring_hours": round(sum(ln.mentoring_minutes for ln in mine) / 60, 1),
            "lab_hours": round(sum(ln.lab_minutes for ln in mine) / 60, 1),
            "milestone_rate": done / total if total else None,
        })
    return result


def _targets(session: Session, viewer: Organisation, period: Period, headline: dict[str, int]) -> list[dict[str, Any]]:
    """The viewer's targets for the period's year against the actuals (for periods within one year)."""
    if period.start.year != (period.end.year if period.end.month > 1 else period.end.year - 1):
        return []
    found = session.execute(select(ReportTarget).where(ReportTarget.org_id == viewer.id,
                                                       ReportTarget.year == period.start.year)).scalars().all()
    by_metric = {t.metric: t.value for t in found}
    return [{"metric": name, "target": by_metric[name], "actual": headline[name],
             "ratio": headline[name] / by_metric[name] if by_metric[name] else None}
            for name in HEADLINE if name in by_metric]
