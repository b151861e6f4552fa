"""Who may see and do what in the intake: the one copy of each rule, used by the pages, the API and
the templates (registered as Jinja globals by ``intake.views``).

* Loaders (``visible_*_or_404``) answer the row, or 404 when the caller may not see it: another
  organisation's row, a call not published yet (but to its managers), someone else's application.
* Predicates (``may_*``) say whether the caller may act. A role without the permission a whole
  operation needs is refused by ``@require(Permission.X)`` (403) in both doors; the predicates here
  are the rules about one row (this application, this assignment).

Applying does not make a member: anyone signed in applies to an organisation's calls, except its
own managers, staff and reviewers (a member whose role lacks ``APPLY``)."""

from __future__ import annotations

from typing import Any

from flask import abort, g
from flask_login import current_user
from sqlalchemy import Select, select

from incubator.core.db import utcnow
from incubator.core.permissions import Permission
from incubator.core.tenancy import get_or_404
from incubator.intake.models import Application, Call, Review, ReviewStatus, Stage

ACTIVE = (ReviewStatus.ASSIGNED, ReviewStatus.SUBMITTED)
REVIEWABLE_STAGES = (Stage.SUBMITTED, Stage.SCREENING, Stage.IN_REVIEW, Stage.INTERVIEW, Stage.WAITLISTED)
DECIDABLE_STAGES = (Stage.IN_REVIEW, Stage.INTERVIEW, Stage.WAITLISTED)


def _has(membership: Any, permission: Permission) -> bool:
    return membership is not None and bool(membership.has(permission))


# -- roles ------------------------------------------------------------------------------------------

def may_apply(membership: Any) -> bool:
    """Whether the holder of ``membership`` (None: not a member) may apply to the organisation's calls."""
    return membership is None or _has(membership, Permission.APPLY)


def may_manage(membership: Any) -> bool:
    """Managers and staff run calls: settings, form, rubric, pipeline, assignments, decisions, letters."""
    return _has(membership, Permission.MANAGE_PROGRAMMES)


def may_review(membership: Any) -> bool:
    return _has(membership, Permission.REVIEW_APPLICATIONS)


# -- calls ------------------------------------------------------------------------------------------

def may_see_call(call: Call, membership: Any) -> bool:
    """A call is seen once it opens (unlisted ones too, by their link); its managers see it before."""
    return may_manage(membership) or call.opens_at <= utcnow()


def visible_call_or_404(call_id: int) -> Call:
    call = get_or_404(Call, call_id)
    if not may_see_call(call, g.get("membership")):
        abort(404)  # not published yet
    return call


def listed_calls(stmt: Select[Any], membership: Any) -> Select[Any]:
    """The calls a list shows: managers every call, everyone else the public calls open now."""
    if may_manage(membership):
        return stmt
    now = utcnow()
    return stmt.where(Call.is_public.is_(True), Call.opens_at <= now, Call.closes_at > now)


# -- applications -----------------------------------------------------------------------------------

def may_view_application(application: Application, user: Any, membership: Any) -> bool:
    """Managers all but others' drafts; the applicant their own; a reviewer what is assigned to them
    (not declined)."""
    if application.stage == Stage.DRAFT:
        return application.is_owned_by(user)
    if may_manage(membership) or application.is_owned_by(user):
        return True
    return any(r.reviewer_id == getattr(user, "id", None) and r.status in ACTIVE for r in application.reviews)


def visible_application_or_404(application_id: int) -> Application:
    application = get_or_404(Application, application_id)
    if not may_view_application(application, current_user, g.get("membership")):
        abort(404)
    return application


def own_application_or_404(application_id: int) -> Application:
    """The caller's own application (404 for anyone else's), then the role check (403)."""
    application = get_or_404(Application, application_id)
    if not application.is_owned_by(current_user):
        abort(404)
    if not may_apply(g.get("membership")):  # e.g. an applicant since made a reviewer
        abort(403)
    return application


def visible_applications(stmt: Select[Any], user: Any, membership: Any) -> Select[Any]:
    """``stmt`` over applications narrowed to what the caller sees: managers every submitted one (and
    their own drafts), reviewers their assignments, everyone their own."""
    me = getattr(user, "id", None)
    if may_manage(membership):
        return stmt.where((Application.stage != Stage.DRAFT) | (Application.applicant_id == me))
    if may_review(membership):
        assigned = select(Review.application_id).where(Review.reviewer_id == me,
                                                       Review.status != ReviewStatus.CONFLICT)
        return stmt.where(Application.id.in_(assigned) | (Application.applicant_id == me))
    return stmt.where(Application.applicant_id == me)


def is_blind_for(application: Application, user: Any, membership: Any) -> bool:
    """Blind review hides the applicant's identity from reviewers (not from managers or the applicant)."""
    return bool(application.call.blind_review) and not application.is_owned_by(user) and not may_manage(membership)


# -- review -----------------------------------------------------------------------------------------

def visible_reviews(application: Application, user: Any, membership: Any) -> list[Review]:
    """Managers see every submitted review; a reviewer sees others' only after submitting their own;
    the applicant sees none."""
    submitted = [r for r in application.reviews if r.status == ReviewStatus.SUBMITTED]
    if may_manage(membership):
        return submitted
    if application.is_owned_by(user):
        return []
    own = next((r for r in submitted if r.reviewer_id == getattr(user, "id", None)), None)
    return submitted if own is not None else []


def assigned_reviews(user: Any) -> Select[Any]:
    """A reviewer's own assignments (not those declined for a conflict), to do first."""
    return (select(Review).where(Review.reviewer_id == getattr(user, "id", None),
                                 Review.status != ReviewStatus.CONFLICT)
            .order_by(Review.status, Review.assigned_at, Review.id))


def may_score(review: Review | None, application: Application) -> bool:
    """The assigned reviewer scores (or rescores) while the application is under review."""
    return review is not None and review.status != ReviewStatus.CONFLICT and application.stage in REVIEWABLE_STAGES


def may_declare_conflict(review: Review | None) -> bool:
    return review is not None and review.status == ReviewStatus.ASSIGNED


def may_unassign(review: Review | None) -> bool:
    """A manager takes back an assignment not scored yet (a declared conflict stays on record)."""
    return review is not None and review.status == ReviewStatus.ASSIGNED


def may_decide(application: Application, membership: Any) -> bool:
    """A decision is offered once the application is in review (the pipeline says what may follow)."""
    return may_manage(membership) and application.stage in DECIDABLE_STAGES
