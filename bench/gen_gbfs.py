"""Generate a seeded, synthetic city-wide GBFS 2.3 feed for a built network (benchmarks only).

Docking stations at random walk-layer nodes, each with random bikes and free docks (some
empty, some full), and free-floating bikes (a share of them e-bikes) at other random nodes,
(``--ebikes``, default 30 %)
all stamped ``last_updated`` = 2019-05-13 08:00 in Porto Alegre (the benchmarks' day). Not real
data: it exists so ``bench/bench_plan.py --bikeshare`` has shared bikes everywhere.

Usage::

    python bench/gen_gbfs.py --network poa.tanlu --out /tmp/poa-gbfs [--stations 300]
                             [--bikes 1000] [--ebikes 0.3]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEED = 20190513
LAST_UPDATED = 1557745200  # 2019-05-13 11:00 UTC
#: A synthetic e-bike's range (GBFS requires one for motorised vehicle types); half of it left.
E_BIKE_RANGE_M = 40000.0


def write_city_gbfs(network, out: Path, *, stations: int = 300, bikes: int = 1000,
                    ebikes: float = 0.3, seed: int = SEED) -> Path:
    """Write the feed for ``network`` into the folder ``out`` and return it; ``ebikes`` is the
    share of free bikes with electric assist (they emit, so they need a second search)."""
    walk = network.streets["walk"]
    rng = np.random.default_rng(seed)
    nodes = rng.choice(walk.n_nodes, stations + bikes, replace=False)
    lat, lon = walk.node_lat[nodes].astype(float), walk.node_lon[nodes].astype(float)
    capacity = rng.integers(8, 25, stations)
    available = np.where(rng.random(stations) < 0.1, 0, rng.integers(0, capacity + 1))
    docks = np.where(rng.random(stations) < 0.1, 0, capacity - available)
    ids = [f"st-{i}" for i in range(stations)]
    out.mkdir(parents=True, exist_ok=True)

    def dump(name: str, key: str, rows: list) -> None:
        doc = {"last_updated": LAST_UPDATED, "ttl": 60, "version": "2.3", "data": {key: rows}}
        (out / name).write_text(json.dumps(doc), encoding="utf-8")

    dump("station_information.json", "stations",
         [{"station_id": ids[i], "name": f"Station {i}", "lat": lat[i], "lon": lon[i],
           "capacity": int(capacity[i])} for i in range(stations)])
    dump("station_status.json", "stations",
         [{"station_id": ids[i], "num_bikes_available": int(available[i]),
           "num_docks_available": int(docks[i]), "is_installed": True, "is_renting": True,
           "is_returning": True, "last_reported": LAST_UPDATED} for i in range(stations)])
    electric = rng.random(bikes) < ebikes
    dump("free_bike_status.json", "bikes",
         [{"bike_id": f"b-{k}", "lat": lat[stations + k], "lon": lon[stations + k],
           "is_reserved": False, "is_disabled": False,
           "vehicle_type_id": "ebike" if electric[k] else "bike",
           **({"current_range_meters": E_BIKE_RANGE_M / 2} if electric[k] else {})}
          for k in range(bikes)])
    dump("vehicle_types.json", "vehicle_types",
         [{"vehicle_type_id": "bike", "form_factor": "bicycle", "propulsion_type": "human"},
          {"vehicle_type_id": "ebike", "form_factor": "bicycle",
           "propulsion_type": "electric_assist", "max_range_meters": E_BIKE_RANGE_M}])
    return out


def main() -> None:
    from graphs.artifact import load_network

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--bikes", type=int, default=1000)
    parser.add_argument("--ebikes", type=float, default=0.3, help="share of e-bikes (0..1)")
    args = parser.parse_args()
    out = write_city_gbfs(load_network(args.network), Path(args.out), stations=args.stations,
                          bikes=args.bikes, ebikes=args.ebikes)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
