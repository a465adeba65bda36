"""What a newcomer meets first: audit outputs are git-ignored, the README's embed URL shows the
bus options and its budget formula reproduces its own table."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from planner import model

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", [
    "results.parquet", "results.parquet.errors.csv", "errors.csv", "summary.json",
    "report.html", "results.parquet.parts/chunk-000000.parquet", "out/audit/summary.json"])
def test_audit_outputs_are_git_ignored(path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
    assert done.returncode == 0, f"{path} is not ignored"


def test_readme_embed_url_asks_for_transit():
    urls = re.findall(r"<(http://127\.0\.0\.1:8000/embed\?[^>]+)>", README)
    assert urls
    for url in urls:
        modes = parse_qs(urlparse(url).query)["modes"][0].split(",")
        assert "transit" in modes


def test_readme_budget_matches_its_table():
    """Recompute the budget from the table's fastest arrival and the requested time."""
    requested = re.search(r"--at \d{4}-\d\d-\d\dT(\d\d):(\d\d)", README)
    fastest = re.search(r"^fastest\s+\S+\s+(\d\d):(\d\d):(\d\d)", README, re.MULTILINE)
    stated = float(re.search(r"time budget ([\d.]+) min", README).group(1))
    h, m = map(int, requested.groups())
    ah, am, asec = map(int, fastest.groups())
    elapsed_min = ((ah * 3600 + am * 60 + asec) - (h * 3600 + m * 60)) / 60
    budget = max(model.BUDGET_FACTOR * elapsed_min, elapsed_min + model.BUDGET_SLACK_S / 60)
    assert budget == pytest.approx(stated, abs=0.05)
    assert f"{budget:.1f}" in README.split("time budget", 1)[1]
