"""Audit claims of shared bikes (``bikeshare``, ``bikeshare+metro``) planned like queries."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from audit.evaluate import PlannerEvaluator, TripInput
from audit.schema import claimed_access_modes, claimed_mode_to_query_modes
from graphs.artifact import save_network
from graphs.gbfs import read_gbfs_documents
from graphs.modes import parse_modes

FIXTURE = Path(__file__).parent / "fixtures" / "gbfs_poa"


def test_claims_name_their_access_modes():
    parts = parse_modes("共享单车+地铁")
    assert parts == ("bikeshare", "metro")
    assert claimed_mode_to_query_modes(parts) == (frozenset({"bikeshare", "transit"}),
                                                  frozenset({"metro"}))
    assert claimed_access_modes(parts) == {"bikeshare"}
    assert claimed_access_modes(parse_modes("bike+rail")) == {"bike"}
    assert claimed_access_modes(parse_modes("bikeshare")) == frozenset()  # no transit
    assert claimed_access_modes(parse_modes("walk+bus")) == frozenset()


@pytest.fixture(scope="module")
def evaluator(poa_network, tmp_path_factory):
    baked = dataclasses.replace(poa_network, gbfs_files=read_gbfs_documents(FIXTURE / "v2.3"))
    path = save_network(baked, tmp_path_factory.mktemp("gbfs") / "poa-gbfs.tanlu")
    return PlannerEvaluator.for_network(path)


def _claim(evaluator, mode):
    started = pd.Timestamp("2019-05-13 08:00", tz="America/Sao_Paulo")
    return evaluator(TripInput(row=0, started_at=started, ended_at=started + pd.Timedelta("40min"),
                               origin_lat=-30.0064, origin_lon=-51.1985, dest_lat=-30.0275,
                               dest_lon=-51.2270, claimed_mode=mode))


def test_bikeshare_plus_rail_claim_is_the_combined_trip(evaluator):
    combined = _claim(evaluator, "bikeshare+rail")
    assert combined["status"] == "ok"
    modes = combined["itinerary_modes"].split("+")
    assert "bikeshare" in modes and "rail" in modes
    assert modes.index("bikeshare") < modes.index("rail")  # ridden to the station
    walked = _claim(evaluator, "walk+rail")
    assert "bikeshare" not in walked["itinerary_modes"]
    assert combined["expected_duration_s"] < walked["expected_duration_s"]


def test_bikeshare_claim_is_a_shared_ride(evaluator):
    shared = _claim(evaluator, "bikeshare")
    assert shared["status"] == "ok"
    assert shared["itinerary_modes"] == "walk+bikeshare+bikeshare+bikeshare"
