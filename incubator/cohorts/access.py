"""Who may see and do what in cohorts, in one place for the pages, the API and the templates (#13).

* Cohorts: staff (``MANAGE_COHORTS``) see every cohort, funders the ones they (or their funding
  organisation) fund, founders the ones their startups are enrolled in; nobody else any
  (``services.visible_cohorts_stmt``).
* Startups, their milestones and check-ins: staff see every startup; a founder their own; anyone else
  gets 404, as for another organisation's row.
* Changing the programme, cohorts, enrolments, templates, KPIs, founders and verifying or locking
  check-ins needs ``MANAGE_COHORTS`` (declared with ``@require`` on both doors: a member without it gets
  403). Founders edit their startup's profile, milestones and unlocked check-ins.

Loaders answer 404 (``abort``) for a row the caller may not see; predicates answer a bool and are
Jinja globals (registered by the cohorts blueprint) so that templates ask the same question.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import abort, g
from sqlalchemy import Select, exists, select

from incubator.cohorts import services
from incubator.cohorts.models import CheckIn, Cohort, Enrolment, Milestone, Startup, StartupFounder
from incubator.core.pagination import text_filter
from incubator.core.permissions import Permission
from incubator.core.tenancy import get_or_404
from incubator.extensions import db
from incubator.orgs.models import Membership


def _membership(membership: Membership | None = None) -> Membership | None:
    return membership if membership is not None else g.get("membership")


# -- predicates ------------------------------------------------------------------------------------

def may_manage(membership: Membership | None = None) -> bool:
    """Runs the programme: cohorts, enrolments, startups of anyone, verification."""
    member = _membership(membership)
    return member is not None and member.has(Permission.MANAGE_COHORTS)


def is_founder_of(startup: Startup, membership: Membership | None = None) -> bool:
    member = _membership(membership)
    return member is not None and any(f.user_id == member.user_id for f in startup.founders)


def may_see_startup(startup: Startup, membership: Membership | None = None) -> bool:
    """Its page, milestones, check-ins and evidence: staff, and the startup's own founders."""
    return may_manage(membership) or is_founder_of(startup, membership)


may_edit_startup = may_see_startup  # the profile is edited by its founders and by staff alike


def may_see_cohort(cohort: Cohort, membership: Membership | None = None) -> bool:
    member = _membership(membership)
    if member is None:
        return False
    stmt = services.visible_cohorts_stmt(g.org, member).where(Cohort.id == cohort.id)
    return db.session.execute(stmt.with_only_columns(Cohort.id)).first() is not None


def may_edit_checkin(checkin: CheckIn, membership: Membership | None = None) -> bool:
    """Founders and staff change a check-in until it is locked."""
    return not checkin.is_locked and may_see_startup(checkin.startup, membership)


def may_verify_checkin(checkin: CheckIn, membership: Membership | None = None) -> bool:
    return not checkin.is_locked and may_manage(membership)


def openable_startup_ids(membership: Membership | None = None) -> set[int] | None:
    """The startups whose page the caller may open from a list: ``None`` meaning all of them."""
    member = _membership(membership)
    if may_manage(member):
        return None
    if member is None:
        return set()
    return set(db.session.execute(select(StartupFounder.startup_id).where(
        StartupFounder.user_id == member.user_id, StartupFounder.org_id == member.org_id)).scalars())


def may_open_startup(startup_id: int, openable: set[int] | None) -> bool:
    return openable is None or startup_id in openable


# -- loaders ---------------------------------------------------------------------------------------

def visible_cohort_or_404(cohort_id: int) -> Cohort:
    cohort = get_or_404(Cohort, cohort_id)
    if not may_see_cohort(cohort):
        abort(404)
    return cohort


def visible_startup_or_404(startup_id: int) -> Startup:
    """Staff see every startup; founders only their own; anyone else gets 404."""
    startup = get_or_404(Startup, startup_id)
    if not may_see_startup(startup):
        abort(404)
    return startup


def visible_checkin_or_404(checkin_id: int) -> CheckIn:
    checkin = get_or_404(CheckIn, checkin_id)
    visible_startup_or_404(checkin.startup_id)
    return checkin


def visible_milestone_or_404(milestone_id: int) -> Milestone:
    milestone = get_or_404(Milestone, milestone_id)
    visible_startup_or_404(milestone.startup_id)
    return milestone


# -- lists -----------------------------------------------------------------------------------------

def visible_startups_stmt(membership: Membership | None = None, *, mine: bool = False) -> Select[Any]:
    """Startups the caller may see (``mine``: only their own, whatever their role), by name."""
    member = _membership(membership)
    stmt = select(Startup).where(Startup.org_id == g.org.id).order_by(Startup.name, Startup.id)
    if member is None:
        return stmt.where(Startup.id.is_(None))
    if mine or not may_manage(member):
        stmt = stmt.where(exists().where(StartupFounder.startup_id == Startup.id,
                                         StartupFounder.user_id == member.user_id))
    return stmt


def filter_startups(stmt: Select[Any], *, q: str | None = None, cohort_id: int | None = None,
                    stage: str | None = None, status: str | None = None) -> Select[Any]:
    """Narrow a startups query: name search, enrolled in a cohort, stage, enrolment status."""
    if (match := text_filter(q, Startup.name, Startup.legal_name)) is not None:
        stmt = stmt.where(match)
    if stage:
        stmt = stmt.where(Startup.stage == stage)
    if cohort_id is not None or status:
        enrolled = exists().where(Enrolment.startup_id == Startup.id)
        if cohort_id is not None:
            enrolled = enrolled.where(Enrolment.cohort_id == cohort_id)
        if status:
            enrolled = enrolled.where(Enrolment.status == status)
        stmt = stmt.where(enrolled)
    return stmt


CHECKIN_STATUSES = ("submitted", "verified", "locked")


def filter_checkins(stmt: Select[Any], *, period_from: date | None = None, period_to: date | None = None,
                    status: str | None = None) -> Select[Any]:
    """Narrow a check-ins query by period (inclusive, months) and status (submitted, verified, locked)."""
    if period_from is not None:
        stmt = stmt.where(CheckIn.period >= period_from.replace(day=1))
    if period_to is not None:
        stmt = stmt.where(CheckIn.period <= period_to)
    if status == "locked":
        stmt = stmt.where(CheckIn.locked_at.is_not(None))
    elif status == "verified":
        stmt = stmt.where(CheckIn.verified_at.is_not(None), CheckIn.locked_at.is_(None))
    elif status == "submitted":
        stmt = stmt.where(CheckIn.verified_at.is_(None), CheckIn.locked_at.is_(None))
    return stmt


COHORT_STATUSES = ("upcoming", "running", "ended")


def filter_cohorts(stmt: Select[Any], today: date, *, programme_id: int | None = None,
                   status: str | None = None) -> Select[Any]:
    """Narrow a cohorts query by programme and by where ``today`` falls in its dates."""
    if programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == programme_id)
    if status == "upcoming":
        stmt = stmt.where(Cohort.starts_on > today)
    elif status == "running":
        stmt = stmt.where(Cohort.starts_on <= today, Cohort.ends_on >= today)
    elif status == "ended":
        stmt = stmt.where(Cohort.ends_on < today)
    return stmt


TEMPLATE_GLOBALS: dict[str, Callable[..., Any]] = {
    "may_manage_cohorts": may_manage,
    "may_see_startup": may_see_startup,
    "may_edit_startup": may_edit_startup,
    "may_see_cohort": may_see_cohort,
    "may_edit_checkin": may_edit_checkin,
    "may_verify_checkin": may_verify_checkin,
    "may_open_startup": may_open_startup,
}
