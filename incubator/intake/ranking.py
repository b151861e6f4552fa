"""Ranking: a weighted total per application, and beside it a score normalised per reviewer.

* A review's **weighted total** puts each criterion on 0..1 (``(score - min) / (max - min)``), weighs
  it, and gives the weighted mean as a percentage (0 to 100). An application's total is the mean of
  its submitted reviews' totals.
* The **normalised score** standardises each reviewer: over all the reviews that reviewer submitted in
  the call, ``z = (total - reviewer's mean) / reviewer's standard deviation`` (population). A reviewer
  who gave every application the same total (deviation 0) contributes 0. An application's normalised
  score is the mean of its reviews' z-scores, so a lenient and a harsh reviewer count alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import fmean, pstdev
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from incubator.intake.models import Application, Call, Criterion, Review, ReviewStatus, Stage


def review_total(review: Review, criteria: list[Criterion]) -> float:
    weights = sum(c.weight for c in criteria)
    if not criteria or weights <= 0:
        return 0.0
    points = sum(c.weight * (float(review.scores.get(c.key, c.scale_min)) - c.scale_min) / (c.scale_max - c.scale_min)
                 for c in criteria)
    return round(100 * points / weights, 4)


def reviewer_z_scores(reviews: list[Review], criteria: list[Criterion]) -> dict[int, float]:
    """``{review id: z-score}`` within each reviewer's own submitted reviews."""
    by_reviewer: dict[int, list[tuple[int, float]]] = {}
    for review in reviews:
        if review.status == ReviewStatus.SUBMITTED:
            by_reviewer.setdefault(review.reviewer_id, []).append((review.id, review_total(review, criteria)))
    z: dict[int, float] = {}
    for rows in by_reviewer.values():
        totals = [t for _id, t in rows]
        mean, deviation = fmean(totals), pstdev(totals)
        for review_id, total in rows:
            z[review_id] = 0.0 if deviation == 0 else (total - mean) / deviation
    return z


@dataclass
class Row:
    application: Application
    reviews: list[Review] = field(default_factory=list)
    total: float | None = None
    normalised: float | None = None
    recommendations: Counter[str] = field(default_factory=Counter)

    @property
    def review_count(self) -> int:
        return len(self.reviews)


SORTS = {
    "total": lambda r: (r.total is None, -(r.total or 0)),
    "normalised": lambda r: (r.normalised is None, -(r.normalised or 0)),
    "name": lambda r: r.application.display_name.lower(),
    "submitted": lambda r: (r.application.submitted_at is None, r.application.submitted_at),
}


def rank(session: Session, call: Call, *, stage: str | None = None, sort: str = "total",
         min_reviews: int = 0) -> list[Row]:
    """Every submitted (not draft) application of the call with its scores, sorted and filtered."""
    applications = session.execute(
        select(Application).where(Application.call_id == call.id, Application.stage != Stage.DRAFT)
        .options(selectinload(Application.reviews), selectinload(Application.applicant),
                 selectinload(Application.files))).scalars().all()
    criteria = list(call.criteria)
    all_reviews = [r for a in applications for r in a.reviews]
    z = reviewer_z_scores(all_reviews, criteria)
    rows = []
    for application in applications:
        if stage and application.stage != stage:
            continue
        submitted = [r for r in application.reviews if r.status == ReviewStatus.SUBMITTED]
        if len(submitted) < min_reviews:
            continue
        row = Row(application, submitted)
        if submitted:
            row.total = round(fmean(review_total(r, criteria) for r in submitted), 2)
            row.normalised = round(fmean(z[r.id] for r in submitted), 3)
            row.recommendations = Counter(r.recommendation or "" for r in submitted)
        rows.append(row)
    rows.sort(key=SORTS.get(sort, SORTS["total"]))
    return rows


def scores_by_application(session: Session, call: Call) -> dict[int, dict[str, Any]]:
    return {row.application.id: {"total": row.total, "normalised": row.normalised, "reviews": row.review_count}
            for row in rank(session, call)}
