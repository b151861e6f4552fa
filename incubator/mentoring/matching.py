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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

CRITERIA = ("needs", "industry", "stage", "language", "availability", "feedback")
DEFAULT_WEIGHTS = {"needs": 40, "industry": 20, "stage": 10, "language": 10, "availability": 10, "feedback": 10}
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
class Scores:
    total: np.ndarray  # startups x mentors, points 0..100 (weighted)
    parts: dict[str, np.ndarray]  # criterion -> startups x mentors, 0..1
    eligible: np.ndarray  # bool startups x mentors


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


def score_matrix(problem: Problem) -> Scores:
    startups, mentors = problem.startups, problem.mentors
    tags = _vocabulary([s.needs for s in startups] + [m.expertise for m in mentors])
    needs, expertise = _one_hot([s.needs for s in startups], tags), _one_hot([m.expertise for m in mentors], tags)
    need_count = np.maximum(needs.sum(axis=1, keepdims=True), 1.0)
    parts = {"needs": (needs @ expertise.T) / need_count}

    industries = _vocabulary([[s.industry] for s in startups] + [m.industries for m in mentors])
    parts["industry"] = _one_hot([[s.industry] for s in startups], industries) @ \
        _one_hot([m.industries for m in mentors], industries).T

    stages = _vocabulary([[s.stage] for s in startups] + [m.stages for m in mentors])
    stage_match = _one_hot([[s.stage] for s in startups], stages) @ _one_hot([m.stages for m in mentors], stages).T
    open_to_all = np.array([not m.stages for m in mentors], dtype=np.float32)
    parts["stage"] = np.maximum(stage_match, 0.5 * open_to_all[None, :])

    langs = _vocabulary([s.languages for s in startups] + [m.languages for m in mentors])
    mentor_langs = _one_hot([m.languages for m in mentors], langs)
    first = _one_hot([s.languages[:1] for s in startups], langs) @ mentor_langs.T
    shared = _one_hot([s.languages for s in startups], langs) @ mentor_langs.T
    parts["language"] = np.where(first > 0, 1.0, np.where(shared > 0, 0.5, 0.0)).astype(np.float32)

    hours = np.zeros((len(startups), 168), dtype=np.float32)
    for i, s in enumerate(startups):
        hours[i, list(s.availability)] = 1.0
    mentor_hours = np.zeros((len(mentors), 168), dtype=np.float32)
    for j, m in enumerate(mentors):
        mentor_hours[j, list(m.availability)] = 1.0
    overlap = np.minimum(hours @ mentor_hours.T, 4.0) / 4.0  # four shared hours a week is plenty
    no_preference = np.array([not s.availability for s in startups], dtype=bool)
    parts["availability"] = np.where(no_preference[:, None], 0.5, overlap).astype(np.float32)

    ratings = np.array([0.5 if m.rating is None else (m.rating - 1) / 4 for m in mentors], dtype=np.float32)
    parts["feedback"] = np.broadcast_to(ratings[None, :], (len(startups), len(mentors)))

    total = sum(float(problem.weights.get(name, 0)) * parts[name] for name in CRITERIA)
    eligible = shared > 0
    eligible &= np.array([m.capacity > 0 for m in mentors], dtype=bool)[None, :]
    if problem.conflicts:
        s_index = {s.id: i for i, s in enumerate(startups)}
        m_index = {m.id: j for j, m in enumerate(mentors)}
        for sid, mid in problem.conflicts:
            if sid in s_index and mid in m_index:
                eligible[s_index[sid], m_index[mid]] = False
    return Scores(total=np.asarray(total, dtype=np.float64), parts=parts, eligible=eligible)


@dataclass
class Solution:
    pairs: list[tuple[int, int, float]]  # (startup id, mentor id, score)
    total_score: float
    unmatched: list[int]  # startups that got no mentor


def solve(problem: Problem, scores: Scores | None = None) -> Solution:
    scores = scores or score_matrix(problem)
    startups, mentors = problem.startups, problem.mentors
    s_count, m_count = len(startups), len(mentors)
    s_index = {s.id: i for i, s in enumerate(startups)}
    m_index = {m.id: j for j, m in enumerate(mentors)}
    want = np.full(s_count, problem.per_startup, dtype=np.int64)
    room = np.array([m.capacity for m in mentors], dtype=np.int64)
    kept: list[tuple[int, int]] = []
    for sid, mid in sorted(problem.locked):
        i, j = s_index.get(sid), m_index.get(mid)
        if i is not None and j is not None and want[i] > 0:
            kept.append((i, j))
            want[i] -= 1
            room[j] = max(0, room[j] - 1)

    cost = np.rint(scores.total * SCALE).astype(np.int64)
    eligible = scores.eligible.copy()
    for i, j in kept:
        eligible[i, j] = False  # already taken by the lock
    rows, cols = np.nonzero(eligible & (want[:, None] > 0) & (room[None, :] > 0))

    source, sink = 0, 1 + s_count + m_count
    from ortools.graph.python import min_cost_flow  # loaded when a matching runs: ~20 MB a process spares

    flow = min_cost_flow.SimpleMinCostFlow()
    tails, heads, caps, costs = [], [], [], []
    already_covered = np.zeros(s_count, dtype=bool)
    for i, _j in kept:
        already_covered[i] = True
    for i in range(s_count):
        if want[i] <= 0:
            continue
        if problem.participation_first and not already_covered[i]:
            tails += [source, source]
            heads += [1 + i, 1 + i]
            caps += [1, int(want[i]) - 1]
            costs += [-PARTICIPATION_BONUS, 0]
        else:
            tails.append(source)
            heads.append(1 + i)
            caps.append(int(want[i]))
            costs.append(0)
    pair_start = len(tails)
    tails += (1 + rows).tolist()
    heads += (1 + s_count + cols).tolist()
    caps += [1] * len(rows)
    costs += (-cost[rows, cols]).tolist()
    for j in range(m_count):
        if room[j] > 0:
            tails.append(1 + s_count + j)
            heads.append(sink)
            caps.append(int(room[j]))
            costs.append(0)
    supply = int(want.sum())
    tails.append(source)  # units nobody can take flow straight to the sink at no gain
    heads.append(sink)
    caps.append(supply)
    costs.append(0)
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        np.array(tails, dtype=np.int32), np.array(heads, dtype=np.int32), np.array(caps, dtype=np.int64),
        np.array(costs, dtype=np.int64))
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    if supply and flow.solve() != flow.OPTIMAL:
        raise RuntimeError("matching: the flow problem has no optimal solution")

    chosen = list(kept)
    if supply and len(rows):
        flows = flow.flows(arcs[pair_start:pair_start + len(rows)])
        picked = np.nonzero(flows)[0]
        chosen += list(zip(rows[picked].tolist(), cols[picked].tolist(), strict=True))
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
        points = round(float(problem.weights.get(name, 0)) * float(scores.parts[name][i, j]), 2)
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
