"""The build layer's modules import each other without cycles (issue 14, item 3).

Module-level imports count, including those under ``if TYPE_CHECKING:`` (a cycle hidden there
still ties two modules). Imports deferred inside a function body are not counted
(``errors.ModeError`` imports ``modes`` that way).
"""
from __future__ import annotations

import ast
from pathlib import Path

GRAPHS = Path(__file__).resolve().parent.parent / "graphs"


def _imports(path: Path) -> set[str]:
    names = set()
    module_level = []
    todo = list(ast.parse(path.read_text()).body)
    while todo:  # the module body and nested if/try blocks, not function or class bodies
        node = todo.pop()
        module_level.append(node)
        if isinstance(node, (ast.If, ast.Try)):
            todo.extend(node.body + node.orelse + getattr(node, "finalbody", [])
                        + [s for h in getattr(node, "handlers", []) for s in h.body])
    for node in module_level:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("graphs."):
            names.add(node.module.split(".")[1])
    return names


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module], _ = 1, stack.append(module)
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep in graph and dep not in state and (found := visit(dep)):
                return found
        state[module], _ = 2, stack.pop()
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_cycle_finder_finds_a_planted_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_graphs_has_no_import_cycle() -> None:
    graph = {p.stem: _imports(p) for p in GRAPHS.glob("*.py")}
    assert _cycle(graph) is None
