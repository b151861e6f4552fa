"""Programmes, cohorts, funders, startups, enrolments and graduation: the rules, without commits.

Milestones, milestone templates, KPI definitions and evidence files are in ``cohorts.progress``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.models import (
    Cohort,
    CohortFunder,
    CohortLabCredit,
    Enrolment,
    EnrolmentStatus,
    Frequency,
    Origin,
    Programme,
    ProgrammeKind,
    ResourceKind,
    Stage,
    Startup,
    StartupFounder,
)
from incubator.core.errors import Conflict, DomainError
from incubator.core.permissions import Permission, Role
from incubator.core.urls import URL_MESSAGE, is_web_url
from incubator.orgs.models import Membership, Organisation

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_required(fields: dict[str, str], **values: Any) -> None:
    """Note in ``fields`` each of ``values`` that is missing or blank."""
    for name, value in values.items():
        if value in (None, "") or (isinstance(value, str) and not value.strip()):
            fields[name] = _("This field is required.")


def raise_fields(fields: dict[str, str]) -> None:
    """Refuse the input when ``fields`` holds any error."""
    if fields:
        raise DomainError(_("Please correct the highlighted fields."), fields=fields)


# -- programmes and cohorts -------------------------------------------------------------------------

def create_programme(session: Session, org: Organisation, *, name: str, kind: str = ProgrammeKind.INCUBATION,
                     description: str = "") -> Programme:
    fields: dict[str, str] = {}
    check_required(fields, name=name)
    if kind not in set(ProgrammeKind):
        fields["kind"] = _("Not a valid choice.")
    raise_fields(fields)
    programme = Programme(org_id=org.id, name=name.strip(), kind=ProgrammeKind(kind), description=description or "")
    session.add(programme)
    session.flush()
    return programme


def update_programme(session: Session, programme: Programme, **data: Any) -> Programme:
    """Change a programme's name, kind or description; fields not given stay as they are."""
    fields: dict[str, str] = {}
    if "name" in data:
        check_required(fields, name=data["name"])
    if "kind" in data and data["kind"] not in set(ProgrammeKind):
        fields["kind"] = _("Not a valid choice.")
    raise_fields(fields)
    if "name" in data:
        programme.name = str(data["name"]).strip()
    if "kind" in data:
        programme.kind = ProgrammeKind(data["kind"])
    if "description" in data:
        programme.description = data["description"] or ""
    session.flush()
    return programme


def _check_cohort(org: Organisation, *, programme: Programme, name: str, starts_on: date | None,
                  ends_on: date | None, capacity: int | None, mentoring_hours_per_startup: int | None,
                  lab_credits: dict[str, int] | None) -> None:
    fields: dict[str, str] = {}
    check_required(fields, name=name, starts_on=starts_on, ends_on=ends_on)
    if starts_on and ends_on and ends_on < starts_on:
        fields["ends_on"] = _("The end comes before the start.")
    if capacity is not None and capacity < 1:
        fields["capacity"] = _("At least 1, or leave it empty for no limit.")
    if mentoring_hours_per_startup is None or mentoring_hours_per_startup < 0:
        fields["mentoring_hours_per_startup"] = _("Must not be negative.")
    for kind, hours in (lab_credits or {}).items():
        if hours is not None and hours < 0:
            fields[f"lab_{kind}"] = _("Must not be negative.")
    if programme.org_id != org.id:
        fields["programme_id"] = _("Not a valid choice.")
    raise_fields(fields)


def save_cohort(session: Session, org: Organisation, cohort: Cohort | None, *, programme: Programme, name: str,
                starts_on: date | None, ends_on: date | None, capacity: int | None = None,
                checkin_frequency: str = Frequency.MONTHLY, mentoring_hours_per_startup: int = 0,
                lab_credits: dict[str, int] | None = None) -> Cohort:
    _check_cohort(org, programme=programme, name=name, starts_on=starts_on, ends_on=ends_on, capacity=capacity,
                  mentoring_hours_per_startup=mentoring_hours_per_startup, lab_credits=lab_credits)
    if starts_on is None or ends_on is None:  # check_required reported them, so raise_fields has raised already
        raise DomainError(_("This field is required."))
    if cohort is None:
        cohort = Cohort(org_id=org.id)
        session.add(cohort)
    cohort.programme, cohort.name, cohort.starts_on, cohort.ends_on = programme, name.strip(), starts_on, ends_on
    cohort.capacity = capacity
    cohort.checkin_frequency = Frequency(checkin_frequency)
    cohort.mentoring_hours_per_startup = mentoring_hours_per_startup or 0
    existing = {c.resource_kind: c for c in cohort.lab_credits}
    for kind in ResourceKind:
        hours = (lab_credits or {}).get(kind.value) or 0
        if hours:
            credit = existing.get(kind) or CohortLabCredit(org_id=org.id, resource_kind=kind, hours=0)
            credit.hours = hours
            if kind not in existing:
                cohort.lab_credits.append(credit)
        elif kind in existing:
            cohort.lab_credits.remove(existing[kind])
    session.flush()
    return cohort


def set_funders(session: Session, org: Organisation, cohort: Cohort, *, user_ids: list[int],
                org_ids: list[int]) -> None:
    """Funders are members with the funder role, or other organisations."""
    allowed_users = set(session.execute(
        select(Membership.user_id).where(Membership.org_id == org.id, Membership.role == Role.FUNDER)
    ).scalars())
    if set(user_ids) - allowed_users:
        raise DomainError(_("Only members with the funder role can fund a cohort."),
                          fields={"funder_users": _("Not a valid choice.")})
    known_orgs = set(session.execute(select(Organisation.id).where(Organisation.id.in_(org_ids))).scalars())
    if set(org_ids) - known_orgs or org.id in org_ids:
        raise DomainError(_("Not a valid choice."), fields={"funder_orgs": _("Not a valid choice.")})
    cohort.funders = [CohortFunder(org_id=org.id, user_id=uid) for uid in sorted(set(user_ids))] + [
        CohortFunder(org_id=org.id, funder_org_id=oid) for oid in sorted(set(org_ids))]
    session.flush()


def visible_cohorts_stmt(org: Organisation, membership: Membership) -> Any:
    """Cohorts a member may see: all for staff, only funded ones for funders, own ones for founders."""
    stmt = select(Cohort).where(Cohort.org_id == org.id)
    if membership.has(Permission.MANAGE_COHORTS):
        return stmt
    if membership.role == Role.FUNDER:
        funder_org_ids = select(Membership.org_id).where(Membership.user_id == membership.user_id,
                                                         Membership.role == Role.FUNDER)
        funded = select(CohortFunder.cohort_id).where(
            or_(CohortFunder.user_id == membership.user_id, CohortFunder.funder_org_id.in_(funder_org_ids)))
        return stmt.where(Cohort.id.in_(funded))
    if membership.role == Role.FOUNDER:
        mine = select(Enrolment.cohort_id).join(StartupFounder, StartupFounder.startup_id == Enrolment.startup_id)
        return stmt.where(Cohort.id.in_(mine.where(StartupFounder.user_id == membership.user_id)))
    return stmt.where(Cohort.id.is_(None))  # reviewers, mentors: none through this door


# -- startups ---------------------------------------------------------------------------------------

STARTUP_FIELDS = ("name", "legal_name", "registration_number", "sector", "stage", "origin", "partner_institution",
                  "team_size", "website", "is_st_enterprise", "description")


def save_startup(session: Session, org: Organisation, startup: Startup | None, **data: Any) -> Startup:
    fields: dict[str, str] = {}
    check_required(fields, name=data.get("name"))
    number = (data.get("registration_number") or "").strip() or None
    if number:
        clash = select(Startup.id).where(Startup.org_id == org.id, Startup.registration_number == number)
        if startup is not None and startup.id is not None:
            clash = clash.where(Startup.id != startup.id)
        if session.execute(clash).first():
            fields["registration_number"] = _("Another startup of this organisation has this registration number.")
    if data.get("stage") and data["stage"] not in set(Stage):
        fields["stage"] = _("Not a valid choice.")
    if data.get("origin") and data["origin"] not in set(Origin):
        fields["origin"] = _("Not a valid choice.")
    if data.get("team_size") is not None and data["team_size"] < 0:
        fields["team_size"] = _("Must not be negative.")
    if data.get("website") and not is_web_url(data["website"]):
        fields["website"] = str(URL_MESSAGE)
    raise_fields(fields)
    if startup is None:
        startup = Startup(org_id=org.id)
        session.add(startup)
    for name in STARTUP_FIELDS:
        if name in data:
            value = data[name]
            setattr(startup, name, value.strip() if isinstance(value, str) else value)
    startup.registration_number = number
    session.flush()
    return startup


def add_founder(session: Session, org: Organisation, startup: Startup, user: User) -> None:
    """A founder of the startup; they join the organisation as a founder if they are not a member."""
    from incubator.orgs.services import ensure_member

    ensure_member(session, org, user, Role.FOUNDER)
    if not startup.has_founder(user):
        startup.founders.append(StartupFounder(org_id=org.id, user=user))
    session.flush()


@dataclass
class FounderAdded:
    """What adding a founder by email did: ``user`` made a founder, or an invitation sent to ``email``."""

    email: str
    user: User | None

    @property
    def invited(self) -> bool:
        return self.user is None


def add_founder_by_email(session: Session, org: Organisation, startup: Startup, email: str, *, by: User,
                         actor: Membership | None) -> FounderAdded:
    """A founder by email: someone with an account becomes one at once; anyone else is invited to join
    the organisation as a founder (and is added to the startup by a manager once they have joined)."""
    from incubator.accounts.services import get_user_by_email
    from incubator.orgs.services import invite

    email = (email or "").strip()
    if not EMAIL_RE.match(email):
        raise DomainError(_("Invalid email address."), fields={"email": _("Invalid email address.")})
    user = get_user_by_email(session, email)
    if user is not None:
        add_founder(session, org, startup, user)
        return FounderAdded(email=email, user=user)
    invite(session, org, email, Role.FOUNDER, by, actor=actor)
    return FounderAdded(email=email, user=None)


def startups_of(session: Session, org: Organisation, user: User) -> list[Startup]:
    stmt = (select(Startup).join(StartupFounder, StartupFounder.startup_id == Startup.id)
            .where(Startup.org_id == org.id, StartupFounder.user_id == user.id).order_by(Startup.name))
    return list(session.execute(stmt).scalars())


def current_enrolment(session: Session, startup: Startup) -> Enrolment | None:
    """The enrolment that decides the startup's reporting: its latest active or alumni one."""
    stmt = (select(Enrolment).join(Enrolment.cohort).where(Enrolment.startup_id == startup.id)
            .order_by((Enrolment.status == EnrolmentStatus.ACTIVE).desc(), Cohort.starts_on.desc()).limit(1))
    return session.execute(stmt).scalar_one_or_none()


# -- enrolment and graduation -----------------------------------------------------------------------

def enrol(session: Session, cohort: Cohort, startup: Startup, on: date) -> Enrolment:
    if startup.org_id != cohort.org_id:
        raise DomainError(_("Not a valid choice."), fields={"startup_id": _("Not a valid choice.")})
    if session.execute(select(Enrolment.id).where(Enrolment.cohort_id == cohort.id,
                                                  Enrolment.startup_id == startup.id)).first():
        raise Conflict(_("%(name)s is already in this cohort.", name=startup.name), code="already_enrolled")
    if cohort.capacity is not None:
        taken = session.execute(select(func.count()).select_from(Enrolment).where(
            Enrolment.cohort_id == cohort.id, Enrolment.status != EnrolmentStatus.WITHDRAWN)).scalar_one()
        if taken >= cohort.capacity:
            raise DomainError(_("The cohort is full (%(n)d startups).", n=cohort.capacity), code="cohort_full")
    enrolment = Enrolment(org_id=cohort.org_id, cohort=cohort, startup=startup, enrolled_on=on)
    session.add(enrolment)
    session.flush()
    return enrolment


ALLOWED_STATUS_CHANGES = {
    EnrolmentStatus.ACTIVE: {EnrolmentStatus.GRADUATED, EnrolmentStatus.WITHDRAWN},
    EnrolmentStatus.GRADUATED: {EnrolmentStatus.ALUMNI, EnrolmentStatus.ACTIVE},
    EnrolmentStatus.WITHDRAWN: {EnrolmentStatus.ACTIVE},
    EnrolmentStatus.ALUMNI: set(),
}


def change_enrolment_status(enrolment: Enrolment, status: str, on: date, reason: str | None = None) -> None:
    new = EnrolmentStatus(status)
    if new not in ALLOWED_STATUS_CHANGES[EnrolmentStatus(enrolment.status)]:
        raise DomainError(_("A startup cannot go from %(old)s to %(new)s.",
                            old=EnrolmentStatus(enrolment.status).label, new=new.label), code="bad_transition")
    if new == EnrolmentStatus.WITHDRAWN and not (reason or "").strip():
        raise DomainError(_("Say why the startup leaves."), fields={"reason": _("This field is required.")})
    enrolment.status, enrolment.status_changed_on, enrolment.status_reason = new, on, (reason or None)


def graduate_cohort(session: Session, cohort: Cohort, on: date) -> int:
    """Graduate every active startup of the cohort; answers how many."""
    active = session.execute(select(Enrolment).where(Enrolment.cohort_id == cohort.id,
                                                     Enrolment.status == EnrolmentStatus.ACTIVE)).scalars().all()
    for enrolment in active:
        change_enrolment_status(enrolment, EnrolmentStatus.GRADUATED, on, None)
    return len(active)


# -- startup logos ---------------------------------------------------------------------------------

def store_logo(stream: BinaryIO) -> str:
    """A PNG or JPEG logo, recognised by its first bytes rather than its name; answers its storage key."""
    from incubator.core.storage import image_suffix, storage

    head = stream.read(8)
    stream.seek(0)
    suffix = image_suffix(head)
    if suffix is None:
        raise DomainError(_("Upload a PNG or JPEG image."), fields={"logo": _("Upload a PNG or JPEG image.")})
    return storage().save(stream, suffix)
