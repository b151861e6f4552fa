"""The optimum of a matching as a min-cost flow, on a pruned graph whose optimality is then proven.

Nodes: the source, one per startup, one per mentor, the sink. Arcs: source -> startup (its places),
startup -> mentor (one per eligible pair, cost minus the pair's score), mentor -> sink (its free
places), and source -> sink for the units nobody can take. Every array stays in NumPy.

A cohort of 10,000 startups and 3,000 mentors has some 25 million eligible pairs, nearly all of
which no optimum uses. So the flow is first solved on a few arcs per startup and per mentor (the
best-scoring ones), and the result is checked against *every* eligible pair with LP duality: the
node potentials of the optimal flow (shortest distances in its residual graph) give each pair left
out a reduced cost; if none is negative, the flow is optimal for the whole graph (the reduced-cost
optimality conditions hold on every arc). Otherwise the offending pairs are added and the flow
solved again, until none is left (column generation). The answer is thus the optimum of the full
problem, whatever the pruning kept; the pruning only decides how fast it is reached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

FlowSolver = Callable[["Network"], np.ndarray]  # a network -> the flow on each of its arcs, optimal

KEEP_PER_STARTUP = 4  # best-scoring mentors kept per startup beyond its places, before the check
KEEP_PER_MENTOR = 10  # best-scoring startups kept per mentor beyond its places
ROWS_PER_BLOCK = 1024  # startups priced at a time over the whole matrix
MAX_ROUNDS = 30  # pricing rounds before every eligible pair is put in (never reached in practice)


@dataclass
class Network:
    node_count: int
    tails: np.ndarray  # int32
    heads: np.ndarray  # int32
    caps: np.ndarray  # int64
    costs: np.ndarray  # int64
    supply: int  # at the source (node 0); the sink (last node) takes as much
    pair_start: int  # arcs pair_start.. are the startup -> mentor ones, in the order of rows, cols
    rows: np.ndarray  # int32 startup row of each pair arc
    cols: np.ndarray  # int32 mentor row of each pair arc

    @property
    def supplies(self) -> np.ndarray:
        out = np.zeros(self.node_count, dtype=np.int64)
        out[0], out[-1] = self.supply, -self.supply
        return out


@dataclass
class Frame:
    """The arcs that do not depend on which pairs are in: source -> startups, mentors -> sink, source -> sink."""

    s_count: int
    m_count: int
    tails: np.ndarray
    heads: np.ndarray
    caps: np.ndarray
    costs: np.ndarray
    supply: int


def frame(want: np.ndarray, room: np.ndarray, first_bonus: np.ndarray | None) -> Frame:
    """``want`` places per startup, ``room`` per mentor; ``first_bonus`` (per startup, or None) is the
    gain of its first mentor (participation first): its first place is then an arc of its own."""
    s_count, m_count = len(want), len(room)
    startups = np.nonzero(want > 0)[0]
    mentors = np.nonzero(room > 0)[0]
    tails = [np.zeros(len(startups), dtype=np.int64)]
    heads = [1 + startups]
    caps = [want[startups]]
    costs = [np.zeros(len(startups), dtype=np.int64)]
    if first_bonus is not None:
        first = startups[first_bonus[startups] > 0]
        caps[0] = caps[0] - (first_bonus[startups] > 0)
        tails.append(np.zeros(len(first), dtype=np.int64))
        heads.append(1 + first)
        caps.append(np.ones(len(first), dtype=np.int64))
        costs.append(-first_bonus[first])
    supply = int(want[startups].sum())
    tails += [1 + s_count + mentors, np.zeros(1, dtype=np.int64)]
    heads += [np.full(len(mentors), 1 + s_count + m_count), np.full(1, 1 + s_count + m_count)]
    caps += [room[mentors], np.full(1, supply)]
    costs += [np.zeros(len(mentors) + 1, dtype=np.int64)]
    return Frame(s_count, m_count, np.concatenate(tails).astype(np.int32), np.concatenate(heads).astype(np.int32),
                 np.concatenate(caps).astype(np.int64), np.concatenate(costs).astype(np.int64), supply)


def network(base: Frame, rows: np.ndarray, cols: np.ndarray, gains: np.ndarray) -> Network:
    """The frame plus one arc per pair (``rows[k]``, ``cols[k]``) of gain ``gains[k]`` (cost -gain)."""
    return Network(
        node_count=2 + base.s_count + base.m_count,
        tails=np.concatenate([base.tails, (1 + rows).astype(np.int32)]),
        heads=np.concatenate([base.heads, (1 + base.s_count + cols).astype(np.int32)]),
        caps=np.concatenate([base.caps, np.ones(len(rows), dtype=np.int64)]),
        costs=np.concatenate([base.costs, -gains.astype(np.int64)]),
        supply=base.supply, pair_start=len(base.tails), rows=rows.astype(np.int32), cols=cols.astype(np.int32))


def ortools_flows(net: Network) -> np.ndarray:
    """The optimal flow by OR-Tools' cost-scaling min-cost flow (C++), fed the arrays as they are."""
    from ortools.graph.python import min_cost_flow  # loaded when a matching runs: ~20 MB a process spares

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(net.tails, net.heads, net.caps, net.costs)
    flow.set_nodes_supplies(np.arange(net.node_count, dtype=np.int32), net.supplies)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("matching: the flow problem has no optimal solution")
    return np.asarray(flow.flows(arcs), dtype=np.int64)


def potentials(net: Network, flows: np.ndarray) -> np.ndarray:
    """LP duals of the flow constraints for an optimal ``flows``: minus the shortest distances in the
    residual graph from a virtual root joined to every node (Bellman-Ford, one NumPy pass per round)."""
    forward, backward = flows < net.caps, flows > 0
    tails = np.concatenate([net.tails[forward], net.heads[backward]])
    heads = np.concatenate([net.heads[forward], net.tails[backward]])
    costs = np.concatenate([net.costs[forward], -net.costs[backward]])
    distance = np.zeros(net.node_count, dtype=np.int64)
    for _round in range(net.node_count + 1):
        relaxed = distance.copy()
        np.minimum.at(relaxed, heads, distance[tails] + costs)
        if np.array_equal(relaxed, distance):
            return -distance
        distance = relaxed
    raise RuntimeError("matching: the flow is not optimal (a negative cycle is left)")


def _blocks(count: int, size: int = ROWS_PER_BLOCK) -> Iterator[slice]:
    for start in range(0, count, size):
        yield slice(start, min(start + size, count))


def _best(gains: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Mask of each row's ``keep[row]`` best usable entries (gain >= 0; ties broken anyhow)."""
    out = np.zeros(gains.shape, dtype=bool)
    widest = min(int(keep.max(initial=0)), gains.shape[1])
    if widest <= 0:
        return out
    if widest < gains.shape[1]:
        top = np.argpartition(gains, gains.shape[1] - widest, axis=1)[:, gains.shape[1] - widest:]
    else:
        top = np.broadcast_to(np.arange(gains.shape[1]), gains.shape)
    ranked = np.take_along_axis(top, np.argsort(-np.take_along_axis(gains, top, axis=1), axis=1), axis=1)
    np.put_along_axis(out, ranked, np.arange(widest)[None, :] < keep[:, None], axis=1)
    return out & (gains >= 0)


def initial_pairs(gains: np.ndarray, want: np.ndarray, room: np.ndarray) -> np.ndarray:
    """A boolean startups x mentors mask: each startup's best mentors and each mentor's best startups."""
    s_count, m_count = gains.shape
    chosen = np.zeros((s_count, m_count), dtype=bool)
    for rows in _blocks(s_count):
        chosen[rows] = _best(gains[rows], np.where(want[rows] > 0, want[rows] + KEEP_PER_STARTUP, 0))
    for cols in _blocks(m_count, 128):
        keep = np.where(room[cols] > 0, room[cols] + KEEP_PER_MENTOR, 0)
        chosen[:, cols] |= _best(np.ascontiguousarray(gains[:, cols].T), keep).T
    return chosen


def _arcs(chosen: np.ndarray, gains: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows, cols = np.nonzero(chosen)
    return rows, cols, gains[rows, cols]


def optimise(base: Frame, gains: np.ndarray, want: np.ndarray, room: np.ndarray,
             solver: FlowSolver = ortools_flows) -> tuple[Network, np.ndarray]:
    """The optimal flow over every usable pair, solved on few and proven over all (see the module's doc).

    ``gains`` is startups x mentors, int32: a pair's gain (its score x 100), -1 where it may not be matched."""
    s_count, m_count = gains.shape
    chosen = initial_pairs(gains, want, room)
    for _round in range(MAX_ROUNDS):
        net = network(base, *_arcs(chosen, gains))
        flows = solver(net)
        y = potentials(net, flows)
        y_startup, y_mentor = y[1:1 + s_count], y[1 + s_count:1 + s_count + m_count]
        missing = 0
        for block in _blocks(s_count):
            # A left-out pair's arc has reduced cost -gain - y_startup + y_mentor: negative, it would pay.
            g = gains[block]
            better = (g + (y_startup[block, None] - y_mentor[None, :]) > 0) & (g >= 0) & ~chosen[block]
            missing += int(np.count_nonzero(better))
            chosen[block] |= better
        if not missing:
            return net, flows
    net = network(base, *_arcs(gains >= 0, gains))  # a safety net: the whole graph, optimal by construction
    return net, solver(net)
