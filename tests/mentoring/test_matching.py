"""The matching is optimal (checked against brute force), never breaks capacities or conflicts."""

from __future__ import annotations

import itertools
import random

import pytest

from incubator.mentoring.matching import (
    MentorIn,
    Problem,
    StartupIn,
    explain_pair,
    greedy,
    score_matrix,
    solve,
    why_not_best,
)

TAGS = ["go_to_market", "fundraising", "product", "ip", "finance"]


def random_problem(rng: random.Random, startups: int, mentors: int, per_startup: int) -> Problem:
    s = [StartupIn(i, frozenset(rng.sample(TAGS, rng.randrange(1, 3))), rng.choice(["agri", "edu"]),
                   rng.choice(["idea", "mvp", "growth"]), (rng.choice(["vi", "en", "ko"]),),
                   frozenset(rng.sample(range(168), rng.randrange(0, 4)))) for i in range(1, startups + 1)]
    m = [MentorIn(100 + j, frozenset(rng.sample(TAGS, rng.randrange(1, 4))),
                  frozenset(rng.sample(["agri", "edu"], rng.randrange(1, 3))),
                  frozenset(rng.sample(["idea", "mvp", "growth"], rng.randrange(0, 2))),
                  frozenset(rng.sample(["vi", "en", "ko"], rng.randrange(1, 3))), rng.randint(0, 2),
                  frozenset(rng.sample(range(168), 3)), rng.choice([None, 3.0, 4.5]))
         for j in range(mentors)]
    conflicts = {(rng.randint(1, startups), 100 + rng.randrange(mentors)) for _ in range(2)}
    return Problem(s, m, conflicts=conflicts, per_startup=per_startup)


def brute_force(problem: Problem) -> tuple[int, float]:
    """Best (startups covered, total score) over every feasible set of pairs, and best total alone."""
    scores = score_matrix(problem)
    pairs = [(i, j) for i in range(len(problem.startups)) for j in range(len(problem.mentors))
             if scores.eligible[i, j]]
    best_total, best_lex = 0.0, (0, 0.0)
    for size in range(len(pairs) + 1):
        for subset in itertools.combinations(pairs, size):
            per_s = [0] * len(problem.startups)
            per_m = [0] * len(problem.mentors)
            for i, j in subset:
                per_s[i] += 1
                per_m[j] += 1
            if any(n > problem.per_startup for n in per_s) or any(
                    n > problem.mentors[j].capacity for j, n in enumerate(per_m)):
                continue
            total = round(sum(float(scores.total[i, j]) for i, j in subset), 2)
            best_total = max(best_total, total)
            best_lex = max(best_lex, (sum(1 for n in per_s if n), total))
    return best_lex, best_total


def _check_feasible(problem: Problem, pairs) -> None:
    scores = score_matrix(problem)
    s_index = {s.id: i for i, s in enumerate(problem.startups)}
    m_index = {m.id: j for j, m in enumerate(problem.mentors)}
    assert len(set((s, m) for s, m, _ in pairs)) == len(pairs)  # never the same mentor twice
    for s in problem.startups:
        assert sum(1 for p in pairs if p[0] == s.id) <= problem.per_startup
    for m in problem.mentors:
        assert sum(1 for p in pairs if p[1] == m.id) <= m.capacity
    for sid, mid, _score in pairs:
        assert (sid, mid) not in problem.conflicts
        assert scores.eligible[s_index[sid], m_index[mid]]


@pytest.mark.parametrize("seed", range(12))
def test_optimal_against_brute_force(seed):
    rng = random.Random(seed)
    problem = random_problem(rng, startups=rng.randint(2, 4), mentors=rng.randint(2, 3), per_startup=rng.randint(1, 2))
    (_covered, _lex_total), best_total = brute_force(problem)
    solution = solve(problem)
    _check_feasible(problem, solution.pairs)
    assert solution.total_score == pytest.approx(best_total, abs=0.05)
    assert solution.total_score >= greedy(problem).total_score - 0.05


@pytest.mark.parametrize("seed", range(12))
def test_participation_first_covers_the_most_startups_then_scores_best(seed):
    rng = random.Random(100 + seed)
    problem = random_problem(rng, startups=rng.randint(2, 4), mentors=rng.randint(2, 3), per_startup=2)
    problem.participation_first = True
    (covered, lex_total), _best = brute_force(problem)
    solution = solve(problem)
    _check_feasible(problem, solution.pairs)
    assert len({p[0] for p in solution.pairs}) == covered
    assert solution.total_score == pytest.approx(lex_total, abs=0.05)


def test_participation_first_gives_everyone_one_before_anyone_two():
    """Two strong mentors, two startups: the best total gives both to A; participation shares them."""
    a = StartupIn(1, frozenset({"ip", "finance"}), "agri", "mvp", ("vi",))
    b = StartupIn(2, frozenset({"product"}), "edu", "idea", ("vi",))
    strong = {"expertise": frozenset({"ip", "finance"}), "industries": frozenset({"agri"}),
              "stages": frozenset({"mvp"}), "languages": frozenset({"vi"}), "capacity": 1}
    mentors = [MentorIn(10, **strong), MentorIn(11, **strong)]
    plain = solve(Problem([a, b], mentors, per_startup=2))
    assert {p[0] for p in plain.pairs} == {1}
    shared = solve(Problem([a, b], mentors, per_startup=2, participation_first=True))
    assert {p[0] for p in shared.pairs} == {1, 2}


def test_locked_pairs_are_kept_and_counted_against_capacity():
    rng = random.Random(7)
    problem = random_problem(rng, 4, 3, 2)
    for m in problem.mentors:
        m.capacity = 2
    scores = score_matrix(problem)
    i, j = divmod(int(scores.total.argmin()), len(problem.mentors))
    if not scores.eligible[i, j]:
        problem.conflicts.discard((problem.startups[i].id, problem.mentors[j].id))
        problem.startups[i].languages = tuple(problem.mentors[j].languages)[:1]
    lock = (problem.startups[i].id, problem.mentors[j].id)
    problem.locked = {lock}
    solution = solve(problem)
    assert lock in {(s, m) for s, m, _ in solution.pairs}
    _check_feasible(problem, solution.pairs)


def test_ineligible_pairs_are_never_matched():
    s = [StartupIn(1, frozenset({"ip"}), "agri", "mvp", ("ko",)),
         StartupIn(2, frozenset({"ip"}), "agri", "mvp", ("vi",))]
    m = [MentorIn(10, frozenset({"ip"}), frozenset({"agri"}), frozenset(), frozenset({"vi"}), 5),
         MentorIn(11, frozenset({"ip"}), frozenset({"agri"}), frozenset(), frozenset({"vi"}), 0)]
    solution = solve(Problem(s, m, conflicts={(2, 10)}, per_startup=2))
    assert solution.pairs == [] and solution.unmatched == [1, 2]


def test_every_pair_has_reasons_that_add_up_to_its_score():
    rng = random.Random(3)
    problem = random_problem(rng, 6, 4, 2)
    scores = score_matrix(problem)
    solution = solve(problem, scores)
    assert solution.pairs
    for sid, mid, score in solution.pairs:
        reasons = explain_pair(problem, scores, sid, mid)
        assert {r.criterion for r in reasons} == {"needs", "industry", "stage", "language", "availability",
                                                   "feedback"}
        assert sum(r.points for r in reasons) == pytest.approx(score, abs=0.05)


def test_why_a_startup_did_not_get_its_best_mentor():
    a = StartupIn(1, frozenset({"ip", "legal"}), "agri", "mvp", ("vi",))  # the star covers half its needs
    b = StartupIn(2, frozenset({"ip", "finance"}), "agri", "mvp", ("vi",))
    star = MentorIn(10, frozenset({"ip", "finance"}), frozenset({"agri"}), frozenset({"mvp"}), frozenset({"vi"}), 1)
    other = MentorIn(11, frozenset({"product"}), frozenset({"edu"}), frozenset(), frozenset({"vi"}), 1)
    problem = Problem([a, b], [star, other], per_startup=1)
    scores = score_matrix(problem)
    solution = solve(problem, scores)
    assert (2, 10) in {(s, m) for s, m, _ in solution.pairs}
    why = why_not_best(problem, scores, solution)
    assert why[1]["mentor_id"] == 10 and why[1]["given_to"] == [2] and why[1]["capacity"] == 1


@pytest.mark.parametrize(("startups", "mentors"), [(0, 0), (0, 2), (3, 0)])
def test_a_cohort_without_startups_or_mentors_matches_nobody(startups, mentors):
    rng = random.Random(1)
    problem = random_problem(rng, startups=max(startups, 1), mentors=max(mentors, 1), per_startup=2)
    problem.startups, problem.mentors = problem.startups[:startups], problem.mentors[:mentors]
    problem.conflicts = set()
    scores = score_matrix(problem)
    assert scores.total.shape == scores.gains.shape == (startups, mentors)
    solution = solve(problem, scores)
    assert solution.pairs == [] and solution.unmatched == [s.id for s in problem.startups]
    assert greedy(problem, scores).pairs == [] and why_not_best(problem, scores, solution) == {}


def test_web_workers_load_the_solver_only_when_a_matching_runs(tmp_path):
    """OR-Tools (and SciPy, networkx) stay out of a worker that has not run a matching yet."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from incubator import create_app\n"
        f"app = create_app({{'DATABASE_URL': 'sqlite:///{tmp_path / 'lazy.db'}'}})\n"
        "import incubator.mentoring.views_matching, incubator.api.mentoring_matching, incubator.mentoring.tasks\n"
        "heavy = ('ortools', 'scipy', 'networkx')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}))\n"
        "from incubator.mentoring.matching import MentorIn, Problem, StartupIn, solve\n"
        "s = StartupIn(1, frozenset({'ip'}), 'agri', 'mvp', ('vi',))\n"
        "m = MentorIn(2, frozenset({'ip'}), frozenset({'agri'}), frozenset(), frozenset({'vi'}), 1)\n"
        "assert solve(Problem([s], [m])).pairs\n"
        "print('ortools' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.split() == ["[]", "True"], done.stderr
