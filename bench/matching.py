"""Benchmark: match 2,000 startups (2 mentors each) with 600 mentors (capacity 1 to 5).

    .venv/bin/python bench/matching.py [--startups N] [--mentors M] [--seed S]

The input is generated with a fixed seed. ``seconds`` is the time to score every pair and solve
the optimum (what a manager waits for); ``solve_seconds`` is the optimisation alone. The last line
is a JSON object; ``greedy_total_score`` is the first-come-first-served baseline on the same input.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incubator.mentoring.matching import MentorIn, Problem, StartupIn, greedy, score_matrix, solve  # noqa: E402

TAGS = ["go_to_market", "fundraising", "product", "technology", "finance", "legal", "ip", "marketing", "export",
        "manufacturing", "operations", "hiring", "sales", "reporting", "execution", "design"]
INDUSTRIES = ["agritech", "edtech", "healthtech", "logistics", "manufacturing", "cleantech", "fintech", "retail"]
STAGES = ["idea", "prototype", "mvp", "revenue", "growth"]
LANGUAGES = ["vi", "en", "ko", "ja"]


def generate(startups: int, mentors: int, seed: int) -> Problem:
    rng = random.Random(seed)

    def hours() -> frozenset[int]:
        day = rng.randrange(7)
        start = rng.randrange(1, 12)
        return frozenset(day * 24 + start + h for h in range(rng.randrange(2, 6)))

    s_list = [StartupIn(id=i, needs=frozenset(rng.sample(TAGS, rng.randrange(1, 4))),
                        industry=rng.choice(INDUSTRIES), stage=rng.choice(STAGES),
                        languages=("vi", "en") if rng.random() < 0.7 else (rng.choice(LANGUAGES),),
                        availability=hours() if rng.random() < 0.6 else frozenset())
              for i in range(1, startups + 1)]
    m_list = [MentorIn(id=10_000 + j, expertise=frozenset(rng.sample(TAGS, rng.randrange(2, 6))),
                       industries=frozenset(rng.sample(INDUSTRIES, rng.randrange(1, 4))),
                       stages=frozenset(rng.sample(STAGES, rng.randrange(0, 3))),
                       languages=frozenset({"vi"} | set(rng.sample(LANGUAGES, rng.randrange(0, 3)))),
                       capacity=rng.randint(1, 5), availability=hours() | hours(),
                       rating=round(rng.uniform(2.5, 5), 1) if rng.random() < 0.8 else None)
              for j in range(mentors)]
    conflicts = {(rng.randint(1, startups), 10_000 + rng.randrange(mentors)) for _ in range(startups // 10)}
    return Problem(startups=s_list, mentors=m_list, conflicts=conflicts, per_startup=2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--startups", type=int, default=2000)
    parser.add_argument("--mentors", type=int, default=600)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    problem = generate(args.startups, args.mentors, args.seed)
    started = time.perf_counter()
    scores = score_matrix(problem)
    solve_started = time.perf_counter()
    solution = solve(problem, scores)
    finished = time.perf_counter()
    baseline = greedy(problem, scores)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pairs {len(solution.pairs)}, startups without a mentor {len(solution.unmatched)}, "
          f"greedy pairs {len(baseline.pairs)}", file=sys.stderr)
    print(json.dumps({
        "startups": args.startups, "mentors": args.mentors, "seconds": round(finished - started, 3),
        "solve_seconds": round(finished - solve_started, 3), "peak_mb": round(peak_mb, 1),
        "total_score": solution.total_score, "greedy_total_score": baseline.total_score,
    }))


if __name__ == "__main__":
    main()
