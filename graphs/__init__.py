"""Build layer: street layers from OSM, timetables from GTFS, emission factors, the artifact."""
from __future__ import annotations

from .artifact import load_network, read_manifest, save_network
from .build import build_network
from .calendar import services_active_on, trips_active_on
from .errors import (ArtifactError, FactorTableError, GraphsError, GtfsError, InputFileError,
                     OsmError, TanluError)
from .export import export_network, street_layer_to_graph
from .factors import PRESETS, FactorTable, factor_table_from_dict, load_factor_table
from .modes import MODES, Mode, route_type_to_mode
from .network import ChargingStations, Network, StreetLayer, Timetable
from .streets import build_streets
from .timetable import compile_timetable

__all__ = [
    "ArtifactError", "ChargingStations", "FactorTable", "FactorTableError", "GraphsError",
    "GtfsError", "InputFileError", "MODES", "Mode", "Network", "OsmError", "PRESETS",
    "StreetLayer", "TanluError", "Timetable", "build_network", "build_streets",
    "compile_timetable", "export_network", "factor_table_from_dict", "load_factor_table",
    "load_network", "read_manifest", "route_type_to_mode", "save_network",
    "services_active_on", "street_layer_to_graph", "trips_active_on",
]
