"""Build layer: street layers from OSM, timetables from GTFS, emission factors, the artifact.

Only the query-side modules (errors, modes, network, artifact, factors, calendar) load with the
package; the build stack (osmium, osmnx, geopandas, tqdm: ``build``, ``streets``, ``export``,
``timetable``) loads when one of its names is first used, so ``import planner`` and the API
and audit workers stay light.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

from .artifact import load_network, read_manifest, save_network
from .calendar import services_active_on, trips_active_on
from .errors import (
    ArtifactError,
    FactorTableError,
    GraphsError,
    GtfsError,
    InputFileError,
    OsmError,
    TanluError,
)
from .factors import PRESETS, FactorTable, factor_table_from_dict, load_factor_table
from .modes import MODES, Mode, route_type_to_mode
from .network import ChargingStations, Network, StreetLayer, Timetable

#: Build-only names, imported from their module on first use.
_LAZY = {
    "build_network": ".build", "build_streets": ".streets", "compile_timetable": ".timetable",
    "export_network": ".export", "street_layer_to_graph": ".export",
}

__all__ = [
    "MODES",
    "PRESETS",
    "ArtifactError",
    "ChargingStations",
    "FactorTable",
    "FactorTableError",
    "GraphsError",
    "GtfsError",
    "InputFileError",
    "Mode",
    "Network",
    "OsmError",
    "StreetLayer",
    "TanluError",
    "Timetable",
    "build_network",
    "build_streets",
    "compile_timetable",
    "export_network",
    "factor_table_from_dict",
    "load_factor_table",
    "load_network",
    "read_manifest",
    "route_type_to_mode",
    "save_network",
    "services_active_on",
    "street_layer_to_graph",
    "trips_active_on",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
