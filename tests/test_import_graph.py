"""The package's import graph: which of its modules import which, read from the source.

Every ``import sitefinder...`` and ``from sitefinder... import ...`` counts, at module level,
inside functions and under ``TYPE_CHECKING`` alike: a function-level import only hides a circle
from the interpreter, and a type-only one still ties the two modules' designs together.
"""

from __future__ import annotations

import ast
from collections import deque
from itertools import pairwise
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sitefinder"

Graph = dict[str, dict[str, int]]
"""Each module's imports of the package's modules, with the line of the first."""


def _module_names(root: Path) -> dict[str, Path]:
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def import_graph(root: Path = PACKAGE) -> Graph:
    """The modules of the package at ``root`` and what each imports of it (``from a import b``
    is module ``a.b`` where that is a module, else ``a``)."""
    modules = _module_names(root)

    def owner(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph: Graph = {name: {} for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                module = node.module
                targets = [
                    f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module
                    for a in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                found = owner(target) if target.split(".")[0] == root.name else ""
                if found and found != name:
                    graph[name].setdefault(found, node.lineno)
    return graph


def circles(graph: Graph) -> list[list[str]]:
    """The graph's strongly connected components of two modules or more (import circles),
    each sorted, smallest first (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(graph[step]))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found, key=lambda c: (len(c), c))


def path(graph: Graph, start: str, end: str) -> list[str]:
    """The shortest chain of imports from ``start`` to ``end`` (empty: none)."""
    before: dict[str, str] = {start: ""}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for step in sorted(graph[node]):
            if step not in before:
                before[step] = node
                if step == end:
                    chain = [end]
                    while chain[-1] != start:
                        chain.append(before[chain[-1]])
                    return chain[::-1]
                queue.append(step)
    return []


def said(graph: Graph, component: list[str]) -> str:
    """A circle in words: one loop through its first module, each import with its line."""
    first = component[0]
    inside = {m: {t: line for t, line in graph[m].items() if t in component} for m in component}
    loops = [path(inside, step, first) for step in sorted(inside[first])]
    loop = [first, *min((found for found in loops if found), key=len)]
    steps = [f"{a} (line {graph[a][b]}) -> {b}" for a, b in pairwise(loop)]
    return f"{', '.join(component)}: " + "; ".join(steps)


# Circles left as they are, each a set of modules (a circle found must lie within one of these).
KNOWN = [
    # for a type only: fallback's where_unplaced reads an Instance, which instance builds from
    # fallback's rows
    {"sitefinder.fallback", "sitefinder.instance"},
]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph()


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        # authorities reads its problems with validate's Problems; neither may reach back to
        # the scenario that uses them (check_extent is given the files, not config.Inputs)
        ("sitefinder.validate", "sitefinder.config"),
        ("sitefinder.authorities", "sitefinder.config"),
        # the run's tables are built in published; report only writes them
        ("sitefinder.published", "sitefinder.report"),
    ],
)
def test_the_named_circles_are_broken(graph, lower, upper):
    assert path(graph, upper, lower), f"{upper} no longer imports {lower}: the test is stale"
    chain = path(graph, lower, upper)
    assert not chain, f"{lower} reaches {upper} again: {' -> '.join(chain)}"


def test_no_new_import_circle(graph):
    new = [c for c in circles(graph) if not any(set(c) <= known for known in KNOWN)]
    assert not new, "import circles:\n" + "\n".join(said(graph, c) for c in new)


def test_the_finder_finds_a_circle_and_says_it(tmp_path):
    # A package of four modules: a -> b -> c -> a (c only inside a function, b only for
    # types), and d -> a outside the circle.
    root = tmp_path / "pkg"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from pkg.b import thing\n")
    (root / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import c\n"
    )
    (root / "c.py").write_text("def f():\n    import pkg.a\n")
    (root / "d.py").write_text("import pkg.a\nimport os\n")
    found = import_graph(root)
    assert found["pkg.b"] == {"pkg.c": 3} and found["pkg.d"] == {"pkg.a": 1}
    assert circles(found) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert said(found, ["pkg.a", "pkg.b", "pkg.c"]) == (
        "pkg.a, pkg.b, pkg.c: pkg.a (line 1) -> pkg.b; pkg.b (line 3) -> pkg.c;"
        " pkg.c (line 2) -> pkg.a"
    )
    assert path(found, "pkg.d", "pkg.c") == ["pkg.d", "pkg.a", "pkg.b", "pkg.c"]
    assert path(found, "pkg.a", "pkg.d") == []
