"""The pipeline: stages as data, the transitions allowed between them and who may make each."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from incubator.accounts.models import User
from incubator.core.errors import DomainError, NotAllowed
from incubator.core.permissions import Permission
from incubator.intake.models import Application, Stage
from incubator.intake.services import record_transition

M, A = Permission.MANAGE_PROGRAMMES, Permission.APPLY
DECISIONS = (Stage.ACCEPTED, Stage.WAITLISTED, Stage.REJECTED)

# from stage -> {to stage: the permission that makes the move}. Withdrawal is the applicant's own
# (``services.withdraw_application``); submission is ``services.submit_application``.
TRANSITIONS: dict[Stage, dict[Stage, Permission]] = {
    Stage.DRAFT: {Stage.SUBMITTED: A, Stage.WITHDRAWN: A},
    Stage.SUBMITTED: {Stage.SCREENING: M, Stage.IN_REVIEW: M, Stage.REJECTED: M, Stage.WITHDRAWN: A},
    Stage.SCREENING: {Stage.IN_REVIEW: M, Stage.REJECTED: M, Stage.WITHDRAWN: A},
    Stage.IN_REVIEW: {Stage.INTERVIEW: M, Stage.ACCEPTED: M, Stage.WAITLISTED: M, Stage.REJECTED: M,
                      Stage.WITHDRAWN: A},
    Stage.INTERVIEW: {Stage.ACCEPTED: M, Stage.WAITLISTED: M, Stage.REJECTED: M, Stage.WITHDRAWN: A},
    Stage.WAITLISTED: {Stage.ACCEPTED: M, Stage.REJECTED: M, Stage.WITHDRAWN: A},
    Stage.ACCEPTED: {},
    Stage.REJECTED: {},
    Stage.WITHDRAWN: {},
}
MANAGER_STAGES = [Stage.SCREENING, Stage.IN_REVIEW, Stage.INTERVIEW, Stage.WAITLISTED, Stage.REJECTED]


def allowed_moves(application: Application, membership: Any) -> list[Stage]:
    return [to for to, permission in TRANSITIONS[Stage(application.stage)].items()
            if membership is not None and membership.has(permission) and permission == M]


def move(session: Session, application: Application, actor: User, membership: Any, to: Stage | str,
         comment: str = "", *, deciding: bool = False) -> None:
    """Move an application to ``to`` if the pipeline allows it and the actor's role may."""
    try:
        target = Stage(to)
    except ValueError:
        raise DomainError(_("Not a valid choice."), fields={"stage": _("Not a valid choice.")}) from None
    permission = TRANSITIONS[Stage(application.stage)].get(target)
    if permission is None:
        raise DomainError(_("An application cannot go from %(old)s to %(new)s.", old=Stage(application.stage).label,
                            new=target.label), code="bad_transition", fields={"stage": _("Not allowed from here.")})
    if membership is None or not membership.has(permission):
        raise NotAllowed(_("Your role does not allow this move."))
    if target == Stage.ACCEPTED and not deciding:
        raise DomainError(_("Accept through a decision, which chooses the cohort."), code="use_decision",
                          fields={"stage": _("Accept through a decision, which chooses the cohort.")})
    record_transition(session, application, actor, target, comment)


def bulk_move(session: Session, applications: list[Application], actor: User, membership: Any, to: str,
              comment: str = "") -> tuple[int, list[str]]:
    """Move each application that may move; the others are named with the reason, and stay."""
    moved, skipped = 0, []
    for application in applications:
        try:
            with session.begin_nested():
                move(session, application, actor, membership, to, comment)
        except DomainError as error:
            skipped.append(f"{application.display_name}: {error.message}")
        else:
            moved += 1
    return moved, skipped
