"""What the reporting domain asks of the intake: the application funnel.

``by_origin`` counts submitted applications per origin: the answer to a question keyed ``country``
when the form has one (contests with teams from abroad), else to a question keyed ``origin``
(university spin-off, enterprise, ...), else ``"unknown"``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from incubator.core.tenancy import all_orgs
from incubator.intake.models import Application, Call, Review, ReviewStatus, Stage

ORIGIN_KEYS = ("country", "origin")


def origin_of(answers: dict[str, Any]) -> str:
    for key in ORIGIN_KEYS:
        value = answers.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "unknown"


def application_funnel(session: Session, *, org_ids: list[int], cohort_ids: list[int] | None = None,
                       programme_ids: list[int] | None = None, start: datetime | None = None,
                       end: datetime | None = None) -> dict[str, Any]:
    """Submitted applications (not drafts) of the organisations' calls, submitted in ``[start, end)``.

    ``cohort_ids`` keeps calls that target one of those cohorts; ``programme_ids`` calls of those programmes.
    """
    stmt = (select(Application).join(Call, Call.id == Application.call_id)
            .where(Application.org_id.in_(org_ids), Application.submitted_at.is_not(None),
                   Application.stage != Stage.DRAFT))
    if cohort_ids is not None:
        stmt = stmt.where(Call.cohort_id.in_(cohort_ids))
    if programme_ids is not None:
        stmt = stmt.where(Call.programme_id.in_(programme_ids))
    if start is not None:
        stmt = stmt.where(Application.submitted_at >= start)
    if end is not None:
        stmt = stmt.where(Application.submitted_at < end)
    with all_orgs(session):  # the caller (reporting) scoped the calls by id; a funder's span organisations
        applications = session.execute(stmt).scalars().all()
        ids = [a.id for a in applications]
        reviewed = set(session.execute(select(Review.application_id).where(
            Review.application_id.in_(ids), Review.status == ReviewStatus.SUBMITTED)).scalars()) if ids else set()
    accepted = sum(1 for a in applications if a.stage == Stage.ACCEPTED)
    return {
        "applications": len(applications),
        "reviewed": len(reviewed),
        "accepted": accepted,
        "acceptance_rate": accepted / len(applications) if applications else 0,
        "by_origin": dict(Counter(origin_of(a.answers) for a in applications)),
        "accepted_by_origin": dict(Counter(origin_of(a.answers) for a in applications if a.stage == Stage.ACCEPTED)),
    }
