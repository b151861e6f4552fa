"""Benchmark: match 2,000 startups (2 mentors each) with 600 mentors (capacity 1 to 5).

    .venv/bin/python bench/matching.py [--startups N] [--mentors M] [--seed S]
        [--solver ortools|highs|networkx] [--compare] [--check auto|always|never]

The input is generated with a fixed seed. ``seconds`` is the time to score every pair and solve
the optimum (what a manager waits for); ``solve_seconds`` is the optimisation alone;
``cpu_seconds`` is the process's CPU time over the same span (less swayed than the wall clock by
other work on a shared machine); ``peak_mb`` is
the process's peak resident memory right after it (the product's path: generating the input,
scoring, solving). The last line is a JSON object.

* ``--solver`` puts another min-cost-flow solver inside the product's path (pruned flow, checked by
  duality over every pair, see ``incubator.mentoring.flow``): OR-Tools (what the product uses),
  SciPy's HiGHS (``linprog``: the transportation LP is totally unimodular, so its optimum is
  integral) or networkx's ``network_simplex``.
* ``--compare`` runs each solver in a child process of its own on the same instance and reports its
  ``seconds``/``solve_seconds``/``peak_mb``/``total_score`` under ``"compare"``.
* ``optimal_total_score`` comes from an independent solve in a child process (its memory is not in
  ``peak_mb``), on the *unpruned* network: every eligible pair an arc, no pruning, no duality check.
  Up to HIGHS_CHECK_PAIRS pairs it is HiGHS's dual simplex (another algorithm and library than the
  product's); above, where HiGHS takes more than ten minutes and GBs, it is OR-Tools on the whole
  graph, which checks the pruning and the duality check rather than OR-Tools (``check_solver`` says
  which). ``--check auto`` runs it up to CHECK_AUTO_PAIRS pairs, ``always`` anyway.
* ``greedy_total_score`` is the first-come-first-served baseline, run after ``peak_mb`` is taken.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from incubator.mentoring import flow  # noqa: E402
from incubator.mentoring.matching import SCALE, MentorIn, Problem, StartupIn, greedy, score_matrix, solve  # noqa: E402

TAGS = ["go_to_market", "fundraising", "product", "technology", "finance", "legal", "ip", "marketing", "export",
        "manufacturing", "operations", "hiring", "sales", "reporting", "execution", "design"]
INDUSTRIES = ["agritech", "edtech", "healthtech", "logistics", "manufacturing", "cleantech", "fintech", "retail"]
STAGES = ["idea", "prototype", "mvp", "revenue", "growth"]
LANGUAGES = ["vi", "en", "ko", "ja"]
SOLVERS = ("ortools", "highs", "networkx")
CHECK_AUTO_PAIRS = 40_000_000  # the unpruned check needs some 3 GB at 30 million pairs
HIGHS_CHECK_PAIRS = 2_000_000  # HiGHS on the unpruned LP: seconds at 1.2 million pairs, > 10 min at 7.5 million


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


# -- the other solvers, fed the same network ------------------------------------------------------------

def incidence(net: flow.Network):  # noqa: ANN201 - a SciPy sparse array
    """Node x arc incidence (+1 at the tail, -1 at the head): ``A @ flows == supplies``."""
    import scipy.sparse as sp

    arcs = np.arange(len(net.tails))
    return sp.csc_array((np.concatenate([np.ones(len(arcs)), -np.ones(len(arcs))]),
                         (np.concatenate([net.tails, net.heads]), np.concatenate([arcs, arcs]))),
                        shape=(net.node_count, len(arcs)))


def highs_flows(net: flow.Network) -> np.ndarray:
    from scipy.optimize import linprog

    result = linprog(net.costs, A_eq=incidence(net), b_eq=net.supplies,
                     bounds=np.stack([np.zeros(len(net.caps)), net.caps], axis=1), method="highs-ds")
    if result.status != 0:
        raise RuntimeError(f"HiGHS: {result.message}")
    return np.rint(result.x).astype(np.int64)


def networkx_flows(net: flow.Network) -> np.ndarray:
    import networkx as nx

    graph = nx.MultiDiGraph()
    supplies = net.supplies
    graph.add_nodes_from((node, {"demand": -int(supplies[node])}) for node in range(net.node_count))
    graph.add_edges_from((int(t), int(h), k, {"capacity": int(c), "weight": int(w)}) for k, (t, h, c, w) in
                         enumerate(zip(net.tails, net.heads, net.caps, net.costs, strict=True)))
    _cost, flow_dict = nx.network_simplex(graph)
    out = np.zeros(len(net.tails), dtype=np.int64)
    for heads in flow_dict.values():
        for keyed in heads.values():
            for key, value in keyed.items():
                out[key] = value
    return out


FLOW_SOLVERS = {"ortools": flow.ortools_flows, "highs": highs_flows, "networkx": networkx_flows}


def independent_optimum(problem: Problem) -> tuple[float, str]:
    """The optimum over the *unpruned* network (every eligible pair an arc, no duality check): by HiGHS's
    dual simplex up to HIGHS_CHECK_PAIRS pairs, by OR-Tools above (HiGHS needs minutes and GBs there)."""
    scores = score_matrix(problem)
    rows, cols = np.nonzero(scores.eligible)
    gains = np.rint(scores.total[rows, cols].astype(np.float64) * SCALE)
    del scores
    want = np.full(len(problem.startups), problem.per_startup)
    room = np.array([m.capacity for m in problem.mentors])
    net = flow.network(flow.frame(want, room, None), rows, cols, gains)
    del rows, cols, gains
    if len(problem.startups) * len(problem.mentors) > HIGHS_CHECK_PAIRS:
        return round(-int(net.costs @ flow.ortools_flows(net)) / SCALE, 2), "ortools, unpruned"
    from scipy.optimize import linprog

    result = linprog(net.costs, A_eq=incidence(net), b_eq=net.supplies,
                     bounds=np.stack([np.zeros(len(net.caps)), net.caps], axis=1), method="highs-ds")
    if result.status != 0:
        raise RuntimeError(f"HiGHS: {result.message}")
    return round(-float(result.fun) / SCALE, 2), "highs dual simplex, unpruned"


def child(args: argparse.Namespace, *extra: str, timeout: float) -> dict[str, object]:
    """This script again in a process of its own (its own peak memory), its last line read back."""
    command = [sys.executable, __file__, "--startups", str(args.startups), "--mentors", str(args.mentors),
               "--seed", str(args.seed), *extra]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM belongs to the process's own memory map; ru_maxrss
    would, in a child started by ``child``, also count the parent's memory at the fork (Linux keeps
    that high-water mark across exec)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(args: argparse.Namespace) -> dict[str, object]:
    problem = generate(args.startups, args.mentors, args.seed)
    started, cpu_started = time.perf_counter(), time.process_time()
    scores = score_matrix(problem)
    solve_started = time.perf_counter()
    solution = solve(problem, scores, FLOW_SOLVERS[args.solver])
    finished, cpu_finished = time.perf_counter(), time.process_time()
    peak_mb = peak_rss_mb()
    out: dict[str, object] = {
        "startups": args.startups, "mentors": args.mentors, "solver": args.solver,
        "seconds": round(finished - started, 3), "solve_seconds": round(finished - solve_started, 3),
        "cpu_seconds": round(cpu_finished - cpu_started, 3),
        "peak_mb": round(peak_mb, 1), "total_score": solution.total_score, "pairs": len(solution.pairs),
        "unmatched": len(solution.unmatched)}
    if not args.no_baseline:
        out["greedy_total_score"] = greedy(problem, scores).total_score
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--startups", type=int, default=2000)
    parser.add_argument("--mentors", type=int, default=600)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--solver", choices=SOLVERS, default="ortools")
    parser.add_argument("--compare", action="store_true", help="each solver in a child process, same instance")
    parser.add_argument("--check", choices=("auto", "always", "never"), default="auto")
    parser.add_argument("--timeout", type=float, default=600, help="seconds for each child process")
    parser.add_argument("--no-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--independent", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.independent:
        optimum, how = independent_optimum(generate(args.startups, args.mentors, args.seed))
        print(json.dumps({"optimal_total_score": optimum, "check_solver": how}))
        return
    out = measure(args)
    if args.compare:
        out["compare"] = {name: child(args, "--solver", name, "--check", "never", "--no-baseline",
                                      timeout=args.timeout) for name in SOLVERS}
    pairs = args.startups * args.mentors
    if args.check == "always" or (args.check == "auto" and pairs <= CHECK_AUTO_PAIRS):
        checked = child(args, "--independent", timeout=args.timeout)
        out["optimal_total_score"] = checked.get("optimal_total_score")
        out["check_solver"] = checked.get("check_solver")
        if "error" in checked:
            out["check_error"] = checked["error"]
    elif args.check == "never":
        out["optimal_total_score"] = None
    else:
        out["optimal_total_score"] = None
        out["check_skipped"] = f"{pairs} pairs > {CHECK_AUTO_PAIRS}: --check always runs it"
    if out["optimal_total_score"] is not None:
        out["optimal"] = abs(float(out["total_score"]) - float(out["optimal_total_score"])) < 0.005  # type: ignore[arg-type]
    print(f"pairs {out['pairs']}, startups without a mentor {out['unmatched']}", file=sys.stderr)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
