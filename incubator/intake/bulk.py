"""Bulk actions on a call's applications, the same for the pipeline page and the API: move to a stage,
assign a reviewer, assign reviewers automatically, decide.

Each application is tried on its own (a savepoint): one refused leaves nothing of its own behind and
is named with the reason; the others go ahead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.cohorts.models import Cohort
from incubator.core.actions import savepoint
from incubator.core.db import get_required
from incubator.core.errors import DomainError
from incubator.intake import decisions, pipeline, review
from incubator.intake.models import Application, Call
from incubator.orgs.models import Organisation

ACTIONS = ("move", "assign", "auto_assign", "decide")


@dataclass
class Skipped:
    application: Application
    message: str


@dataclass
class BulkResult:
    done: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)  # done, with something for the manager to correct


def chosen(session: Session, call: Call, ids: list[int]) -> list[Application]:
    """The call's applications among ``ids`` (ids of other calls or organisations are ignored)."""
    ids = [i for i in ids if isinstance(i, int) and 0 < i < 2**31]
    if not ids:
        return []
    return list(session.execute(select(Application).where(Application.call_id == call.id, Application.id.in_(ids))
                                .order_by(Application.id)).scalars())


def cohort_of(session: Session, org_id: int, cohort_id: int | None) -> Cohort | None:
    """The organisation's cohort ``cohort_id`` (None for none); another's or no such one is a field error."""
    if not cohort_id:
        return None
    cohort = session.execute(select(Cohort).where(Cohort.id == cohort_id, Cohort.org_id == org_id)) \
        .scalar_one_or_none() if 0 < cohort_id < 2**31 else None
    if cohort is None:
        raise DomainError(_("Not a valid choice."), fields={"cohort_id": _("Not a valid choice.")})
    return cohort


def _each(session: Session, applications: list[Application], result: BulkResult, act: Any) -> None:
    for application in applications:
        try:
            with savepoint(session):
                act(application)
        except DomainError as error:
            result.skipped.append(Skipped(application, error.message))
        else:
            result.done += 1


def run(session: Session, call: Call, applications: list[Application], actor: User, membership: Any, action: str,
        *, stage: str = "", comment: str = "", reviewer_id: int | None = None, decision: str = "",
        cohort_id: int | None = None, due_on: date | None = None, locale: str = "en") -> BulkResult:
    """Run ``action`` on each of ``applications`` (of ``call``). A refusal of the whole action (an unknown
    action, reviewer or cohort, no reviewers at all, a deadline ``due_on`` in the past) raises
    ``DomainError``; one application's refusal is in ``skipped``. The assignments that ``assign`` and
    ``auto_assign`` make are wanted by ``due_on`` (None: no deadline)."""
    if action not in ACTIONS:
        raise DomainError(_("Not a valid choice."), fields={"action": _("Not a valid choice.")})
    if not applications:
        raise DomainError(_("Tick at least one application."), code="nothing_chosen",
                          fields={"application_ids": _("Tick at least one application.")})
    if action in ("assign", "auto_assign"):
        review.check_due_on(get_required(session, Organisation, call.org_id), due_on)
    result = BulkResult()
    if action == "auto_assign":
        result.done = review.auto_assign(session, call, applications, due_on=due_on)
    elif action == "move":
        _each(session, applications, result,
              lambda a: pipeline.move(session, a, actor, membership, stage, comment))
    elif action == "assign":
        reviewer = session.get(User, reviewer_id) if reviewer_id and 0 < reviewer_id < 2**31 else None
        if reviewer is None:
            raise DomainError(_("Choose a reviewer."), fields={"reviewer_id": _("Not a valid choice.")})
        _each(session, applications, result, lambda a: review.assign(session, a, reviewer, due_on=due_on))
    else:
        cohort = cohort_of(session, call.org_id, cohort_id)
        _each(session, applications, result,
              lambda a: decisions.decide(session, a, actor, membership, decision, cohort, comment))
        decided = {s.application.id for s in result.skipped}
        result.warnings = [Skipped(a, problem) for a in applications if a.id not in decided
                           for problem in decisions.mapping_problems(a, locale)]
    return result
