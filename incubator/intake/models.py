"""Calls for applications, their versioned forms, applications, the pipeline, reviews and letters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incubator.accounts.models import User
from incubator.cohorts.models import Cohort, Programme, Startup
from incubator.core.db import Base, OrgScoped, TimestampMixin, intpk, str255, utcnow
from incubator.core.versioning import Versioned


class Stage(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SCREENING = "screening"
    IN_REVIEW = "in_review"
    INTERVIEW = "interview"
    ACCEPTED = "accepted"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self])

    @property
    def applicant_label(self) -> str:
        return str(APPLICANT_LABELS[self])


STAGE_LABELS = {
    Stage.DRAFT: _l("Draft"),
    Stage.SUBMITTED: _l("Submitted"),
    Stage.SCREENING: _l("Screening"),
    Stage.IN_REVIEW: _l("In review"),
    Stage.INTERVIEW: _l("Interview"),
    Stage.ACCEPTED: _l("Accepted"),
    Stage.WAITLISTED: _l("Waitlisted"),
    Stage.REJECTED: _l("Rejected"),
    Stage.WITHDRAWN: _l("Withdrawn"),
}

# What applicants read: the inner workings (screening, review) are one "being assessed".
APPLICANT_LABELS = {
    Stage.DRAFT: _l("Draft, not sent yet"),
    Stage.SUBMITTED: _l("Received"),
    Stage.SCREENING: _l("Being assessed"),
    Stage.IN_REVIEW: _l("Being assessed"),
    Stage.INTERVIEW: _l("Invited to an interview"),
    Stage.ACCEPTED: _l("Accepted"),
    Stage.WAITLISTED: _l("On the waiting list"),
    Stage.REJECTED: _l("Not selected"),
    Stage.WITHDRAWN: _l("Withdrawn"),
}


class Recommendation(StrEnum):
    YES = "yes"
    MAYBE = "maybe"
    NO = "no"

    @property
    def label(self) -> str:
        return str({Recommendation.YES: _l("Yes"), Recommendation.MAYBE: _l("Maybe"),
                    Recommendation.NO: _l("No")}[self])


class ReviewStatus(StrEnum):
    ASSIGNED = "assigned"
    SUBMITTED = "submitted"
    CONFLICT = "conflict"  # the reviewer declared a conflict of interest: the assignment is declined

    @property
    def label(self) -> str:
        return str({ReviewStatus.ASSIGNED: _l("Assigned"), ReviewStatus.SUBMITTED: _l("Submitted"),
                    ReviewStatus.CONFLICT: _l("Conflict of interest")}[self])


class Call(Versioned, OrgScoped, TimestampMixin, Base):
    """A call for applications. ``version`` (``Versioned``) guards its settings against two managers' edits."""

    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="dates_in_order"),
        CheckConstraint("cap IS NULL OR cap > 0", name="cap_positive"),
        CheckConstraint("fee_minor IS NULL OR fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint("reviewers_per_application >= 1", name="reviewers_positive"),
    )

    id: Mapped[intpk]
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"), index=True)
    title_en: Mapped[str255]
    title_vi: Mapped[str255]
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_vi: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime] = mapped_column(index=True)
    is_public: Mapped[bool] = mapped_column(default=True)  # False: unlisted, reachable by its link
    cap: Mapped[int | None]
    fee_minor: Mapped[int | None]  # the org's currency; submission waits for its payment
    allow_edits: Mapped[bool] = mapped_column(default=True)  # submitted applications editable until closes_at
    blind_review: Mapped[bool] = mapped_column(default=False)
    reviewers_per_application: Mapped[int] = mapped_column(default=2)

    programme: Mapped[Programme] = relationship()
    cohort: Mapped[Cohort | None] = relationship()
    versions: Mapped[list[FormVersion]] = relationship(back_populates="call", order_by="FormVersion.number",
                                                      cascade="all, delete-orphan")
    criteria: Mapped[list[Criterion]] = relationship(back_populates="call", order_by="Criterion.position",
                                                     cascade="all, delete-orphan")

    def title(self, locale: str) -> str:
        return self.title_vi if locale == "vi" and self.title_vi else self.title_en

    def description(self, locale: str) -> str:
        return self.description_vi if locale == "vi" and self.description_vi else self.description_en

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.opens_at <= now < self.closes_at

    @property
    def current_version(self) -> FormVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def current_form(self) -> FormVersion:
        """The version applicants answer now. A call is created with its first version, so one without
        any is broken data: a 404 (NotFound), not an AttributeError on ``None``."""
        version = self.current_version
        if version is None:
            from flask_babel import gettext

            from incubator.core.errors import NotFound

            raise NotFound(gettext("Not found"))
        return version


class FormVersion(Versioned, OrgScoped, Base):
    """One version of a call's form. Applications keep the version they answered. ``version`` (``Versioned``)
    counts the edits of this version's questions, so that two managers' edits of the form cannot cross."""

    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("call_id", "number"),)

    id: Mapped[intpk]
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[Call] = relationship(back_populates="versions")


class Criterion(OrgScoped, Base):
    """A weighted rubric criterion of a call, scored on a scale from ``scale_min`` to ``scale_max``.

    ``levels`` says what scores mean, for the reviewers: ``{"<score>": {"en": ..., "vi": ...}}``, for any
    of the scale's scores (all, some, or none)."""

    __tablename__ = "criteria"
    __table_args__ = (UniqueConstraint("call_id", "key"), CheckConstraint("scale_max > scale_min", name="scale"),
                      CheckConstraint("weight > 0", name="weight_positive"))

    id: Mapped[intpk]
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str255]
    label_vi: Mapped[str255]
    scale_min: Mapped[int] = mapped_column(default=0)
    scale_max: Mapped[int] = mapped_column(default=5)
    weight: Mapped[float] = mapped_column(default=1.0)
    position: Mapped[int] = mapped_column(default=0)
    levels: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict, server_default="{}")

    call: Mapped[Call] = relationship(back_populates="criteria")

    def label(self, locale: str) -> str:
        return self.label_vi if locale == "vi" and self.label_vi else self.label_en

    def level_texts(self, locale: str) -> list[tuple[int, str]]:
        """``(score, what it means)`` in ``locale``, else in the other language, lowest score first."""
        other = "en" if locale == "vi" else "vi"
        texts = []
        for score, text in (self.levels or {}).items():
            said = (text.get(locale) or text.get(other) or "").strip()
            if said:
                texts.append((int(score), said))
        return sorted(texts)


def display_name_of(answers: Mapping[str, Any], applicant_name: str | Callable[[], str]) -> str:
    """The team or project name in ``answers`` when the form asked for one, else the applicant's name
    (a callable is asked only then)."""
    for key in ("startup_name", "team_name", "project_name"):
        value = answers.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return applicant_name() if callable(applicant_name) else applicant_name


class Application(OrgScoped, TimestampMixin, Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("call_id", "applicant_id"),
                      Index("ix_applications_call_stage", "call_id", "stage"))

    id: Mapped[intpk]
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    form_version_id: Mapped[int] = mapped_column(ForeignKey("form_versions.id"), index=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    stage: Mapped[Stage] = mapped_column(String(20), default=Stage.DRAFT)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # the 24-hour deadline reminder, sent once
    startup_id: Mapped[int | None] = mapped_column(ForeignKey("startups.id", ondelete="SET NULL"), index=True)
    decided_cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"), index=True)
    letter_sent_at: Mapped[datetime | None]

    call: Mapped[Call] = relationship()
    form_version: Mapped[FormVersion] = relationship()
    applicant: Mapped[User] = relationship()
    startup: Mapped[Startup | None] = relationship()
    transitions: Mapped[list[Transition]] = relationship(back_populates="application", order_by="Transition.id",
                                                        cascade="all, delete-orphan")
    reviews: Mapped[list[Review]] = relationship(back_populates="application", cascade="all, delete-orphan")
    files: Mapped[list[ApplicationFile]] = relationship(back_populates="application", cascade="all, delete-orphan")

    @property
    def display_name(self) -> str:
        """The team or project name when the form asked for one, else the applicant's name."""
        return display_name_of(self.answers, lambda: self.applicant.name)

    def is_owned_by(self, user: Any) -> bool:
        return user is not None and getattr(user, "id", None) == self.applicant_id


class ApplicationFile(OrgScoped, Base):
    """A PDF uploaded for a file question, stored under a random key outside ``static/``."""

    __tablename__ = "application_files"

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(40))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str255]
    size: Mapped[int]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    application: Mapped[Application] = relationship(back_populates="files")


class Transition(OrgScoped, Base):
    """One move of an application through the pipeline: who, when, from, to, and why; or an edit of a
    submitted application's answers (``changed_questions``)."""

    __tablename__ = "application_transitions"

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    from_stage: Mapped[str] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # An edit of the answers rather than a move (from_stage == to_stage): the keys of the questions changed.
    changed_questions: Mapped[list[str] | None] = mapped_column(JSON)

    application: Mapped[Application] = relationship(back_populates="transitions")
    actor: Mapped[User | None] = relationship()

    @property
    def is_edit(self) -> bool:
        return self.changed_questions is not None


class Review(OrgScoped, Base):
    """A reviewer's assignment to an application, and once submitted their scores."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("application_id", "reviewer_id"),)

    id: Mapped[intpk]
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReviewStatus] = mapped_column(String(12), default=ReviewStatus.ASSIGNED)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recommendation: Mapped[str | None] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    conflict_reason: Mapped[str] = mapped_column(Text, default="")
    conflict_declared_at: Mapped[datetime | None]
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    # The day (in the organisation's time zone) the manager wants the review by; None: no deadline.
    due_on: Mapped[date | None] = mapped_column(Date)

    application: Mapped[Application] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()

    def is_overdue(self, today: date) -> bool:
        """Still to score (not submitted, not declined) after its deadline."""
        return self.status == ReviewStatus.ASSIGNED and self.due_on is not None and self.due_on < today


class LetterTemplate(OrgScoped, Base):
    """An organisation's decision letter for one outcome in one language (Jinja-free placeholders)."""

    __tablename__ = "letter_templates"
    __table_args__ = (UniqueConstraint("org_id", "outcome", "locale"),)

    id: Mapped[intpk]
    outcome: Mapped[str] = mapped_column(String(20))  # accepted | waitlisted | rejected
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str255]
    body: Mapped[str] = mapped_column(Text)


class PendingFounder(OrgScoped, Base):
    """A team member of an accepted application who had no account: invited to the organisation, and
    made a founder of the startup when they join (``intake.decisions``)."""

    __tablename__ = "pending_founders"
    __table_args__ = (UniqueConstraint("startup_id", "email"),)

    id: Mapped[intpk]
    startup_id: Mapped[int] = mapped_column(ForeignKey("startups.id", ondelete="CASCADE"), index=True)
    email: Mapped[str255] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
