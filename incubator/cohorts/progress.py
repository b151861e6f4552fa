"""Startups' progress: milestones (one by one or from a cohort template), KPI definitions and the evidence
files uploaded for milestones and check-ins. The rules, without commits."""

from __future__ import annotations

from datetime import date
from pathlib import PurePath
from typing import BinaryIO

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.cohorts.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    KpiDefinition,
    Milestone,
    MilestoneStatus,
    MilestoneTemplate,
    Startup,
)
from incubator.cohorts.services import check_required, raise_fields
from incubator.core.errors import DomainError
from incubator.core.urls import is_web_url
from incubator.orgs.models import Organisation

EVIDENCE_TYPES = {".pdf", ".png", ".jpg", ".jpeg", ".xlsx", ".csv"}


# -- milestones -------------------------------------------------------------------------------------

def save_milestone(session: Session, startup: Startup, milestone: Milestone | None, *, title: str | None = None,
                   due_on: date | None = None, status: str | None = None, evidence_url: str | None = None,
                   today: date) -> Milestone:
    fields: dict[str, str] = {}
    if milestone is None:
        check_required(fields, title=title, due_on=due_on)
    if status is not None and status not in set(MilestoneStatus):
        fields["status"] = _("Not a valid choice.")
    if evidence_url and not is_web_url(evidence_url):
        fields["evidence_url"] = _("Enter a link that starts with http:// or https://.")
    raise_fields(fields)
    if milestone is None:
        milestone = Milestone(org_id=startup.org_id, startup=startup, title=(title or "").strip(), due_on=due_on)
        session.add(milestone)
    else:
        if title:
            milestone.title = title.strip()
        if due_on:
            milestone.due_on = due_on
    if status is not None:
        milestone.status = MilestoneStatus(status)
        milestone.completed_on = today if status == MilestoneStatus.DONE else None
    if evidence_url is not None:
        milestone.evidence_url = evidence_url or None
    session.flush()
    return milestone


def add_template(session: Session, cohort: Cohort, title: str, due_on: date) -> tuple[MilestoneTemplate, int]:
    """A milestone for every active startup of the cohort: the template, and how many startups got it."""
    if not title.strip() or due_on is None:
        raise DomainError(_("Give the milestone a title and a due date."),
                          fields={"title": _("This field is required.")})
    template = MilestoneTemplate(org_id=cohort.org_id, cohort_id=cohort.id, title=title.strip()[:255], due_on=due_on)
    session.add(template)
    session.flush()
    return template, apply_template(session, template)


# -- KPI definitions --------------------------------------------------------------------------------

def create_kpi(session: Session, org: Organisation, *, key: str, name: str, unit: str, type: str) -> KpiDefinition:
    """A custom KPI; its key may not clash with another of the organisation's or a standard one."""
    from incubator.cohorts.models import STANDARD_KPIS, KpiType

    taken = session.execute(select(KpiDefinition.id).where(KpiDefinition.org_id == org.id,
                                                           KpiDefinition.key == key)).first()
    if taken or key in STANDARD_KPIS:
        raise DomainError(_("This key is taken."), fields={"key": _("This key is taken.")}, status=409)
    if type not in set(KpiType):
        raise DomainError(_("Not a valid choice."), fields={"type": _("Not a valid choice.")})
    kpi = KpiDefinition(org_id=org.id, key=key, name=name.strip(), unit=unit.strip(), type=KpiType(type))
    session.add(kpi)
    session.flush()
    return kpi


def set_kpi_active(kpi: KpiDefinition, active: bool) -> KpiDefinition:
    """Ask for a custom KPI again, or stop asking for it (what was reported stays)."""
    kpi.active = bool(active)
    return kpi


# -- evidence files ---------------------------------------------------------------------------------

def store_file(stream: BinaryIO, filename: str | None, allowed: set[str], field: str) -> tuple[str, str] | None:
    """Keep an uploaded evidence file under a random name: ``(key, original name)``, or None for no file."""
    from incubator.core.storage import storage

    if not filename:
        return None
    suffix = PurePath(filename).suffix.lower()
    if suffix not in allowed:
        raise DomainError(_("Upload a PDF, a spreadsheet or an image."),
                          fields={field: _("Upload a PDF, a spreadsheet or an image.")})
    return storage().save(stream, suffix), PurePath(filename).name[:255]


def apply_template(session: Session, template: MilestoneTemplate) -> int:
    """Give every active startup of the cohort the template's milestone (once); answers how many were added."""
    have = set(session.execute(select(Milestone.startup_id).where(Milestone.template_id == template.id)).scalars())
    startups = session.execute(select(Startup).join(Enrolment, Enrolment.startup_id == Startup.id).where(
        Enrolment.cohort_id == template.cohort_id, Enrolment.status == EnrolmentStatus.ACTIVE)).scalars().all()
    added = 0
    for startup in startups:
        if startup.id not in have:
            session.add(Milestone(org_id=template.org_id, startup=startup, template_id=template.id,
                                  title=template.title, due_on=template.due_on))
            added += 1
    session.flush()
    return added
