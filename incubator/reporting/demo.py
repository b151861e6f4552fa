"""Demo data for reports: the Binh Duong Department of Science and Technology (``dost-bd``), a state
agency that funds BBI Cohort 2026 and TDMU Cohort 2026 and has targets for the year; FactoryEye also
sits in the TDMU cohort (same registration number), so the province-wide roll-up counts it once.
A first CSV of the BBI cohort's report is generated, so that the export pages have a row.
"""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.checkins import add_months
from incubator.cohorts.models import CheckIn, Cohort, CohortFunder, Enrolment, Origin, Stage, Startup
from incubator.orgs.models import Organisation
from incubator.reporting.models import ReportExport, ReportTarget

SHARED_STARTUP = "FactoryEye"
TARGETS = {  # for the current year
    "startups": 15, "st_enterprises": 4, "jobs_created": 40, "revenue": 6_000_000_000,
    "funding_total": 5_000_000_000, "products_commercialised": 20, "ip_filings": 8,
}


def seed(session: Session, bbi: Organisation, tdmu: Organisation, dost: Organisation, today: date) -> None:
    bbi_cohort = session.execute(select(Cohort).where(Cohort.org_id == bbi.id, Cohort.name == "BBI Cohort 2026")
                                 ).scalar_one()
    tdmu_cohort = session.execute(select(Cohort).where(Cohort.org_id == tdmu.id)
                                  .order_by(Cohort.id).limit(1)).scalar_one()
    for cohort in (bbi_cohort, tdmu_cohort):
        if not any(f.funder_org_id == dost.id for f in cohort.funders):
            cohort.funders.append(CohortFunder(org_id=cohort.org_id, funder_org_id=dost.id))
    _shared_startup(session, bbi, tdmu, tdmu_cohort, today)
    for metric, value in TARGETS.items():
        found = session.execute(select(ReportTarget).where(ReportTarget.org_id == dost.id,
                                                           ReportTarget.year == today.year,
                                                           ReportTarget.metric == metric)).scalar_one_or_none()
        if found is None:
            session.add(ReportTarget(org_id=dost.id, year=today.year, metric=metric, value=value))
    session.flush()


def _shared_startup(session: Session, bbi: Organisation, tdmu: Organisation, cohort: Cohort, today: date) -> None:
    """FactoryEye, a BBI startup, also joined the TDMU cohort: TDMU holds its own record, same number."""
    original = session.execute(select(Startup).where(Startup.org_id == bbi.id, Startup.name == SHARED_STARTUP)
                               ).scalar_one_or_none()
    if original is None or session.execute(select(Startup.id).where(
            Startup.org_id == tdmu.id, Startup.registration_number == original.registration_number)).first():
        return
    copy = Startup(org_id=tdmu.id, name=original.name, legal_name=original.legal_name,
                   registration_number=original.registration_number, sector=original.sector, stage=Stage.MVP,
                   origin=Origin.UNIVERSITY_SPINOFF, partner_institution="Thu Dau Mot University",
                   is_st_enterprise=original.is_st_enterprise, team_size=original.team_size)
    session.add(copy)
    session.add(Enrolment(org_id=tdmu.id, cohort=cohort, startup=copy, enrolled_on=cohort.starts_on))
    rng = random.Random(71)
    month = cohort.starts_on.replace(day=1)
    while add_months(month, 1) <= today.replace(day=1):
        session.add(CheckIn(org_id=tdmu.id, startup=copy, period=month, revenue=rng.randrange(10, 20) * 1_000_000,
                            employees_full_time=5, jobs_created=rng.choice((0, 0, 1)), customers=4))
        month = add_months(month, 1)


def seed_export(session: Session, bbi: Organisation, requester: User | None, today: date) -> None:
    """A generated CSV of BBI's report for this year, as the funder would download it."""
    from incubator.reporting.scope import parse_period
    from incubator.reporting.services import Request, cache_key, generate_now

    if session.execute(select(ReportExport.id).where(ReportExport.org_id == bbi.id)).first():
        return
    cohorts = list(session.execute(select(Cohort).where(Cohort.org_id == bbi.id)).scalars())
    request = Request(viewer=bbi, cohorts=cohorts, period=parse_period({}, today), fmt="csv", locale="vi")
    generate_now(session, request, cache_key(session, request), requester.id if requester else None, today)
