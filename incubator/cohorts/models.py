"""Programmes, cohorts, startups, enrolments, milestones and KPI check-ins."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.accounts.models import User
from incubator.core.db import Base, OrgScoped, TimestampMixin, intpk, str120, str255, utcnow
from incubator.core.versioning import Versioned
from incubator.orgs.models import Organisation


class Labelled(StrEnum):
    @property
    def label(self) -> str:
        return str(LABELS[self])


class ProgrammeKind(Labelled):
    INCUBATION = "incubation"
    ACCELERATION = "acceleration"
    CONTEST = "contest"
    HACKATHON = "hackathon"
    TRAINING = "training"


class Stage(Labelled):
    IDEA = "idea"
    PROTOTYPE = "prototype"
    MVP = "mvp"
    REVENUE = "revenue"
    GROWTH = "growth"


class Origin(Labelled):
    UNIVERSITY_SPINOFF = "university_spinoff"
    ENTERPRISE = "enterprise"
    STATE_PROGRAMME = "state_programme"
    INDEPENDENT = "independent"


class ResourceKind(Labelled):
    """What a lab resource is; cohorts include credit hours per kind (used by booking)."""

    MACHINE = "machine"
    BENCH = "bench"
    ROOM = "room"
    WORKSPACE = "workspace"


class EnrolmentStatus(Labelled):
    ACTIVE = "active"
    GRADUATED = "graduated"
    WITHDRAWN = "withdrawn"
    ALUMNI = "alumni"


class MilestoneStatus(Labelled):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    MISSED = "missed"


class Frequency(Labelled):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class KpiType(Labelled):
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"


LABELS: dict[str, Any] = {  # keyed by StrEnum members, looked up by their values too
    ProgrammeKind.INCUBATION: _l("Incubation"),
    ProgrammeKind.ACCELERATION: _l("Acceleration"),
    ProgrammeKind.CONTEST: _l("Contest"),
    ProgrammeKind.HACKATHON: _l("Hackathon"),
    ProgrammeKind.TRAINING: _l("Training course"),
    Stage.IDEA: _l("Idea"),
    Stage.PROTOTYPE: _l("Prototype"),
    Stage.MVP: _l("MVP"),
    Stage.REVENUE: _l("Revenue"),
    Stage.GROWTH: _l("Growth"),
    Origin.UNIVERSITY_SPINOFF: _l("University spin-off"),
    Origin.ENTERPRISE: _l("Enterprise"),
    Origin.STATE_PROGRAMME: _l("State programme"),
    Origin.INDEPENDENT: _l("Independent"),
    ResourceKind.MACHINE: _l("Machines"),
    ResourceKind.BENCH: _l("Benches"),
    ResourceKind.ROOM: _l("Rooms"),
    ResourceKind.WORKSPACE: _l("Workspaces"),
    EnrolmentStatus.ACTIVE: _l("Active"),
    EnrolmentStatus.GRADUATED: _l("Graduated"),
    EnrolmentStatus.WITHDRAWN: _l("Withdrawn"),
    EnrolmentStatus.ALUMNI: _l("Alumni"),
    MilestoneStatus.PLANNED: _l("Planned"),
    MilestoneStatus.IN_PROGRESS: _l("In progress"),
    MilestoneStatus.DONE: _l("Done"),
    MilestoneStatus.MISSED: _l("Missed"),
    Frequency.MONTHLY: _l("Monthly"),
    Frequency.QUARTERLY: _l("Quarterly"),
    KpiType.INTEGER: _l("Whole number"),
    KpiType.DECIMAL: _l("Decimal number"),
    KpiType.MONEY: _l("Money"),
}


class Programme(OrgScoped, TimestampMixin, Base):
    __tablename__ = "programmes"

    id: Mapped[intpk]
    name: Mapped[str255]
    kind: Mapped[ProgrammeKind] = mapped_column(String(20), default=ProgrammeKind.INCUBATION)
    description: Mapped[str] = mapped_column(Text, default="")

    cohorts: Mapped[list[Cohort]] = relationship(back_populates="programme")


class Cohort(OrgScoped, TimestampMixin, Base):
    __tablename__ = "cohorts"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_in_order"),)

    id: Mapped[intpk]
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    name: Mapped[str255]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int | None]
    checkin_frequency: Mapped[Frequency] = mapped_column(String(12), default=Frequency.MONTHLY)
    mentoring_hours_per_startup: Mapped[int] = mapped_column(default=0)

    programme: Mapped[Programme] = relationship(back_populates="cohorts")
    lab_credits: Mapped[list[CohortLabCredit]] = relationship(back_populates="cohort", cascade="all, delete-orphan")
    funders: Mapped[list[CohortFunder]] = relationship(back_populates="cohort", cascade="all, delete-orphan")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="cohort")


class CohortLabCredit(OrgScoped, Base):
    """Lab hours of one resource kind that every startup of the cohort gets included."""

    __tablename__ = "cohort_lab_credits"
    __table_args__ = (UniqueConstraint("cohort_id", "resource_kind"), CheckConstraint("hours >= 0", name="hours"))

    id: Mapped[intpk]
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    resource_kind: Mapped[ResourceKind] = mapped_column(String(12))
    hours: Mapped[int]

    cohort: Mapped[Cohort] = relationship(back_populates="lab_credits")


class CohortFunder(OrgScoped, Base):
    """Who funds a cohort: a member with the funder role, or a funding organisation."""

    __tablename__ = "cohort_funders"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (funder_org_id IS NULL)", name="one_funder"),
        UniqueConstraint("cohort_id", "user_id"),
        UniqueConstraint("cohort_id", "funder_org_id"),
    )

    id: Mapped[intpk]
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    funder_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)

    cohort: Mapped[Cohort] = relationship(back_populates="funders")
    user: Mapped[User | None] = relationship()
    funder_org: Mapped[Organisation | None] = relationship(foreign_keys=[funder_org_id])


class Startup(Versioned, OrgScoped, TimestampMixin, Base):
    __tablename__ = "startups"
    __table_args__ = (UniqueConstraint("org_id", "registration_number"),
                      CheckConstraint("team_size >= 0", name="team_size"))

    id: Mapped[intpk]
    name: Mapped[str255]
    legal_name: Mapped[str | None] = mapped_column(String(255))
    # The tax / business registration number: counts a startup once across organisations.
    registration_number: Mapped[str | None] = mapped_column(String(40), index=True)
    sector: Mapped[str120] = mapped_column(default="")
    stage: Mapped[Stage] = mapped_column(String(12), default=Stage.IDEA)
    origin: Mapped[Origin] = mapped_column(String(20), default=Origin.INDEPENDENT)
    partner_institution: Mapped[str | None] = mapped_column(String(255))
    team_size: Mapped[int] = mapped_column(default=1)
    website: Mapped[str | None] = mapped_column(String(255))
    logo_key: Mapped[str | None] = mapped_column(String(64))
    is_st_enterprise: Mapped[bool] = mapped_column(default=False)  # certified S&T enterprise
    description: Mapped[str] = mapped_column(Text, default="")

    founders: Mapped[list[StartupFounder]] = relationship(back_populates="startup", cascade="all, delete-orphan")
    enrolments: Mapped[list[Enrolment]] = relationship(back_populates="startup")
    milestones: Mapped[list[Milestone]] = relationship(back_populates="startup", order_by="Milestone.due_on")

    def has_founder(self, user: Any) -> bool:
        return any(f.user_id == user.id for f in self.founders)


class StartupFounder(OrgScoped, Base):
    __tablename__ = "startup_founders"
    __table_args__ = (UniqueConstraint("startup_id", "user_id"),)

    id: Mapped[intpk]
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    startup: Mapped[Startup] = relationship(back_populates="founders")
    user: Mapped[User] = relationship()


class Enrolment(OrgScoped, Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("cohort_id", "startup_id"),)

    id: Mapped[intpk]
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id"), index=True)
    status: Mapped[EnrolmentStatus] = mapped_column(String(12), default=EnrolmentStatus.ACTIVE)
    enrolled_on: Mapped[date] = mapped_column(Date)
    status_changed_on: Mapped[date | None] = mapped_column(Date)
    status_reason: Mapped[str | None] = mapped_column(Text)

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    startup: Mapped[Startup] = relationship(back_populates="enrolments")


class MilestoneTemplate(OrgScoped, Base):
    """A milestone every startup of a cohort commits to; applying it creates one per startup."""

    __tablename__ = "milestone_templates"

    id: Mapped[intpk]
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str255]
    due_on: Mapped[date] = mapped_column(Date)

    cohort: Mapped[Cohort] = relationship()


class Milestone(OrgScoped, TimestampMixin, Base):
    __tablename__ = "milestones"
    __table_args__ = (Index("ix_milestones_startup_due", "startup_id", "due_on"),)

    id: Mapped[intpk]
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id", ondelete="CASCADE"), index=True)
    template_id: Mapped[int | None] = mapped_column(ForeignKey("milestone_templates.id", ondelete="SET NULL"),
                                                    index=True)
    title: Mapped[str255]
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[MilestoneStatus] = mapped_column(String(12), default=MilestoneStatus.PLANNED)
    evidence_url: Mapped[str | None] = mapped_column(String(500))
    evidence_key: Mapped[str | None] = mapped_column(String(64))
    evidence_name: Mapped[str | None] = mapped_column(String(255))
    completed_on: Mapped[date | None] = mapped_column(Date)

    startup: Mapped[Startup] = relationship(back_populates="milestones")

    def is_overdue(self, today: date) -> bool:
        return self.due_on < today and self.status in (MilestoneStatus.PLANNED, MilestoneStatus.IN_PROGRESS)


class KpiDefinition(OrgScoped, Base):
    """A custom KPI an organisation asks its startups for, besides the standard ones."""

    __tablename__ = "kpi_definitions"
    __table_args__ = (UniqueConstraint("org_id", "key"),)

    id: Mapped[intpk]
    key: Mapped[str] = mapped_column(String(40))
    name: Mapped[str120]
    unit: Mapped[str] = mapped_column(String(40), default="")
    type: Mapped[KpiType] = mapped_column(String(12), default=KpiType.INTEGER)
    active: Mapped[bool] = mapped_column(default=True)


STANDARD_KPIS = (
    "revenue", "employees_full_time", "employees_part_time", "jobs_created", "funding_equity", "funding_debt",
    "funding_grant", "customers", "products_commercialised", "ip_filings",
)
MONEY_KPIS = ("revenue", "funding_equity", "funding_debt", "funding_grant")


class CheckIn(Versioned, OrgScoped, TimestampMixin, Base):
    """What a startup reports for one period (``period`` is the first day of the month)."""

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("startup_id", "period"),
                      *(CheckConstraint(f"{k} >= 0", name=f"{k}_not_negative") for k in STANDARD_KPIS))

    id: Mapped[intpk]
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id", ondelete="CASCADE"), index=True)
    period: Mapped[date] = mapped_column(Date, index=True)
    is_baseline: Mapped[bool] = mapped_column(default=False)
    # Money in minor units of the organisation's currency (BigInteger: VND amounts pass 2^31).
    revenue: Mapped[int] = mapped_column(BigInteger, default=0)
    employees_full_time: Mapped[int] = mapped_column(default=0)
    employees_part_time: Mapped[int] = mapped_column(default=0)
    jobs_created: Mapped[int] = mapped_column(default=0)
    funding_equity: Mapped[int] = mapped_column(BigInteger, default=0)
    funding_debt: Mapped[int] = mapped_column(BigInteger, default=0)
    funding_grant: Mapped[int] = mapped_column(BigInteger, default=0)
    customers: Mapped[int] = mapped_column(default=0)
    products_commercialised: Mapped[int] = mapped_column(default=0)
    ip_filings: Mapped[int] = mapped_column(default=0)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    evidence_key: Mapped[str | None] = mapped_column(String(64))
    evidence_name: Mapped[str | None] = mapped_column(String(255))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    verified_at: Mapped[datetime | None]
    locked_at: Mapped[datetime | None]

    startup: Mapped[Startup] = relationship()
    revisions: Mapped[list[CheckInRevision]] = relationship(back_populates="checkin", cascade="all, delete-orphan",
                                                            order_by="CheckInRevision.id")

    @property
    def period_label(self) -> str:
        return self.period.strftime("%Y-%m")

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class CheckInRevision(OrgScoped, Base):
    """One change to a check-in before it was locked: who, when, old and new values."""

    __tablename__ = "checkin_revisions"

    id: Mapped[intpk]
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)  # {field: [old, new]}

    checkin: Mapped[CheckIn] = relationship(back_populates="revisions")
    user: Mapped[User | None] = relationship()


class ReminderLog(OrgScoped, Base):
    """A reminder sent, so that each is sent once."""

    __tablename__ = "reminder_logs"
    __table_args__ = (UniqueConstraint("startup_id", "kind", "period"),)

    id: Mapped[intpk]
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # checkin_due | checkin_overdue
    period: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
