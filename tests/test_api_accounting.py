"""Carbon accounting over HTTP: the grid, methodology and rules every answer names."""
from __future__ import annotations

import pytest

from api.app import create_app
from graphs.factors import load_grid


@pytest.fixture(scope="module")
def client(poa_network):
    return create_app({"TESTING": True, "TANLU_NETWORK": poa_network}).test_client()


def test_factors_name_the_grid_and_its_clause(client):
    table = client.get("/v1/factors").get_json()
    grid = table["grid"]
    national = load_grid("national")
    assert grid["label"] == national.label == "cn-mee-nbs-2023/national"
    assert grid["g_per_kwh"] == 530.6 and grid["verified"] is True and "0.5306" in grid["clause"]
    car_bev = table["factors"]["car_bev"]
    assert car_bev["inputs"]["grid_g_per_kwh"]["grid"] is True
    assert car_bev["g_per_pkm"] == pytest.approx(0.15 * grid["g_per_kwh"], abs=0.0051)
