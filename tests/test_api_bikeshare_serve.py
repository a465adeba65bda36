"""``tanlu serve --gbfs`` as a real process: a fresh feed plans shared bikes, a feed broken while
serving keeps the last good one with a notice, and an unknown city is one line and exit 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from serve_helpers import ROOT, free_port, get, serving

from tests.gbfs_feeds import write_feed

PLAN = ("/v1/plan?from=-30.0064,-51.1985&to=-30.0275,-51.2270&at=2019-05-13T08:00:00"
        "&modes=walk,bikeshare%2Btransit")
BIKE = ("b-101", -30.0070, -51.1990)


def _notes(body):
    return [leg["note"] for it in body["itineraries"] for leg in it["legs"]]


def test_serve_polls_gbfs_and_survives_a_broken_feed(poa_artifact, tmp_path):
    feed = write_feed(tmp_path / "gbfs", vehicles=[BIKE], last_updated=int(time.time()), ttl=5)
    with serving(["--network", str(poa_artifact), "--workers", "1", "--threads", "2",
                  "--gbfs", str(feed), "--gbfs-interval", "5"], tmp_path / "serve.log") as port:
        status, body = get(port, PLAN)
        answer = json.loads(body)
        assert status == 200 and "ride" in _notes(answer), answer["notices"]
        (feed / "free_bike_status.json").write_text("{broken", encoding="utf-8")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the worker polls again once the ttl is over
            status, body = get(port, PLAN)
            answer = json.loads(body)
            assert status == 200
            if any("last fetch failed" in n for n in answer["notices"]):
                break
            time.sleep(1)
        else:
            raise AssertionError(f"no fallback notice: {answer['notices']}")
        assert "ride" in _notes(answer)  # still planned with the last good snapshot
    assert "free_bike_status.json" in (tmp_path / "serve.log").read_text()  # the log line


def test_serve_refuses_an_unknown_gbfs_city(poa_artifact, tmp_path):
    feed = write_feed(tmp_path / "gbfs", vehicles=[BIKE])
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--network", str(poa_artifact),
         "--gbfs", f"nowhere={feed}", "--port", str(free_port())],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT)))
    lines = [line for line in result.stderr.strip().splitlines() if not line.endswith(" ...")]
    assert result.returncode == 2 and len(lines) == 1 and "nowhere" in lines[0], result.stderr
