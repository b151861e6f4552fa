"""Demo cohorts: BBI Cohort 2026 with nine startups and a year of KPI history; a TDMU cohort.

Dates are relative to the day the demo is loaded, so the history always ends last month.
Loaded once: if the programme exists, nothing is added.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.checkins import add_months
from incubator.cohorts.models import (
    CheckIn,
    Cohort,
    CohortFunder,
    CohortLabCredit,
    Enrolment,
    KpiDefinition,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Origin,
    Programme,
    ProgrammeKind,
    ResourceKind,
    Stage,
    Startup,
    StartupFounder,
)
from incubator.core.db import utcnow
from incubator.orgs.models import Organisation

# name, legal name, sector, stage, origin, partner, S&T enterprise, monthly revenue at start (VND), growth
BBI_STARTUPS = [
    ("AgriSense BD", "Công ty TNHH AgriSense Bình Dương", "Agritech: soil sensors for rubber and fruit farms",
     Stage.REVENUE, Origin.UNIVERSITY_SPINOFF, "Eastern International University", True, 45_000_000, 0.08),
    ("SmartLog Industrial", "Công ty Cổ phần SmartLog", "Logistics routing for industrial parks",
     Stage.GROWTH, Origin.ENTERPRISE, "Becamex IDC", False, 180_000_000, 0.05),
    ("EduViet AI", "Công ty TNHH EduViet AI", "Edtech: AI tutoring in Vietnamese", Stage.MVP, Origin.INDEPENDENT,
     None, False, 0, 0.0),
    ("MedLink Clinic", "Công ty TNHH MedLink", "Healthtech: clinic booking", Stage.REVENUE, Origin.INDEPENDENT,
     None, False, 30_000_000, 0.06),
    ("CeramiX 3D", "Công ty TNHH CeramiX", "3D-printed ceramics for Binh Duong potteries", Stage.PROTOTYPE,
     Origin.UNIVERSITY_SPINOFF, "Thu Dau Mot University", True, 0, 0.0),
    ("FactoryEye", "Công ty TNHH FactoryEye", "Computer vision for factory quality control", Stage.MVP,
     Origin.UNIVERSITY_SPINOFF, "Eastern International University", True, 12_000_000, 0.15),
    ("WaterWise", "Công ty TNHH WaterWise", "Water quality monitoring for industrial zones", Stage.PROTOTYPE,
     Origin.STATE_PROGRAMME, "Binh Duong Department of Science and Technology", False, 0, 0.0),
    ("LacquerCraft Online", "Hộ kinh doanh LacquerCraft", "E-commerce for lacquerware artisans", Stage.REVENUE,
     Origin.INDEPENDENT, None, False, 60_000_000, 0.04),
    ("SolarRoof BD", "Công ty Cổ phần SolarRoof", "Rooftop solar financing for SMEs", Stage.GROWTH,
     Origin.ENTERPRISE, "Becamex IDC", False, 250_000_000, 0.03),
]
TDMU_STARTUPS = [
    ("GreenPack TDM", "Bio-based packaging", Stage.PROTOTYPE, 0),
    ("Tutor Connect", "Student tutoring marketplace", Stage.MVP, 5_000_000),
    ("RiceHusk Energy", "Biomass pellets from rice husk", Stage.REVENUE, 40_000_000),
]
MILESTONES = [  # title, months after the start, final status for most startups
    ("Customer discovery: 20 interviews", 2, MilestoneStatus.DONE),
    ("Prototype demo day", 5, MilestoneStatus.DONE),
    ("First paying customer", 8, MilestoneStatus.IN_PROGRESS),
    ("Mentor-reviewed business model", 10, MilestoneStatus.PLANNED),
    ("Investor pitch at BBI Demo Day", 13, MilestoneStatus.PLANNED),
]


def seed(session: Session, orgs: dict[str, Organisation], users: dict[str, User], today: date) -> None:
    bbi, tdmu = orgs["bbi"], orgs["tdmu"]
    if session.execute(select(Programme.id).where(Programme.org_id == bbi.id)).first():
        return
    rng = random.Random(2026)
    start = add_months(today.replace(day=1), -12)
    programme = Programme(org_id=bbi.id, name="BBI Incubation Programme", kind=ProgrammeKind.INCUBATION,
                          description="Twelve months of incubation at Eastern International University, with lab "
                                      "access at the EIU Fablab and mentors from the Triple Helix.")
    session.add(programme)
    cohort = Cohort(org_id=bbi.id, programme=programme, name="BBI Cohort 2026", starts_on=start,
                    ends_on=add_months(start, 14) - timedelta(days=1), capacity=12, mentoring_hours_per_startup=24)
    cohort.lab_credits = [CohortLabCredit(org_id=bbi.id, resource_kind=ResourceKind.MACHINE, hours=20),
                          CohortLabCredit(org_id=bbi.id, resource_kind=ResourceKind.BENCH, hours=40)]
    cohort.funders = [CohortFunder(org_id=bbi.id, user_id=users["funder@bbi.example.com"].id)]
    session.add(cohort)
    session.add(KpiDefinition(org_id=bbi.id, key="export_markets", name="Export markets", unit="countries"))
    templates = [MilestoneTemplate(org_id=bbi.id, cohort=cohort, title=t, due_on=add_months(start, m) + timedelta(
        days=14)) for t, m, _s in MILESTONES]
    session.add_all(templates)
    session.flush()

    for index, spec in enumerate(BBI_STARTUPS):
        name, legal, sector, stage, origin, partner, st, revenue, growth = spec
        startup = Startup(org_id=bbi.id, name=name, legal_name=legal, registration_number=f"37{index:02d}123456",
                          sector=sector, stage=stage, origin=origin, partner_institution=partner,
                          is_st_enterprise=st, team_size=3 + index % 4, website=None)
        session.add(startup)
        session.add(Enrolment(org_id=bbi.id, cohort=cohort, startup=startup, enrolled_on=start))
        if index == 0:
            session.add(StartupFounder(org_id=bbi.id, startup=startup, user=users["founder@bbi.example.com"]))
        _milestones(session, bbi, startup, templates, index, today)
        # Two startups fall behind on reporting: their last one or two months are missing.
        months = 12 - (2 if index == 2 else 1 if index == 6 else 0)
        _history(session, bbi, startup, start, months, revenue, growth, index, rng, today)

    tprog = Programme(org_id=tdmu.id, name="TDMU Startup Incubation", kind=ProgrammeKind.INCUBATION)
    tcohort = Cohort(org_id=tdmu.id, programme=tprog, name="TDMU Cohort 2026", starts_on=add_months(start, 3),
                     ends_on=add_months(start, 15) - timedelta(days=1), mentoring_hours_per_startup=12)
    session.add_all([tprog, tcohort])
    for index, (name, sector, stage, revenue) in enumerate(TDMU_STARTUPS):
        startup = Startup(org_id=tdmu.id, name=name, sector=sector, stage=stage, origin=Origin.UNIVERSITY_SPINOFF,
                          partner_institution="Thu Dau Mot University", registration_number=f"38{index:02d}654321")
        session.add(startup)
        session.add(Enrolment(org_id=tdmu.id, cohort=tcohort, startup=startup, enrolled_on=tcohort.starts_on))
        _history(session, tdmu, startup, tcohort.starts_on, 9, revenue, 0.05, index, rng, today)
    session.flush()


def _milestones(session: Session, org: Organisation, startup: Startup, templates: list[MilestoneTemplate],
                index: int, today: date) -> None:
    for position, (template, (_title, _m, status)) in enumerate(zip(templates, MILESTONES, strict=True)):
        if template.due_on < today:
            if index in (4, 6) and position == 1:
                status = MilestoneStatus.MISSED
            elif index % 3 == 0 and position >= 2:
                status = MilestoneStatus.IN_PROGRESS  # past its date: overdue, a health signal
            else:
                status = MilestoneStatus.DONE
        done_on = template.due_on - timedelta(days=3) if status == MilestoneStatus.DONE else None
        session.add(Milestone(org_id=org.id, startup=startup, template_id=template.id, title=template.title,
                              due_on=template.due_on, status=status, completed_on=done_on,
                              evidence_url="https://example.org/evidence" if done_on else None))


def _history(session: Session, org: Organisation, startup: Startup, start: date, months: int, revenue: int,
             growth: float, index: int, rng: random.Random, today: date) -> None:
    employees = 2 + index % 3
    for month in range(months):
        period = add_months(start, month)
        if add_months(period, 1) > today.replace(day=1):
            break
        hires = 1 if rng.random() < 0.35 else 0
        employees += hires
        grant_holder = index in (0, 4, 5)
        monthly = int(revenue * (1 + growth) ** month * rng.uniform(0.85, 1.15)) // 1000 * 1000
        values: dict[str, Any] = dict(
            revenue=monthly, employees_full_time=employees, employees_part_time=index % 2 + (month // 6),
            jobs_created=hires, customers=(month + 1) * (3 + index) if revenue else month // 4,
            funding_equity=1_500_000_000 if (index in (1, 8) and month == 6) else 0,
            funding_debt=300_000_000 if (index == 3 and month == 9) else 0,
            funding_grant=200_000_000 if grant_holder and month == 3 else 0,
            products_commercialised=1 if revenue and month in (2, 9) else 0,
            ip_filings=1 if grant_holder and month in (4, 10) else 0,
        )
        recent = add_months(period, 2) > today.replace(day=1)
        session.add(CheckIn(
            org_id=org.id, startup=startup, period=period, is_baseline=month == 0,
            custom={"export_markets": index % 3} if org.slug == "bbi" else {},
            verified_at=None if recent else utcnow(), locked_at=None if recent else utcnow(), **values))
