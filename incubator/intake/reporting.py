"""What the reporting domain asks of the intake: the application funnel.

``by_origin`` counts submitted applications per origin: the answer to a question keyed ``country``
when the form has one (contests with teams from abroad), else to a question keyed ``origin``
(university spin-off, enterprise, ...), else ``"unknown"``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Text, case, cast, exists, func, select
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


def _answer(key: str) -> Any:
    """One answer as JSON text (SQLite: JSON_QUOTE(JSON_EXTRACT(..)); PostgreSQL: ``->``), or NULL/'null'."""
    return cast(Application.answers[key], Text)


def _decoded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def application_funnel(session: Session, *, org_ids: list[int], cohort_ids: list[int] | None = None,
                       programme_ids: list[int] | None = None, start: datetime | None = None,
                       end: datetime | None = None) -> dict[str, Any]:
    """Submitted applications (not drafts) of the organisations' calls, submitted in ``[start, end)``.

    ``cohort_ids`` keeps calls that target one of those cohorts; ``programme_ids`` calls of those programmes.
    Counted by the database, grouped by stage and by the two answers the origin comes from (few distinct
    values); ``origin_of`` reads each group's answers, so an origin is what it is for one application.
    """
    reviewed = exists().where(Review.application_id == Application.id, Review.status == ReviewStatus.SUBMITTED)
    stmt = (select(Application.stage.label("stage"), case((reviewed, 1), else_=0).label("reviewed"),
                   *(_answer(key).label(key) for key in ORIGIN_KEYS))
            .join(Call, Call.id == Application.call_id)
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
    rows = stmt.subquery()  # grouped outside: PostgreSQL matches GROUP BY columns, not bound JSON paths
    answers = [rows.c[key] for key in ORIGIN_KEYS]
    grouped = select(rows.c.stage, *answers, func.count(), func.sum(rows.c.reviewed)).group_by(rows.c.stage, *answers)
    by_origin: Counter[str] = Counter()
    accepted_by_origin: Counter[str] = Counter()
    total = reviewed_count = 0
    with all_orgs(session):  # the caller (reporting) scoped the calls by id; a funder's span organisations
        groups = session.execute(grouped).all()
    for stage, *values, count, reviewed_here in groups:
        origin = origin_of({key: _decoded(value) for key, value in zip(ORIGIN_KEYS, values, strict=True)})
        total += count
        reviewed_count += int(reviewed_here or 0)
        by_origin[origin] += count
        if stage == Stage.ACCEPTED:
            accepted_by_origin[origin] += count
    accepted = sum(accepted_by_origin.values())
    return {
        "applications": total,
        "reviewed": reviewed_count,
        "accepted": accepted,
        "acceptance_rate": accepted / total if total else 0,
        "by_origin": dict(by_origin),
        "accepted_by_origin": dict(accepted_by_origin),
    }
