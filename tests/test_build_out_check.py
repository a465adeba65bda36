"""``tanlu build --out`` into a missing or unwritable place fails before the build (issue 16)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from api.cli import main


@pytest.mark.parametrize("where", ["missing folder", "a folder", "a file as folder"])
def test_build_out_unwritable_fails_at_once(sample_dir: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture, where: str) -> None:
    (tmp_path / "plain").write_text("x")
    out = {"missing folder": tmp_path / "nope" / "city.tanlu",
           "a folder": tmp_path,
           "a file as folder": tmp_path / "plain" / "city.tanlu"}[where]
    start = time.perf_counter()
    code = main(["build", "--sample", "porto-alegre", "--sample-dir", str(sample_dir),
                 "--out", str(out), "--quiet"])
    elapsed = time.perf_counter() - start
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "--out" in err[0]
    assert elapsed < 5, "the check must run before the ~25 s build"
    assert not out.exists() or out.is_dir()
