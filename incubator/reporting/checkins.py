"""The KPI check-ins a report counts, chosen in the database (see ``queries`` for the rule).

Each company's month counts once: of the check-ins its records hold for that month, the verified (or
locked) one before an unverified one, then the most recently updated, then the older record's. A
``row_number()`` over the company and the month picks it, on SQLite (3.25+) and PostgreSQL alike; a
company is named by its oldest record's id, the records of one company being worked out in Python by
``identity`` (as everywhere in the report), so only the records shared by several incubators are named
in the query. The report page reads sums (per record, per month), the downloads and the API the rows;
either way the ranking runs once a report, and the incubators side by side add up their own check-ins
from that same statement.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Date, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from incubator.cohorts.models import CheckIn
from incubator.reporting.figures import FLOWS, StartupLine
from incubator.reporting.scope import Period

# What the report reads of a check-in: rows of these columns, not loaded entities; the flows from FIRST_FLOW
# on, in the order of FLOWS (read by position: a report adds up thousands of them).
CHECKIN_COLUMNS = (CheckIn.startup_id, CheckIn.period, CheckIn.verified_at, CheckIn.locked_at, CheckIn.updated_at,
                   CheckIn.employees_full_time, *(getattr(CheckIn, name) for name in FLOWS))
FIRST_FLOW = 6
FLOW_SLICE = slice(FIRST_FLOW, FIRST_FLOW + len(FLOWS))  # a row's flows (a row of ``counted`` may carry more after)

# Which of two incubators' check-ins for the same company and month counts: verified (or locked) before
# unverified, then the latest updated, then the older record (the lower startup id).
RANK = (case((or_(CheckIn.verified_at.is_not(None), CheckIn.locked_at.is_not(None)), 1), else_=0).desc(),
        CheckIn.updated_at.desc(), CheckIn.startup_id)


def company(records: dict[int, StartupLine]) -> Any:
    """The company of a check-in's startup row, as the id of the company's oldest record."""
    groups: dict[str, list[int]] = defaultdict(list)
    for startup_id, record in records.items():
        groups[record.key].append(startup_id)
    shared = {i: min(ids) for ids in groups.values() if len(ids) > 1 for i in ids}
    return case(shared, value=CheckIn.startup_id, else_=CheckIn.startup_id) if shared else CheckIn.startup_id


def _in_period(startup_ids: list[int], period: Period) -> tuple[Any, ...]:
    return CheckIn.startup_id.in_(startup_ids), CheckIn.period >= period.start, CheckIn.period < period.end


def _ranked(records: dict[int, StartupLine], startup_ids: list[int], period: Period) -> Subquery:
    owner = company(records)
    return select(*CHECKIN_COLUMNS, owner.label("company"), func.row_number().over(
        partition_by=(owner, CheckIn.period), order_by=RANK).label("rank"),
        func.max(CheckIn.period).over(partition_by=owner).label("latest")).where(
        *_in_period(startup_ids, period)).subquery()


def counted(session: Session, records: dict[int, StartupLine], startup_ids: list[int], period: Period, *,
            own: bool = False) -> dict[tuple[str, date], Any]:
    """The one check-in that counts per company and month, by (company key, month): rows of ``CHECKIN_COLUMNS``.
    With ``own`` (the incubators side by side), the same one query also reads the check-ins that do not count,
    and each record adds up all its own check-ins in its ``kpis``."""
    ranked = _ranked(records, startup_ids, period)
    columns = [ranked.c[c.key] for c in CHECKIN_COLUMNS]
    if not own:
        rows = session.execute(select(*columns).where(ranked.c.rank == 1))
        return {(records[row.startup_id].key, row.period): row for row in rows}
    picked = {}
    for row in session.execute(select(*columns, ranked.c.rank)):
        kpis = records[row.startup_id].kpis
        for name, value in zip(FLOWS, row[FLOW_SLICE], strict=True):
            kpis[name] += value or 0
        if row.rank == 1:
            picked[(records[row.startup_id].key, row.period)] = row
    return picked


def counted_sums(session: Session, records: dict[int, StartupLine], startup_ids: list[int], period: Period, *,
                 own: bool = False) -> tuple[list[Any], list[Any]]:
    """The check-ins that count, added up in the database, in one statement over one ranking: per record
    (startup_id, months, the employees of the company's latest month when it is this record's check-in, else
    None, then the FLOWS), and per month (period, then the FLOWS). With ``own`` (the incubators side by side),
    each record also adds up all its own check-ins in its ``kpis``, from the same statement."""
    ranked = _ranked(records, startup_ids, period)  # the company's latest month has a check-in that counts
    # The ranking once: PostgreSQL computes a CTE read twice once; SQLite is told to.
    picked = select(*ranked.c).cte("picked").prefix_with("MATERIALIZED")
    counts = picked.c.rank == 1
    sums = [func.sum(case((counts, picked.c[name]))) for name in FLOWS]
    own_sums = [func.sum(picked.c[name]) if own else null() for name in FLOWS]
    per_record = select(
        literal("r").label("part"), picked.c.startup_id, cast(null(), Date).label("period"),
        func.sum(case((counts, 1), else_=0)).label("months"),
        func.max(case((counts & (picked.c.period == picked.c.latest), picked.c.employees_full_time))),
        *sums, *own_sums).group_by(picked.c.startup_id)
    per_month = select(
        literal("m"), null(), picked.c.period, func.count(), null(),
        *(func.sum(picked.c[name]) for name in FLOWS), *(null() for _ in FLOWS)).where(counts).group_by(
        picked.c.period)
    record_rows, month_rows = [], []
    flows = len(FLOWS)
    for part, startup_id, month, months, employees, *values in session.execute(union_all(per_record, per_month)):
        if part == "m":
            month_rows.append((month, *values[:flows]))
            continue
        if own:
            records[startup_id].kpis.update(zip(FLOWS, (int(v or 0) for v in values[flows:]), strict=True))
        if months:
            record_rows.append((startup_id, months, employees, *values[:flows]))
    return record_rows, month_rows
