"""Property: on any small instance the matching is the optimum an independent solver finds, and feasible.

The independent solver is SciPy's HiGHS branch-and-bound (``milp``) on the plain integer programme
(one 0/1 variable per eligible pair), without the flow network, the pruning or OR-Tools.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from incubator.mentoring import flow
from incubator.mentoring.matching import PARTICIPATION_BONUS, MentorIn, Problem, StartupIn, score_matrix, solve

TAGS = ["go_to_market", "fundraising", "product", "ip", "finance"]
LANGS = ["vi", "en", "ko"]


@st.composite
def problems(draw: st.DrawFn) -> Problem:
    tags = st.frozensets(st.sampled_from(TAGS), max_size=3)
    hours = st.frozensets(st.integers(0, 167), max_size=4)
    startups = [StartupIn(i, draw(tags), draw(st.sampled_from(["agri", "edu"])),
                          draw(st.sampled_from(["idea", "mvp"])),
                          tuple(draw(st.lists(st.sampled_from(LANGS), min_size=1, max_size=2, unique=True))),
                          draw(hours)) for i in range(1, draw(st.integers(1, 7)) + 1)]
    mentors = [MentorIn(100 + j, draw(tags), draw(st.frozensets(st.sampled_from(["agri", "edu"]))),
                        draw(st.frozensets(st.sampled_from(["idea", "mvp"]))),
                        draw(st.frozensets(st.sampled_from(LANGS), min_size=1)), draw(st.integers(0, 3)),
                        draw(hours), draw(st.sampled_from([None, 1.0, 3.5, 5.0])))
               for j in range(draw(st.integers(1, 5)))]
    every_pair = [(s.id, m.id) for s in startups for m in mentors]
    conflicts = draw(st.sets(st.sampled_from(every_pair), max_size=3))
    return Problem(startups, mentors, conflicts=conflicts, per_startup=draw(st.integers(1, 3)),
                   participation_first=draw(st.booleans()))


def independent_optimum(problem: Problem) -> int:
    """Max of (covered startups x bonus, if participation first) + the gains, by integer programming."""
    scores = score_matrix(problem)
    rows, cols = np.nonzero(scores.eligible)
    s_count, pairs = len(problem.startups), len(rows)
    gains = scores.gains[rows, cols].astype(float)
    covered = s_count if problem.participation_first else 0  # y_i: startup i has a mentor
    objective = -np.concatenate([gains, np.full(covered, float(PARTICIPATION_BONUS))])
    constraints = []
    per_startup = np.zeros((s_count, pairs + covered))
    per_startup[rows, np.arange(pairs)] = 1
    constraints.append(LinearConstraint(per_startup, ub=problem.per_startup))
    per_mentor = np.zeros((len(problem.mentors), pairs + covered))
    per_mentor[cols, np.arange(pairs)] = 1
    constraints.append(LinearConstraint(per_mentor, ub=[max(0, m.capacity) for m in problem.mentors]))
    if covered:
        cover = per_startup.copy()
        cover[np.arange(s_count), pairs + np.arange(s_count)] = -1  # y_i <= its pairs
        constraints.append(LinearConstraint(cover, lb=0))
    if not pairs + covered:
        return 0
    result = milp(objective, integrality=np.ones(pairs + covered), bounds=Bounds(0, 1), constraints=constraints)
    assert result.status == 0, result.message
    return round(-result.fun)


def check_feasible(problem: Problem, pairs: list[tuple[int, int, float]]) -> None:
    scores = score_matrix(problem)
    s_index = {s.id: i for i, s in enumerate(problem.startups)}
    m_index = {m.id: j for j, m in enumerate(problem.mentors)}
    assert len({(s, m) for s, m, _ in pairs}) == len(pairs)
    for s in problem.startups:
        assert sum(1 for p in pairs if p[0] == s.id) <= problem.per_startup
    for m in problem.mentors:
        assert sum(1 for p in pairs if p[1] == m.id) <= max(0, m.capacity)
    for sid, mid, _score in pairs:
        assert (sid, mid) not in problem.conflicts
        assert scores.eligible[s_index[sid], m_index[mid]]


def achieved(problem: Problem, pairs: list[tuple[int, int, float]]) -> int:
    bonus = PARTICIPATION_BONUS * len({p[0] for p in pairs}) if problem.participation_first else 0
    return bonus + sum(round(score * 100) for _s, _m, score in pairs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_the_matching_is_the_independent_optimum_and_feasible(problem):
    solution = solve(problem)
    check_feasible(problem, solution.pairs)
    assert achieved(problem, solution.pairs) == independent_optimum(problem)


@settings(max_examples=60, deadline=None)
@given(problems())
def test_the_optimum_holds_when_the_first_graph_keeps_a_single_pair(problem):
    """The pruning is only a head start: with almost nothing kept, the duality check adds what is missing."""
    old = flow.KEEP_PER_STARTUP, flow.KEEP_PER_MENTOR
    flow.KEEP_PER_STARTUP, flow.KEEP_PER_MENTOR = -10, -10
    try:
        solution = solve(problem)
    finally:
        flow.KEEP_PER_STARTUP, flow.KEEP_PER_MENTOR = old
    check_feasible(problem, solution.pairs)
    assert achieved(problem, solution.pairs) == independent_optimum(problem)


@pytest.mark.parametrize("seed", range(3))
def test_a_mid_sized_cohort_is_optimal_against_the_unpruned_flow(seed):
    """A few hundred startups: the pruned-and-priced optimum equals OR-Tools on every eligible pair."""
    import random

    from tests.mentoring.test_matching import random_problem

    rng = random.Random(seed)
    problem = random_problem(rng, startups=300, mentors=60, per_startup=2)
    for mentor in problem.mentors:
        mentor.capacity = rng.randint(1, 4)
    scores = score_matrix(problem)
    want = np.full(len(problem.startups), problem.per_startup)
    room = np.array([m.capacity for m in problem.mentors])
    rows, cols = np.nonzero(scores.gains >= 0)
    net = flow.network(flow.frame(want, room, None), rows, cols, scores.gains[rows, cols])
    unpruned = -int(net.costs @ flow.ortools_flows(net))
    solution = solve(problem, scores)
    check_feasible(problem, solution.pairs)
    assert achieved(problem, solution.pairs) == unpruned
