"""Mentor matching: a score for every eligible pair, and the global optimum under capacities.

Pure functions over plain data (no database), so the same code serves the pages, the API, the
tests (checked against brute force) and ``bench/matching.py``.

* ``score_matrix`` scores every startup-mentor pair from weighted criteria, vectorised with NumPy;
  ineligible pairs (conflict of interest, no shared language, mentor without free capacity) are
  masked out.
* ``solve`` finds the assignment of maximum total score where each startup gets at most ``k``
  mentors and each mentor takes at most its capacity, as a min-cost flow (OR-Tools). With
  ``participation_first`` the number of startups that get at least one mentor is maximised first,
  then the total score. Locked pairs are kept.
* ``explain`` turns a pair's score into reasons, and says why a startup did not get its best mentor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from incubator.mentoring import flow
from incubator.mentoring.criteria import CRITERIA, DEFAULT_WEIGHTS

__all__ = ["CRITERIA", "DEFAULT_WEIGHTS"]  # said once in criteria.py (no NumPy), read here as before
SCALE = 100  # scores are kept to two decimals inside the solver, which works in integers
PARTICIPATION_BONUS = 10**9  # larger than any total score: covering one more startup always wins


@dataclass
class StartupIn:
    id: int
    needs: frozenset[str]
    industry: str
    stage: str
    languages: tuple[str, ...]  # preferred first
    availability: frozenset[int] = frozenset()  # hours of the week, 0..167, in UTC


@dataclass
class MentorIn:
    id: int
    expertise: frozenset[str]
    industries: frozenset[str]
    stages: frozenset[str]
    languages: frozenset[str]
    capacity: int  # free places
    availability: frozenset[int] = frozenset()
    rating: float | None = None  # average 1..5 from past sessions


@dataclass
class Problem:
    startups: Sequence[StartupIn]
    mentors: Sequence[MentorIn]
    conflicts: set[tuple[int, int]] = field(default_factory=set)  # (startup id, mentor id)
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    per_startup: int = 2
    participation_first: bool = False
    locked: set[tuple[int, int]] = field(default_factory=set)  # pairs kept from a previous run


@dataclass
class _Factors:
    """What a pair's parts are computed from, without startups x mentors matrices per criterion: the
    needs and hours as one-hot rows (a part is a row times a row), and the criteria that depend on one
    label of the startup (industry, stage, languages) as a small table of label x mentors."""

    needs: np.ndarray  # startups x tags, divided by the startup's number of needs
    expertise: np.ndarray  # mentors x tags
    hours: tuple[np.ndarray, np.ndarray]  # hours of the week, startups x 168 and mentors x 168
    no_preference: np.ndarray  # startups without availability
    labels: dict[str, tuple[np.ndarray, np.ndarray]]  # criterion -> (startup's label row, labels x mentors)
    shared_language: tuple[np.ndarray, np.ndarray]  # (startup's languages row, bool languages x mentors)
    ratings: np.ndarray  # mentors, 0..1


@dataclass
class Scores:
    total: np.ndarray  # startups x mentors, points 0..100 (weighted), float32
    eligible: np.ndarray  # bool startups x mentors
    factors: _Factors
    gains: np.ndarray  # int32 startups x mentors: points rounded to two decimals x SCALE, -1 where not eligible

    def part(self, name: str, i: int, j: int) -> float:
        """One criterion's part (0..1) for startup row ``i`` and mentor row ``j``."""
        f = self.factors
        if name == "needs":
            return float(f.needs[i] @ f.expertise[j])
        if name == "availability":
            return 0.5 if f.no_preference[i] else float(min(f.hours[0][i] @ f.hours[1][j], 4.0) / 4.0)
        if name == "feedback":
            return float(f.ratings[j])
        index, table = f.labels[name]
        return float(table[index[i], j])


def _vocabulary(items: Iterable[Iterable[str]]) -> dict[str, int]:
    vocab: dict[str, int] = {}
    for tags in items:
        for tag in tags:
            vocab.setdefault(tag, len(vocab))
    return vocab


def _one_hot(rows: Sequence[Iterable[str]], vocab: dict[str, int]) -> np.ndarray:
    out = np.zeros((len(rows), max(1, len(vocab))), dtype=np.float32)
    for i, tags in enumerate(rows):
        for tag in tags:
            if tag in vocab:
                out[i, vocab[tag]] = 1.0
    return out


def _hours(rows: Sequence[frozenset[int]]) -> np.ndarray:
    out = np.zeros((len(rows), 168), dtype=np.float32)
    for i, hours in enumerate(rows):
        out[i, list(hours)] = 1.0
    return out


def _label_table(labels: Sequence[object], part: Callable[[object], np.ndarray],
                 width: int) -> tuple[np.ndarray, np.ndarray]:
    """Each startup's row in a table of the distinct labels x ``width`` mentors, ``part(label)`` giving a row."""
    distinct = {label: k for k, label in enumerate(dict.fromkeys(labels))}
    index = np.array([distinct[label] for label in labels], dtype=np.intp)
    rows = [part(label) for label in distinct]
    return index, np.array(rows, dtype=np.float32).reshape(len(rows), width)


def _factors(problem: Problem) -> _Factors:
    startups, mentors = problem.startups, problem.mentors
    tags = _vocabulary([s.needs for s in startups] + [m.expertise for m in mentors])
    needs = _one_hot([s.needs for s in startups], tags)
    needs /= np.maximum(needs.sum(axis=1, keepdims=True), 1.0)

    def industry(label: object) -> np.ndarray:
        return np.array([label in m.industries for m in mentors], dtype=np.float32)

    def stage(label: object) -> np.ndarray:
        return np.array([1.0 if label in m.stages else 0.5 if not m.stages else 0.0 for m in mentors],
                        dtype=np.float32)

    def language(label: object) -> np.ndarray:
        spoken: tuple[str, ...] = label if isinstance(label, tuple) else ()  # the startup's, preferred first
        return np.array([1.0 if spoken[:1] and spoken[0] in m.languages else
                         0.5 if m.languages.intersection(spoken) else 0.0 for m in mentors], dtype=np.float32)

    languages = [tuple(s.languages) for s in startups]
    lang_index, lang_table = _label_table(languages, language, len(mentors))
    return _Factors(
        needs=needs, expertise=_one_hot([m.expertise for m in mentors], tags),
        hours=(_hours([s.availability for s in startups]), _hours([m.availability for m in mentors])),
        no_preference=np.array([not s.availability for s in startups], dtype=bool),
        labels={"industry": _label_table([s.industry for s in startups], industry, len(mentors)),
                "stage": _label_table([s.stage for s in startups], stage, len(mentors)),
                "language": (lang_index, lang_table)},
        shared_language=(lang_index, lang_table > 0),
        ratings=np.array([0.5 if m.rating is None else (m.rating - 1) / 4 for m in mentors], dtype=np.float32))


ROWS_PER_BLOCK = 512  # startups scored at a time: the temporaries stay a few MB whatever the cohort


def score_matrix(problem: Problem) -> Scores:
    """Every pair's weighted score (float32) and whether it may be matched, a block of startups at a time."""
    startups, mentors = problem.startups, problem.mentors
    f = _factors(problem)
    w = {name: np.float32(problem.weights.get(name, 0)) for name in CRITERIA}
    # The label criteria and the mentor's rating, weighted, as one table of label combinations x mentors.
    label_names = ("industry", "stage", "language")
    combos: list[object] = list(zip(*(f.labels[name][0].tolist() for name in label_names), strict=True))

    def combo_row(key: object) -> np.ndarray:
        row = w["feedback"] * f.ratings
        for name, k in zip(label_names, key, strict=True):  # type: ignore[call-overload]
            row = row + w[name] * f.labels[name][1][k]
        return row

    combo_index, base = _label_table(combos, combo_row, len(mentors))
    total = np.empty((len(startups), len(mentors)), dtype=np.float32)
    eligible = np.empty((len(startups), len(mentors)), dtype=bool)
    gains = np.empty((len(startups), len(mentors)), dtype=np.int32)
    has_room = np.array([m.capacity > 0 for m in mentors], dtype=bool)
    for start in range(0, len(startups), ROWS_PER_BLOCK):
        rows = slice(start, start + ROWS_PER_BLOCK)
        block = np.take(base, combo_index[rows], axis=0, out=total[rows])
        block += w["needs"] * (f.needs[rows] @ f.expertise.T)
        overlap = np.minimum(f.hours[0][rows] @ f.hours[1].T, 4.0) / 4.0  # four shared hours a week is plenty
        overlap[f.no_preference[rows]] = 0.5
        block += w["availability"] * overlap
        np.logical_and(f.shared_language[1][f.shared_language[0][rows]], has_room[None, :], out=eligible[rows])
        # float64 before scaling makes it exact: a gain is the score as rounded to two decimals, x 100.
        gains[rows] = np.where(eligible[rows], np.rint(block.astype(np.float64) * SCALE), -1)
    if problem.conflicts:
        s_index = {s.id: i for i, s in enumerate(startups)}
        m_index = {m.id: j for j, m in enumerate(mentors)}
        for sid, mid in problem.conflicts:
            if sid in s_index and mid in m_index:
                eligible[s_index[sid], m_index[mid]] = False
                gains[s_index[sid], m_index[mid]] = -1
    return Scores(total=total, eligible=eligible, factors=f, gains=gains)


@dataclass
class Solution:
    pairs: list[tuple[int, int, float]]  # (startup id, mentor id, score)
    total_score: float
    unmatched: list[int]  # startups that got no mentor


def solve(problem: Problem, scores: Scores | None = None, solver: flow.FlowSolver | None = None) -> Solution:
    """The optimum (see ``flow``): ``solver`` is OR-Tools' min-cost flow unless another is given."""
    scores = scores or score_matrix(problem)
    startups, mentors = problem.startups, problem.mentors
    s_index = {s.id: i for i, s in enumerate(startups)}
    m_index = {m.id: j for j, m in enumerate(mentors)}
    want = np.full(len(startups), problem.per_startup, dtype=np.int64)
    room = np.array([m.capacity for m in mentors], dtype=np.int64)
    kept: list[tuple[int, int]] = []
    for sid, mid in sorted(problem.locked):
        i, j = s_index.get(sid), m_index.get(mid)
        if i is not None and j is not None and want[i] > 0:
            kept.append((i, j))
            want[i] -= 1
            room[j] = max(0, room[j] - 1)
    gains = scores.gains
    if kept or not (want > 0).all():
        gains = gains.copy()  # the locks take places: the pairs they leave no room for are out
        gains[want == 0] = -1
        gains[:, room == 0] = -1
        for i, j in kept:
            gains[i, j] = -1  # already taken by the lock
    bonus = None
    if problem.participation_first:
        bonus = np.full(len(startups), PARTICIPATION_BONUS, dtype=np.int64)
        bonus[[i for i, _j in kept]] = 0  # a locked pair already covers its startup
    chosen = list(kept)
    if want.sum() and room.sum():
        net, flows = flow.optimise(flow.frame(want, room, bonus), gains, want, room,
                                   solver or flow.ortools_flows)
        picked = np.nonzero(flows[net.pair_start:])[0]
        chosen += list(zip(net.rows[picked].tolist(), net.cols[picked].tolist(), strict=True))
    pairs = [(startups[i].id, mentors[j].id, round(float(scores.total[i, j]), 2)) for i, j in chosen]
    pairs.sort()
    matched = {sid for sid, _mid, _score in pairs}
    return Solution(pairs=pairs, total_score=round(sum(p[2] for p in pairs), 2),
                    unmatched=[s.id for s in startups if s.id not in matched])


def greedy(problem: Problem, scores: Scores | None = None) -> Solution:
    """The baseline most tools use: best pairs first, first come first served."""
    scores = scores or score_matrix(problem)
    want = {s.id: problem.per_startup for s in problem.startups}
    room = {m.id: m.capacity for m in problem.mentors}
    rows, cols = np.nonzero(scores.eligible)
    order = np.argsort(-scores.total[rows, cols], kind="stable")
    pairs = []
    for k in order:
        s, m = problem.startups[rows[k]], problem.mentors[cols[k]]
        if want[s.id] > 0 and room[m.id] > 0:
            want[s.id] -= 1
            room[m.id] -= 1
            pairs.append((s.id, m.id, round(float(scores.total[rows[k], cols[k]]), 2)))
    matched = {p[0] for p in pairs}
    return Solution(pairs=sorted(pairs), total_score=round(sum(p[2] for p in pairs), 2),
                    unmatched=[s.id for s in problem.startups if s.id not in matched])


# -- reasons ----------------------------------------------------------------------------------------

@dataclass
class Reason:
    criterion: str
    points: float
    detail: dict[str, object]

    def as_dict(self) -> dict[str, object]:
        return {"criterion": self.criterion, "points": self.points, **self.detail}


def explain_pair(problem: Problem, scores: Scores, startup_id: int, mentor_id: int) -> list[Reason]:
    i = next(k for k, s in enumerate(problem.startups) if s.id == startup_id)
    j = next(k for k, m in enumerate(problem.mentors) if m.id == mentor_id)
    s, m = problem.startups[i], problem.mentors[j]
    reasons = []
    for name in CRITERIA:
        points = round(float(problem.weights.get(name, 0)) * scores.part(name, i, j), 2)
        detail: dict[str, object] = {}
        if name == "needs":
            detail = {"matched": sorted(s.needs & m.expertise), "wanted": sorted(s.needs)}
        elif name == "industry":
            detail = {"industry": s.industry, "match": s.industry in m.industries}
        elif name == "stage":
            detail = {"stage": s.stage, "match": s.stage in m.stages, "any_stage": not m.stages}
        elif name == "language":
            detail = {"languages": sorted(set(s.languages) & m.languages)}
        elif name == "availability":
            detail = {"hours": len(s.availability & m.availability), "no_preference": not s.availability}
        elif name == "feedback":
            detail = {"rating": m.rating}
        reasons.append(Reason(name, points, detail))
    return sorted(reasons, key=lambda r: -r.points)


def why_not_best(problem: Problem, scores: Scores, solution: Solution) -> dict[int, dict[str, object]]:
    """For each startup that did not get its best-scoring eligible mentor: who that was and where it went."""
    assigned: dict[int, list[int]] = {}
    taken_by: dict[int, list[int]] = {}
    for sid, mid, _score in solution.pairs:
        assigned.setdefault(sid, []).append(mid)
        taken_by.setdefault(mid, []).append(sid)
    out: dict[int, dict[str, object]] = {}
    for i, s in enumerate(problem.startups):
        candidates = np.nonzero(scores.eligible[i])[0]
        if not len(candidates):
            continue
        best = int(candidates[np.argmax(scores.total[i, candidates])])
        mentor = problem.mentors[best]
        if mentor.id in assigned.get(s.id, []):
            continue
        out[s.id] = {"mentor_id": mentor.id, "score": round(float(scores.total[i, best]), 2),
                     "capacity": mentor.capacity, "given_to": sorted(taken_by.get(mentor.id, []))}
    return out
