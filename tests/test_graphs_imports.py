"""The build layer's modules import each other without cycles (issue 14, item 3).

Imports under ``if TYPE_CHECKING:`` count too: a cycle hidden there still ties two modules.
"""
from __future__ import annotations

import ast
from pathlib import Path

GRAPHS = Path(__file__).resolve().parent.parent / "graphs"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
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
