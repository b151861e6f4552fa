"""The KPI check-ins a report counts, chosen in the database (see ``queries`` for the rule).

Each company's month counts once: of the check-ins its records hold for that month, the verified (or
locked) one before an unverified one, then the most recently updated, then the older record's. A
``row_number()`` over the company and the month picks it, on SQLite (3.25+) and PostgreSQL alike; a
company is named by its oldest record's id, the records of one company being worked out in Python by
``identity`` (as everywhere in the report), so only the records shared by several incubators are named
in the query. The report page reads sums (per record, per month), the downloads and the API the rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import case, func, or_, select
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


def counted(session: Session, records: dict[int, StartupLine], startup_ids: list[int],
            period: Period) -> dict[tuple[str, date], Any]:
    """The one check-in that counts per company and month, by (company key, month): rows of ``CHECKIN_COLUMNS``."""
    ranked = _ranked(records, startup_ids, period)
    rows = session.execute(select(*(ranked.c[c.key] for c in CHECKIN_COLUMNS)).where(ranked.c.rank == 1))
    return {(records[row.startup_id].key, row.period): row for row in rows}


def counted_sums(session: Session, records: dict[int, StartupLine], startup_ids: list[int],
                 period: Period) -> tuple[list[Any], list[Any]]:
    """The check-ins that count, added up in the database: per record (startup_id, months, the employees of
    the company's latest month when it is this record's check-in, else None, then the FLOWS), and per
    month (period, then the FLOWS)."""
    picked = _ranked(records, startup_ids, period)  # the company's latest month has a check-in that counts
    sums = [func.sum(picked.c[name]) for name in FLOWS]
    per_record = session.execute(select(
        picked.c.startup_id, func.count(),
        func.max(case((picked.c.period == picked.c.latest, picked.c.employees_full_time))), *sums)
        .where(picked.c.rank == 1).group_by(picked.c.startup_id)).all()
    per_month = session.execute(select(picked.c.period, *sums).where(picked.c.rank == 1)
                                .group_by(picked.c.period)).all()
    return list(per_record), list(per_month)


def add_own(session: Session, records: dict[int, StartupLine], startup_ids: list[int], period: Period) -> None:
    """Each record adds up all its own check-ins in the period (the incubators side by side)."""
    for startup_id, *sums in session.execute(
            select(CheckIn.startup_id, *(func.sum(getattr(CheckIn, name)) for name in FLOWS))
            .where(*_in_period(startup_ids, period)).group_by(CheckIn.startup_id)):
        records[startup_id].kpis.update(zip(FLOWS, (int(v or 0) for v in sums), strict=True))
