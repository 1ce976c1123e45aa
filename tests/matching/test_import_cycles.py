"""Imports inside ``peermatch.matching`` run one way: no module imports, directly or through
others, one that imports it back. Every import statement counts, wherever it is written (inside a
function, under ``if TYPE_CHECKING``), so a cycle cannot hide behind a deferred import."""

from __future__ import annotations

import ast
from pathlib import Path

import peermatch.matching

PACKAGE = "peermatch.matching"
ROOT = Path(peermatch.matching.__file__).parent


def _imports(path: Path) -> set[str]:
    """The modules of the package that the file at ``path`` imports, anywhere in it."""
    names: set[str] = set()
    modules = {p.stem for p in ROOT.glob("*.py")}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x / from .x import y
                base = ".".join([PACKAGE, base]).rstrip(".")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    prefix = PACKAGE + "."
    return {n[len(prefix) :].split(".")[0] for n in names if n.startswith(prefix)} & modules


def import_graph() -> dict[str, set[str]]:
    return {p.stem: _imports(p) - {p.stem} for p in sorted(ROOT.glob("*.py"))}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (its modules, the first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for other in sorted(graph.get(module, ())):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other]
            if other not in state and (cycle := visit(other)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def test_the_finder_sees_cycles_through_function_level_imports(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = "def f():\n    from peermatch.matching.branch import Search\n"
    (tmp_path / "heuristics.py").write_text(source)
    assert "branch" in _imports(tmp_path / "heuristics.py")


def test_no_import_cycle_among_matching_modules():
    graph = import_graph()
    assert {"solver", "branch", "heuristics", "objective", "seats"} <= set(graph)
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])
