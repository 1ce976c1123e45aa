"""Imports across ``peermatch`` run one way: no module imports, directly or through others, one
that imports it back (imports inside functions count), so every job has one owner. The staffing
workflow is layered: the lifecycle imports no other staffing module, and no service imports
the page layer."""

from __future__ import annotations

import ast
from pathlib import Path

import peermatch

ROOT = Path(peermatch.__file__).parent


def _module(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = {_module(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, *([base] if base else [])])
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            for target in targets:
                # A package and its own modules are one unit (an __init__ re-exporting).
                if target in files and not (
                    target.startswith(name + ".") or name.startswith(target + ".")
                ):
                    found.add(target)
        graph[name] = found - {name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
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


def test_the_finder_sees_a_cycle_through_an_import_inside_a_function(tmp_path):
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    package = tmp_path / "peermatch"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "one.py").write_text("from peermatch import two\n")
    (package / "two.py").write_text("def f():\n    from peermatch.one import x\n")
    graph = import_graph(package)
    assert find_cycle(graph) == ["peermatch.one", "peermatch.two", "peermatch.one"]


def test_no_import_cycle_anywhere_in_peermatch():
    graph = import_graph()
    assert {
        "peermatch.staffing.lifecycle",
        "peermatch.matching.branch",
        "peermatch.matching.heuristics",
    } <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_lifecycle_is_the_bottom_of_the_workflow_and_services_never_word_pages():
    graph = import_graph()
    assert not {m for m in graph["peermatch.staffing.lifecycle"] if ".staffing." in m}
    for module, imports in graph.items():
        if module.startswith("peermatch.staffing."):
            assert not {m for m in imports if m.startswith("peermatch.web")}, module
