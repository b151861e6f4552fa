"""Ranking: a weighted total per application, and beside it a score normalised per reviewer.

* A review's **weighted total** puts each criterion on 0..1 (``(score - min) / (max - min)``), weighs
  it, and gives the weighted mean as a percentage (0 to 100). An application's total is the mean of
  its submitted reviews' totals.
* The **normalised score** standardises each reviewer: over all the reviews that reviewer submitted in
  the call, ``z = (total - reviewer's mean) / reviewer's standard deviation`` (population). A reviewer
  who gave every application the same total (deviation 0) contributes 0. An application's normalised
  score is the mean of its reviews' z-scores, so a lenient and a harsh reviewer count alike.

The figures are computed over the whole call from light rows (an application's id, stage and
submission time; a submitted review's application, reviewer, scores and recommendation), never from
loaded applications; only the rows a page shows are then loaded (``rank_page``). ``rank`` gives every
row with its reviews, for the exports and the side-by-side comparison.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean, pstdev
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from incubator.accounts.models import User
from incubator.core.pagination import Page
from incubator.intake.models import (
    Application,
    Call,
    Criterion,
    Review,
    ReviewStatus,
    Stage,
    display_name_of,
)

NAME_KEYS = ("startup_name", "team_name", "project_name")


def weighted_total(scores: Mapping[str, Any], criteria: list[Criterion]) -> float:
    return weigher(criteria)(scores)


def weigher(criteria: list[Criterion]) -> Callable[[Mapping[str, Any]], float]:
    """``weighted_total`` for these criteria, their attributes read once (the same arithmetic, so the
    same figures)."""
    weights = sum(c.weight for c in criteria)
    if not criteria or weights <= 0:
        return lambda _scores: 0.0
    scales = [(c.key, c.weight, c.scale_min, c.scale_max - c.scale_min) for c in criteria]

    def total(scores: Mapping[str, Any]) -> float:
        points = sum(weight * (float(scores.get(key, low)) - low) / span for key, weight, low, span in scales)
        return round(100 * points / weights, 4)

    return total


def review_total(review: Review, criteria: list[Criterion]) -> float:
    return weighted_total(review.scores, criteria)


def z_scores(totals: Iterable[tuple[int, int, float]]) -> dict[int, float]:
    """``{key: z-score}`` from ``(key, reviewer id, total)``: each total within its reviewer's own."""
    by_reviewer: dict[int, list[tuple[int, float]]] = {}
    for key, reviewer_id, total in totals:
        by_reviewer.setdefault(reviewer_id, []).append((key, total))
    z: dict[int, float] = {}
    for rows in by_reviewer.values():
        values = [t for _key, t in rows]
        mean, deviation = fmean(values), pstdev(values)
        for key, total in rows:
            z[key] = 0.0 if deviation == 0 else (total - mean) / deviation
    return z


def reviewer_z_scores(reviews: list[Review], criteria: list[Criterion]) -> dict[int, float]:
    """``{review id: z-score}`` within each reviewer's own submitted reviews."""
    return z_scores((r.id, r.reviewer_id, review_total(r, criteria)) for r in reviews
                    if r.status == ReviewStatus.SUBMITTED)


@dataclass
class Score:
    """An application's figures over the whole call: what the filters and the sorts need."""

    application_id: int
    stage: str
    submitted_at: datetime | None
    name: str = ""  # its display name, looked up for the name sort only
    review_count: int = 0  # submitted reviews
    total: float | None = None
    normalised: float | None = None
    recommendations: Counter[str] = field(default_factory=Counter)


@dataclass
class Ranked:
    score: Score

    @property
    def application_id(self) -> int:
        return self.score.application_id

    @property
    def stage(self) -> str:
        return self.score.stage

    @property
    def review_count(self) -> int:
        return self.score.review_count

    @property
    def total(self) -> float | None:
        return self.score.total

    @property
    def normalised(self) -> float | None:
        return self.score.normalised

    @property
    def recommendations(self) -> Counter[str]:
        return self.score.recommendations


@dataclass
class PageRow(Ranked):
    """A ranked application as the list shows it, read as columns (no application loaded)."""

    name: str
    applicant_name: str
    assigned: int  # its reviews that are not conflicts: submitted or to do


@dataclass
class Row(Ranked):
    """A ranked application loaded whole, with its submitted reviews (the exports, the comparison)."""

    application: Application
    reviews: list[Review] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.application.display_name

    @property
    def applicant_name(self) -> str:
        return self.application.applicant.name


SORTS = {
    "total": lambda s: (s.total is None, -(s.total or 0)),
    "normalised": lambda s: (s.normalised is None, -(s.normalised or 0)),
    "name": lambda s: s.name.lower(),
    "submitted": lambda s: (s.submitted_at is None, s.submitted_at),
}


def _submitted(call: Call) -> Any:
    return (Application.call_id == call.id) & (Application.stage != Stage.DRAFT)


def _names(session: Session, call: Call) -> dict[int, str]:
    """Every submitted application's display name, from its name answers and its applicant's name."""
    rows = session.execute(select(Application.id, User.name, *(Application.answers[k] for k in NAME_KEYS))
                           .join(User, User.id == Application.applicant_id).where(_submitted(call)))
    return {row[0]: display_name_of(dict(zip(NAME_KEYS, row[2:], strict=True)), row[1]) for row in rows}


def scores(session: Session, call: Call, *, stage: str | None = None, sort: str = "total",
           min_reviews: int = 0) -> list[Score]:
    """Every submitted (not draft) application of the call with its figures, filtered and sorted
    (ties in the order the applications came in)."""
    criteria = list(call.criteria)
    found = {a.id: Score(a.id, a.stage, a.submitted_at) for a in session.execute(
        select(Application.id, Application.stage, Application.submitted_at).where(_submitted(call))
        .order_by(Application.id))}
    reviews = session.execute(
        select(Review.id, Review.application_id, Review.reviewer_id, Review.scores, Review.recommendation)
        .join(Application, Application.id == Review.application_id)
        .where(_submitted(call), Review.status == ReviewStatus.SUBMITTED)).all()
    weighted = weigher(criteria)
    totals = {r.id: weighted(r.scores or {}) for r in reviews}
    z = z_scores((r.id, r.reviewer_id, totals[r.id]) for r in reviews)
    by_application: dict[int, list[Any]] = {}
    for r in reviews:
        by_application.setdefault(r.application_id, []).append(r)
    for application_id, own in by_application.items():
        score = found[application_id]
        score.review_count = len(own)
        score.total = round(fmean(totals[r.id] for r in own), 2)
        score.normalised = round(fmean(z[r.id] for r in own), 3)
        score.recommendations = Counter(r.recommendation or "" for r in own)
    if sort == "name":
        for application_id, name in _names(session, call).items():
            found[application_id].name = name
    kept = [s for s in found.values() if (not stage or s.stage == stage) and s.review_count >= min_reviews]
    kept.sort(key=SORTS.get(sort, SORTS["total"]))
    return kept


def _page_rows(session: Session, chosen: list[Score]) -> list[PageRow]:
    """The chosen applications' names, applicants and reviews that are not conflicts, in their order."""
    ids = [s.application_id for s in chosen]
    if not ids:
        return []
    names = {row[0]: (display_name_of(dict(zip(NAME_KEYS, row[2:], strict=True)), row[1]), row[1])
             for row in session.execute(select(Application.id, User.name, *(Application.answers[k] for k in NAME_KEYS))
                                        .join(User, User.id == Application.applicant_id)
                                        .where(Application.id.in_(ids)))}
    assigned: dict[int, int] = {application_id: n for application_id, n in session.execute(
        select(Review.application_id, func.count()).where(Review.application_id.in_(ids),
                                                          Review.status != ReviewStatus.CONFLICT)
        .group_by(Review.application_id))}
    return [PageRow(s, *names[s.application_id], assigned.get(s.application_id, 0)) for s in chosen]


def _rows(session: Session, chosen: list[Score]) -> list[Row]:
    """The chosen applications loaded with what the exports and the comparison read, in their order."""
    ids = [s.application_id for s in chosen]
    if not ids:
        return []
    loaded = {a.id: a for a in session.execute(
        select(Application).where(Application.id.in_(ids))
        .options(selectinload(Application.applicant), selectinload(Application.files),
                 selectinload(Application.form_version),
                 selectinload(Application.reviews).selectinload(Review.reviewer))).scalars()}
    return [Row(s, loaded[s.application_id], sorted((r for r in loaded[s.application_id].reviews
                                                    if r.status == ReviewStatus.SUBMITTED), key=lambda r: r.id))
            for s in chosen]


def rank_page(session: Session, call: Call, *, page: int, per_page: int, stage: str | None = None,
              sort: str = "total", min_reviews: int = 0) -> Page:
    """One page of the ranking (``Page`` of ``PageRow``), the figures computed over the whole call."""
    ordered = scores(session, call, stage=stage, sort=sort, min_reviews=min_reviews)
    page = min(max(1, page), (2**31 - 1) // per_page + 1)
    start = (page - 1) * per_page
    return Page(items=_page_rows(session, ordered[start:start + per_page]), page=page, per_page=per_page,
                total=len(ordered))


def rank(session: Session, call: Call, *, stage: str | None = None, sort: str = "total",
         min_reviews: int = 0, only: Iterable[int] | None = None) -> list[Row]:
    """Every ranked application (or those of ``only``) with its submitted reviews, in the ranking's order."""
    ordered = scores(session, call, stage=stage, sort=sort, min_reviews=min_reviews)
    if only is not None:
        wanted = set(only)
        ordered = [s for s in ordered if s.application_id in wanted]
    return _rows(session, ordered)
