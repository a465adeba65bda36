"""The layers import only downwards: graphs <- planner <- audit <- api."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "graphs": {"planner", "audit", "api", "flask"},
    "planner": {"audit", "api", "flask"},
    "audit": {"api", "flask"},
}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_upper_layers(package):
    offenders = {}
    for path in (ROOT / package).rglob("*.py"):
        bad = _imported_top_levels(path) & FORBIDDEN[package]
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_check_itself_sees_imports(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("import flask\nfrom api.app import create_app\nfrom .x import y\n")
    assert _imported_top_levels(sample) == {"flask", "api"}
