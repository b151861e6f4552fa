"""Review: assignments (by hand or automatic), conflicts of interest, scores. Who sees what is in
``intake.access``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.core.db import get_required, utcnow
from incubator.core.errors import Conflict, DomainError, NotAllowed
from incubator.core.mail import send_mail
from incubator.core.permissions import Permission, Role, role_has
from incubator.core.timezones import to_local
from incubator.intake.access import ACTIVE, REVIEWABLE_STAGES, may_unassign
from incubator.intake.models import Application, Call, Recommendation, Review, ReviewStatus
from incubator.orgs.models import Membership, Organisation


def reviewers_of(session: Session, org: Organisation) -> list[User]:
    """Members whose role reviews applications."""
    roles = [role for role in Role if role_has(role, Permission.REVIEW_APPLICATIONS)]
    users = session.execute(select(User).join(Membership, Membership.user_id == User.id)
                            .where(Membership.org_id == org.id, Membership.role.in_(roles))
                            .order_by(Membership.id)).scalars()
    return sorted(users, key=lambda u: u.name)


def assignment(session: Session, application: Application, user: User) -> Review | None:
    return session.execute(select(Review).where(Review.application_id == application.id,
                                                Review.reviewer_id == user.id)).scalar_one_or_none()


@dataclass(frozen=True)
class ReviewerProgress:
    """One reviewer's assignments in a call: ``assigned`` counts those not declined (to do or done),
    ``done`` the submitted ones, ``overdue`` those still to do after their deadline, ``declined`` the
    conflicts of interest declared."""

    reviewer_id: int
    name: str
    assigned: int
    done: int
    overdue: int
    declined: int


def review_progress(session: Session, call: Call, today: date) -> list[ReviewerProgress]:
    """How far each reviewer of ``call`` is, by name: one GROUP BY query over the call's assignments."""
    def counted(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = session.execute(
        select(Review.reviewer_id, User.name,
               counted(Review.status.in_(ACTIVE)), counted(Review.status == ReviewStatus.SUBMITTED),
               counted((Review.status == ReviewStatus.ASSIGNED) & Review.due_on.is_not(None) & (Review.due_on < today)),
               counted(Review.status == ReviewStatus.CONFLICT))
        .join(Application, Application.id == Review.application_id)
        .join(User, User.id == Review.reviewer_id)
        .where(Application.call_id == call.id, Review.org_id == call.org_id)
        .group_by(Review.reviewer_id, User.name)
        .order_by(User.name, Review.reviewer_id)).all()
    return [ReviewerProgress(int(rid), name, int(a), int(d), int(o), int(c)) for rid, name, a, d, o, c in rows]


def org_today(org: Organisation) -> date:
    """Today in the organisation's time zone: review deadlines are days there."""
    return to_local(utcnow(), org.timezone).date()


def check_due_on(org: Organisation, due_on: date | None) -> None:
    """A review deadline is today or later (in the organisation's time zone)."""
    if due_on is not None and due_on < org_today(org):
        raise DomainError(_("The deadline cannot be in the past."), code="due_in_past",
                          fields={"due_on": _("The deadline cannot be in the past.")})


def assign(session: Session, application: Application, reviewer: User, *, notify: bool = True,
           due_on: date | None = None) -> Review:
    """Assign ``reviewer`` to ``application`` (told by email) with an optional deadline ``due_on``.

    Assigning someone already assigned changes nothing but the deadline, when one is given."""
    org = get_required(session, Organisation, application.org_id)
    check_due_on(org, due_on)
    membership = session.execute(select(Membership).where(Membership.org_id == application.org_id,
                                                          Membership.user_id == reviewer.id)).scalar_one_or_none()
    if membership is None or not membership.has(Permission.REVIEW_APPLICATIONS):
        raise DomainError(_("%(name)s is not a reviewer of this organisation.", name=reviewer.name),
                          code="not_a_reviewer", fields={"reviewer_id": _("Not a valid choice.")})
    if application.applicant_id == reviewer.id:
        raise DomainError(_("Nobody reviews their own application."), code="conflict_of_interest")
    if application.stage not in REVIEWABLE_STAGES:
        raise DomainError(_("This application is not under review."), code="bad_stage")
    review = assignment(session, application, reviewer)
    if review is not None:
        if review.status == ReviewStatus.CONFLICT:
            raise DomainError(_("%(name)s declared a conflict of interest with this application.", name=reviewer.name),
                              code="conflict_of_interest")
        if due_on is not None and review.status == ReviewStatus.ASSIGNED:
            review.due_on = due_on
        return review
    review = Review(org_id=application.org_id, application=application, reviewer=reviewer, assigned_at=utcnow(),
                    due_on=due_on)
    session.add(review)
    session.flush()
    if notify:
        _notify_assignment(session, org, reviewer, [application])
    return review


def auto_assign(session: Session, call: Call, applications: list[Application], k: int | None = None, *,
                due_on: date | None = None) -> int:
    """Give each application ``k`` active reviewers, always the least loaded, never a conflicted one; each
    assignment made is wanted by ``due_on`` (today or later, or None: no deadline)."""
    org = get_required(session, Organisation, call.org_id)
    check_due_on(org, due_on)
    k = k or call.reviewers_per_application
    pool = reviewers_of(session, org)
    if not pool:
        raise DomainError(_("The organisation has no reviewers yet."), code="no_reviewers")
    reviews = session.execute(select(Review).join(Application).where(Application.call_id == call.id)).scalars().all()
    load = Counter({u.id: 0 for u in pool})
    taken: dict[int, set[int]] = {}
    for review in reviews:
        taken.setdefault(review.application_id, set()).add(review.reviewer_id)
        if review.status in ACTIVE and review.reviewer_id in load:
            load[review.reviewer_id] += 1
    active = Counter(r.application_id for r in reviews if r.status in ACTIVE)
    made: dict[int, list[Application]] = {}
    for application in sorted(applications, key=lambda a: a.id):
        if application.stage not in REVIEWABLE_STAGES:
            continue
        involved = emails_in(application)
        for _slot in range(k - active[application.id]):
            candidates = [u for u in pool if u.id not in taken.get(application.id, set())
                          and u.id != application.applicant_id and u.email.lower() not in involved]
            if not candidates:
                break
            chosen = min(candidates, key=lambda u: (load[u.id], u.id))
            # By id, not by relationship: appending to application.reviews would load it for each one.
            session.add(Review(org_id=call.org_id, application_id=application.id, reviewer_id=chosen.id,
                               assigned_at=utcnow(), due_on=due_on))
            taken.setdefault(application.id, set()).add(chosen.id)
            load[chosen.id] += 1
            made.setdefault(chosen.id, []).append(application)
    session.flush()
    for user in pool:
        if user.id in made:
            _notify_assignment(session, org, user, made[user.id])
    return sum(len(v) for v in made.values())


def emails_in(application: Application) -> set[str]:
    """Addresses the application names (contact, team): a reviewer among them has an obvious conflict."""
    found = set()
    for question in application.form_version.questions:
        value = application.answers.get(question["key"])
        if question["type"] == "email" and isinstance(value, str):
            found.add(value.lower())
        elif question["type"] == "team_members" and isinstance(value, list):
            found.update(m["email"].lower() for m in value if isinstance(m, dict) and m.get("email"))
    return found


def _notify_assignment(session: Session, org: Organisation, reviewer: User, applications: list[Application]) -> None:
    locale = reviewer.locale or org.default_locale
    with force_locale(locale):
        subject = ngettext("%(num)d application to review at %(org)s", "%(num)d applications to review at %(org)s",
                           len(applications), org=org.name)
        body = render_template("intake/email/assigned.txt", org=org, reviewer=reviewer, applications=applications,
                               locale=locale)
    send_mail(session, reviewer.email, subject, body)


def unassign(session: Session, review: Review) -> None:
    """A manager takes back an assignment not scored yet; a submitted review and a declared conflict stay."""
    if review.status == ReviewStatus.SUBMITTED:
        raise Conflict(_("The review is already submitted; it stays."), code="already_submitted")
    if not may_unassign(review):
        raise Conflict(_("A declared conflict of interest stays on record."), code="conflict_of_interest")
    review.application.reviews.remove(review)
    session.flush()


def declare_conflict(session: Session, review: Review, user: User, reason: str) -> None:
    """The reviewer declines the assignment for a conflict of interest; it is kept on record."""
    if review.reviewer_id != user.id:
        raise NotAllowed(_("Only the assigned reviewer can declare a conflict."))
    if review.status == ReviewStatus.SUBMITTED:
        raise DomainError(_("The review is already submitted."), code="already_submitted")
    if not (reason or "").strip():
        raise DomainError(_("Say what the conflict is."), fields={"reason": _("This field is required.")})
    review.status = ReviewStatus.CONFLICT
    review.conflict_reason = reason.strip()
    review.conflict_declared_at = utcnow()
    session.flush()


def clean_scores(call: Call, scores: Any) -> tuple[dict[str, float], dict[str, str]]:
    errors: dict[str, str] = {}
    clean: dict[str, float] = {}
    if not call.criteria:
        return {}, {"scores": _("The call has no rubric yet.")}
    if not isinstance(scores, dict):
        return {}, {"scores": _("Give a score for each criterion.")}
    for criterion in call.criteria:
        value = scores.get(criterion.key)
        try:
            if value is None or isinstance(value, bool):
                raise ValueError
            number = float(value)
            if not criterion.scale_min <= number <= criterion.scale_max:
                raise ValueError
        except (TypeError, ValueError):
            errors[criterion.key] = _("A score from %(low)d to %(high)d.", low=criterion.scale_min,
                                      high=criterion.scale_max)
            continue
        clean[criterion.key] = int(number) if number.is_integer() else number
    return clean, errors


def submit_review(session: Session, application: Application, user: User, *, scores: Any, recommendation: Any,
                  comment: str = "") -> Review:
    review = assignment(session, application, user)
    if review is None or review.status == ReviewStatus.CONFLICT:
        raise NotAllowed(_("This application is not assigned to you."))
    if application.stage not in REVIEWABLE_STAGES:
        raise DomainError(_("This application is no longer under review."), code="bad_stage")
    clean, errors = clean_scores(application.call, scores)
    if recommendation not in set(Recommendation):
        errors["recommendation"] = _("Choose yes, maybe or no.")
    if len(comment or "") > 5000:
        errors["comment"] = _("At most %(n)d characters (this has %(m)d).", n=5000, m=len(comment))
    if errors:
        raise DomainError(_("Please correct the highlighted fields."), fields=errors)
    review.scores, review.recommendation, review.comment = clean, str(recommendation), (comment or "").strip()
    review.status, review.submitted_at = ReviewStatus.SUBMITTED, utcnow()
    session.flush()
    return review


# What blind review hides: who the team are, how to reach them, and what the team is called.
IDENTITY_TYPES = ("team_members", "email", "url")
IDENTITY_KEYS = ("startup_name", "team_name", "project_name", "company_name")


def answers_for(application: Application, blind: bool) -> list[tuple[dict[str, Any], Any]]:
    """(question, answer) pairs as a reader may see them: blind hides identity and file names."""
    files = {f.id: f for f in application.files}
    out = []
    for question in application.form_version.questions:
        value = application.answers.get(question["key"])
        if blind and (question["type"] in IDENTITY_TYPES or question["key"] in IDENTITY_KEYS):
            value = None if value in (None, "", []) else "hidden"
        elif question["type"] == "file" and value is not None:
            record = files.get(value)
            value = None if record is None else {"id": record.id, "name": _("Document (PDF)") if blind
                                                 else record.filename, "size": record.size}
        out.append((question, value))
    return out


def without_identity(data: bytes) -> bytes:
    """A PDF as a blind reviewer may read it: the same pages, without the document information
    (Author, Title, Subject, Keywords, Creator, Producer, dates), the XMP metadata streams of the
    document and its pages, nor the author names of comments. Unreferenced objects are dropped too,
    so the old metadata is not left in the file's bytes. Raises ``DomainError`` if it cannot be rewritten."""
    import io

    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError
    from pypdf.generic import NameObject

    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data), strict=False))
        writer.metadata = None
        writer.xmp_metadata = None
        for page in writer.pages:
            for key in ("/Metadata", "/PieceInfo"):
                if key in page:
                    del page[NameObject(key)]
            for annotation in page.get("/Annots") or []:
                annotation = annotation.get_object()
                if hasattr(annotation, "keys") and "/T" in annotation and "/Subtype" in annotation \
                        and annotation["/Subtype"] != "/Widget":
                    del annotation[NameObject("/T")]  # a comment's author
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError):
        raise DomainError(_("This file cannot be shown under blind review."), code="file_unavailable",
                          status=409) from None
    return out.getvalue()


def display_name(application: Application, blind: bool) -> str:
    return _("Application #%(n)d", n=application.id) if blind else application.display_name
