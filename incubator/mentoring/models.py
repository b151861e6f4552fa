"""Mentor profiles, conflicts of interest, startup needs, matching runs and matches, sessions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.accounts.models import User
from incubator.cohorts.models import Cohort, Startup
from incubator.core.db import Base, OrgScoped, TimestampMixin, intpk, str255, utcnow
from incubator.core.versioning import Versioned
from incubator.core.weekly import WeeklyWindow

# The organisation's vocabulary of expertise; gaps from check-ins and milestones map onto it.
EXPERTISE = {
    "go_to_market": _l("Go-to-market"), "fundraising": _l("Fundraising"), "product": _l("Product"),
    "technology": _l("Technology"), "finance": _l("Finance"), "legal": _l("Legal"), "ip": _l("Intellectual property"),
    "marketing": _l("Marketing"), "export": _l("Export"), "manufacturing": _l("Manufacturing"),
    "operations": _l("Operations"), "hiring": _l("Hiring"), "reporting": _l("Reporting and metrics"),
    "execution": _l("Planning and execution"),
}
INDUSTRIES = {
    "agritech": _l("Agritech"), "edtech": _l("Edtech"), "healthtech": _l("Healthtech"),
    "logistics": _l("Logistics"), "manufacturing": _l("Manufacturing"), "cleantech": _l("Cleantech"),
    "fintech": _l("Fintech"), "retail": _l("Retail and e-commerce"), "other": _l("Other"),
}
LANGUAGES = {"vi": "Tiếng Việt", "en": "English", "ko": "한국어", "ja": "日本語", "zh": "中文"}


class ConflictKind(StrEnum):
    EQUITY = "equity"
    ADVISORY = "advisory"
    COMPETITOR = "competitor"
    FAMILY = "family"


class MatchStatus(StrEnum):
    PROPOSED = "proposed"
    LOCKED = "locked"
    PUBLISHED = "published"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ENDED = "ended"  # ended by a manager's or the mentor's record, e.g. a conflict of interest


class MatchRunStatus(StrEnum):
    QUEUED = "queued"  # a large cohort: a job runs it (MATCHING_JOB_MIN_PAIRS)
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


ACTIVE_MATCH = (MatchStatus.PUBLISHED, MatchStatus.ACCEPTED)
LIVE_MATCH = (MatchStatus.PROPOSED, MatchStatus.LOCKED, *ACTIVE_MATCH)  # not declined, not ended


class SessionFormat(StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class MentorProfile(Versioned, OrgScoped, TimestampMixin, Base):
    """A person's mentoring offer in one organisation (one person may mentor for several).

    Versioned: the mentor and the managers both edit it (``If-Match`` in the API, a hidden field on the page)."""

    __tablename__ = "mentor_profiles"
    __table_args__ = (UniqueConstraint("org_id", "user_id"), CheckConstraint("capacity >= 0", name="capacity"),
                      CheckConstraint("hours_per_month >= 0", name="hours"))

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    headline: Mapped[str] = mapped_column(String(255), default="")  # e.g. "Becamex IDC, logistics director"
    affiliation: Mapped[str] = mapped_column(String(20), default="business")  # state | university | business
    bio: Mapped[str] = mapped_column(Text, default="")
    expertise: Mapped[list[str]] = mapped_column(JSON, default=list)
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(default=2)  # startups at once
    hours_per_month: Mapped[int] = mapped_column(default=4)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")

    user: Mapped[User] = relationship()
    windows: Mapped[list[AvailabilityWindow]] = relationship(back_populates="mentor", cascade="all, delete-orphan",
                                                             order_by="AvailabilityWindow.weekday")


class AvailabilityWindow(WeeklyWindow, OrgScoped, Base):
    """A weekly window (``core.weekly``) in the mentor's time zone (weekday 0 is Monday)."""

    __tablename__ = "availability_windows"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
                      CheckConstraint("ends > starts", name="order"))

    id: Mapped[intpk]
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)

    mentor: Mapped[MentorProfile] = relationship(back_populates="windows")


class MentorConflict(OrgScoped, Base):
    """A conflict of interest: the mentor is never matched with this startup."""

    __tablename__ = "mentor_conflicts"
    __table_args__ = (UniqueConstraint("mentor_id", "startup_id"),)

    id: Mapped[intpk]
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ConflictKind] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    startup: Mapped[Startup] = relationship()
    mentor: Mapped[MentorProfile] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class MentoringNeeds(OrgScoped, Base):
    """What a startup asks mentors for, its industry and the languages it works in."""

    __tablename__ = "mentoring_needs"
    __table_args__ = (UniqueConstraint("startup_id"),)

    id: Mapped[intpk]
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id", ondelete="CASCADE"))
    needs: Mapped[list[str]] = mapped_column(JSON, default=list)
    industry: Mapped[str] = mapped_column(String(40), default="other")
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["vi"])


class MatchRun(OrgScoped, Base):
    __tablename__ = "match_runs"

    id: Mapped[intpk]
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)
    per_startup: Mapped[int] = mapped_column(default=2)
    participation_first: Mapped[bool] = mapped_column(default=False)
    total_score: Mapped[float] = mapped_column(default=0.0)
    why_not_best: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    unmatched: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    status: Mapped[MatchRunStatus] = mapped_column(String(10), default=MatchRunStatus.DONE, server_default="done")
    progress: Mapped[int] = mapped_column(default=100, server_default="100")  # percent, while a job runs it
    error: Mapped[str] = mapped_column(Text, default="", server_default="")  # why the job failed (for the log)
    finished_at: Mapped[datetime | None]

    cohort: Mapped[Cohort] = relationship()


class Match(OrgScoped, TimestampMixin, Base):
    __tablename__ = "matches"
    __table_args__ = (Index("ix_matches_cohort_status", "cohort_id", "status"),)

    id: Mapped[intpk]
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("match_runs.id", ondelete="SET NULL"), index=True)
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(default=0.0)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[MatchStatus] = mapped_column(String(12), default=MatchStatus.PROPOSED)
    mentor_accepted: Mapped[bool | None]
    founder_accepted: Mapped[bool | None]
    # What happened to the match after its answers, oldest first: {"at", "by", "event", ...}.
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    run: Mapped[MatchRun | None] = relationship()
    startup: Mapped[Startup] = relationship()
    mentor: Mapped[MentorProfile] = relationship()
    sessions: Mapped[list[MentorSession]] = relationship(back_populates="match", order_by="MentorSession.starts_at")

    @property
    def was_published(self) -> bool:
        """Published now or before it ended: the mentor and the founders know of it."""
        return self.status in ACTIVE_MATCH or self.status == MatchStatus.DECLINED or any(
            event.get("from") in ACTIVE_MATCH for event in self.history or [])


class MentorSession(OrgScoped, TimestampMixin, Base):
    __tablename__ = "mentor_sessions"
    __table_args__ = (CheckConstraint("duration_minutes > 0", name="duration"),
                      CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
                      Index("ix_mentor_sessions_mentor_start", "mentor_id", "starts_at"))

    id: Mapped[intpk]
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=60)
    format: Mapped[SessionFormat] = mapped_column(String(12), default=SessionFormat.IN_PERSON)
    location: Mapped[str] = mapped_column(String(255), default="")
    topics: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # the mentor, the startup and managers only
    status: Mapped[SessionStatus] = mapped_column(String(12), default=SessionStatus.SCHEDULED)
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE for updates

    match: Mapped[Match] = relationship(back_populates="sessions")
    action_items: Mapped[list[ActionItem]] = relationship(back_populates="session", cascade="all, delete-orphan")

    @property
    def ends_at(self) -> datetime:
        from datetime import timedelta

        return self.starts_at + timedelta(minutes=self.duration_minutes)

    def attendees(self) -> list[User]:
        """The mentor and the startup's founders: who is invited, and told of changes."""
        return [self.match.mentor.user] + [f.user for f in self.match.startup.founders]


class ActionItem(OrgScoped, Base):
    __tablename__ = "action_items"

    id: Mapped[intpk]
    session_id: Mapped[int] = mapped_column(ForeignKey("mentor_sessions.id", ondelete="CASCADE"), index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"), index=True)
    title: Mapped[str255]
    owner: Mapped[str] = mapped_column(String(10), default="startup")  # startup | mentor
    due_on: Mapped[date | None] = mapped_column(Date)
    done_at: Mapped[datetime | None]

    session: Mapped[MentorSession] = relationship(back_populates="action_items")
    match: Mapped[Match] = relationship()
