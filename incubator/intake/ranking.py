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
from collections.abc import Callable, Iterable, Mapping, Sequence
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

RECOMMENDATION_ORDER = {"yes": 0, "maybe": 1, "no": 2, "": 3}


def weighted_total(scores: Mapping[str, Any], criteria: list[Criterion]) -> float:
    return weigher(criteria)([scores.get(c.key) for c in criteria])


def weigher(criteria: list[Criterion]) -> Callable[[Sequence[Any]], float]:
    """``weighted_total`` for these criteria, from each criterion's score in their order (None: left
    out, which counts as the scale's minimum); their attributes are read once, the arithmetic is the
    same."""
    weights = sum(c.weight for c in criteria)
    if not criteria or weights <= 0:
        return lambda _values: 0.0
    scales = [(c.weight, c.scale_min, c.scale_max - c.scale_min) for c in criteria]

    def total(values: Sequence[Any]) -> float:
        points = sum(weight * (float(low if value is None else value) - low) / span
                     for (weight, low, span), value in zip(scales, values, strict=True))
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


def _names(row: Any) -> str:
    """The display name from a row ending with the applicant's name and the name answers."""
    return display_name_of(dict(zip(NAME_KEYS, row[-len(NAME_KEYS):], strict=True)), row[-len(NAME_KEYS) - 1])


_NAME_COLUMNS = (User.name, *(Application.answers[k] for k in NAME_KEYS))


def scores(session: Session, call: Call, *, stage: str | None = None, sort: str = "total",
           min_reviews: int = 0) -> list[Score]:
    """Every submitted (not draft) application of the call with its figures, filtered and sorted
    (ties in the order the applications came in). One query: each application with its submitted
    reviews' reviewer, recommendation and scores (the name columns for the name sort)."""
    criteria = list(call.criteria)
    # The scores come whole: PostgreSQL re-reads a json document for each key taken from it in SQL.
    columns: list[Any] = [Application.id, Application.stage, Application.submitted_at, Review.id, Review.reviewer_id,
                          Review.recommendation, Review.scores]
    stmt = select(*columns, *(_NAME_COLUMNS if sort == "name" else ())).outerjoin(
        Review, (Review.application_id == Application.id) & (Review.status == ReviewStatus.SUBMITTED)) \
        .where(_submitted(call)).order_by(Application.id, Review.id)
    if sort == "name":
        stmt = stmt.join(User, User.id == Application.applicant_id)
    found: dict[int, Score] = {}
    reviews: list[tuple[int, int, int, str | None, float]] = []  # review, application, reviewer, recommendation
    weighted, keys = weigher(criteria), [c.key for c in criteria]
    for row in session.execute(stmt):
        if row[0] not in found:
            found[row[0]] = Score(row[0], row[1], row[2], name=_names(row) if sort == "name" else "")
        if row[3] is not None:
            given = row[6] or {}
            reviews.append((row[3], row[0], row[4], row[5], weighted([given.get(key) for key in keys])))
    z = z_scores((review_id, reviewer_id, total) for review_id, _a, reviewer_id, _r, total in reviews)
    by_application: dict[int, list[tuple[int, int, int, str | None, float]]] = {}
    for review in reviews:
        by_application.setdefault(review[1], []).append(review)
    for application_id, own in by_application.items():
        score = found[application_id]
        score.review_count = len(own)
        score.total = round(fmean(r[4] for r in own), 2)
        score.normalised = round(fmean(z[r[0]] for r in own), 3)
        counts = Counter(r[3] or "" for r in own)  # read in one order on every row: yes, maybe, no
        order = sorted(counts, key=lambda k: RECOMMENDATION_ORDER.get(k, 3))
        score.recommendations = Counter({k: counts[k] for k in order})
    kept = [s for s in found.values() if (not stage or s.stage == stage) and s.review_count >= min_reviews]
    kept.sort(key=SORTS.get(sort, SORTS["total"]))
    return kept


def _page_rows(session: Session, chosen: list[Score]) -> list[PageRow]:
    """The chosen applications' names, applicants and reviews that are not conflicts, in their order."""
    ids = [s.application_id for s in chosen]
    if not ids:
        return []
    assigned = select(func.count(Review.id)).where(Review.application_id == Application.id,
                                                   Review.status != ReviewStatus.CONFLICT) \
        .correlate(Application).scalar_subquery()
    found = {row[0]: (_names(row), row[-len(NAME_KEYS) - 1], row[1]) for row in session.execute(
        select(Application.id, assigned, *_NAME_COLUMNS).join(User, User.id == Application.applicant_id)
        .where(Application.id.in_(ids)))}
    return [PageRow(s, *found[s.application_id]) for s in chosen]


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
