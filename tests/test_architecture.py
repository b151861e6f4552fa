"""The shape of the code: which package may import which.

The import graph of ``incubator/`` is read with ``ast`` (imports at module level and inside functions
both count, since a function-level import is a dependency too, only a later one). Three rules:

* no cycle between domain packages, and no domain imports ``api`` (``api`` may import any domain);
* ``core`` imports no domain and not ``api``;
* no module imports another package's views module (a blueprint module: ``views.py``, ``views_*.py``,
  ``*_views.py`` or any module that builds a blueprint), because views are the leaves of the graph.
  What several views share lives in a services or core module.

A failure prints the offending edges as ``module:line -> module`` so the next engineer knows where to look.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "incubator"
DOMAINS = ("accounts", "orgs", "admin", "cohorts", "mentoring", "booking", "payments", "intake", "reporting",
           "ledger", "webhooks", "inbox")
BLUEPRINT_FACTORIES = {"Blueprint", "org_blueprint", "api_blueprint"}


@dataclass(frozen=True)
class Edge:
    source: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line} -> {self.target}"


@dataclass
class Module:
    name: str
    is_package: bool
    tree: ast.Module

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


def load_modules(root: Path = ROOT) -> dict[str, Module]:
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        modules[name] = Module(name, is_package, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return modules


def import_edges(modules: dict[str, Module]) -> list[Edge]:
    """Every import of a module of ``incubator`` by another, wherever the import statement stands."""
    edges = []
    for module in modules.values():
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from . import x, from ..core import y
                    package = module.package.split(".")
                    package = package[: len(package) - (node.level - 1)]
                    base = ".".join(package + ([node.module] if node.module else []))
                # ``from incubator.booking import services`` imports the module booking.services
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            else:
                continue
            for target in dict.fromkeys(targets):
                while target and target not in modules:  # ``import a.b.c`` where c is an attribute
                    target = target.rpartition(".")[0]
                if target and target != module.name:
                    edges.append(Edge(module.name, node.lineno, target))
    return edges


def top_package(name: str) -> str:
    """``incubator.booking.services`` -> ``booking``; modules at the root (the factory, cli) -> ``""``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in (*DOMAINS, "core", "api")) else ""


def is_views_module(module: Module) -> bool:
    last = module.name.rpartition(".")[2]
    if last == "views" or last.startswith("views_") or last.endswith("_views"):
        return True
    for node in module.tree.body:  # a module that builds a blueprint at import time is a views module
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in BLUEPRINT_FACTORIES:
                return True
    return False


def domain_cycles(edges: list[Edge]) -> list[list[str]]:
    """The groups of domain packages that import each other in a circle (strongly connected
    components larger than one: packages that each reach the other)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        source, target = top_package(edge.source), top_package(edge.target)
        if source in DOMAINS and target in DOMAINS and source != target:
            graph[source].add(target)
    reach = {node: _reachable(graph, node) for node in list(graph)}
    components = {tuple(sorted({node} | {other for other in reach[node] if node in reach.get(other, set())}))
                  for node in reach}
    return sorted(list(c) for c in components if len(c) > 1)


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def package_edges(edges: list[Edge]) -> dict[tuple[str, str], list[Edge]]:
    found: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in edges:
        source, target = top_package(edge.source), top_package(edge.target)
        if source in DOMAINS and target in DOMAINS and source != target:
            found[source, target].append(edge)
    return found


def shortest_cycle(start: str, component: list[str], steps: dict[tuple[str, str], list[Edge]]) -> list[str]:
    """A shortest way from ``start`` back to itself inside the component (breadth first)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(t for (s, t) in steps if s == node and t in component):
            if target == start:
                return paths[node] + [start]
            if target not in paths:
                paths[target] = paths[node] + [target]
                queue.append(target)
    return [start]


def describe_cycles(components: list[list[str]], edges: list[Edge]) -> str:
    steps = package_edges(edges)
    lines = []
    for component in components:
        lines.append(f"packages {', '.join(component)} import each other in a circle:")
        cycles = {}
        for start in component:  # the shortest circle through each package, each circle once
            cycle = shortest_cycle(start, component, steps)[:-1]
            turn = cycle.index(min(cycle))
            cycles[tuple(cycle[turn:] + cycle[:turn])] = None
        for cycle in cycles:
            lines.append("  " + " -> ".join((*cycle, cycle[0])))
            for source, target in zip(cycle, (*cycle[1:], cycle[0]), strict=True):
                found = sorted(steps[source, target], key=lambda e: (e.source, e.line))
                lines.append(f"    {source} -> {target}:")
                lines += [f"      {edge}" for edge in found[:5]]
                if len(found) > 5:
                    lines.append(f"      ... and {len(found) - 5} more")
    return "\n".join(lines)


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    # The checks below are only as good as the graph: module-level, function-level, relative and
    # ``from package import module`` imports all make an edge.
    pkg = tmp_path / "incubator"
    for folder in ("booking", "payments", "core"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "booking" / "services.py").write_text("from incubator.payments import services\n")
    (pkg / "booking" / "views.py").write_text("from .services import x\n")
    (pkg / "payments" / "services.py").write_text(
        "def f():\n    import incubator.booking.services\n    from ..booking.views import helper\n")
    (pkg / "core" / "db.py").write_text("def g():\n    from incubator.booking.services import y\n")
    edges = {str(e) for e in import_edges(load_modules(pkg))}
    assert edges == {
        "incubator.booking.services:1 -> incubator.payments.services",
        "incubator.booking.views:1 -> incubator.booking.services",
        "incubator.payments.services:2 -> incubator.booking.services",
        "incubator.payments.services:3 -> incubator.booking.views",
        "incubator.core.db:2 -> incubator.booking.services",
    }
    assert domain_cycles(import_edges(load_modules(pkg))) == [["booking", "payments"]]


def test_no_cycle_between_domain_packages() -> None:
    edges = import_edges(load_modules())
    components = domain_cycles(edges)
    assert not components, "domain packages import each other in a circle:\n" + describe_cycles(components, edges)


def test_no_domain_imports_the_api() -> None:
    bad = [e for e in import_edges(load_modules())
           if top_package(e.source) in DOMAINS and top_package(e.target) == "api"]
    assert not bad, "a domain imports the API (the API calls domains, never the other way):\n" + "\n".join(
        f"  {e}" for e in bad)


def test_core_imports_no_domain() -> None:
    bad = [e for e in import_edges(load_modules())
           if top_package(e.source) == "core" and top_package(e.target) in (*DOMAINS, "api")]
    assert not bad, "core imports a domain (core is what domains lean on):\n" + "\n".join(f"  {e}" for e in bad)


def test_no_module_imports_another_packages_views() -> None:
    modules = load_modules()
    bad = [e for e in import_edges(modules)
           if is_views_module(modules[e.target]) and modules[e.source].package != modules[e.target].package]
    assert not bad, ("a module imports another package's views (move the shared helper to a services or core "
                     "module):\n" + "\n".join(f"  {e}" for e in sorted(bad, key=str)))
