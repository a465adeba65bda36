"""Build layer: street layers from OSM, timetables from GTFS, emission factors, the artifact."""
from __future__ import annotations

from .artifact import load_network, read_manifest, save_network
from .errors import (ArtifactError, FactorTableError, GraphsError, GtfsError, InputFileError,
                     OsmError, TanluError)
from .modes import MODES, Mode, route_type_to_mode
from .network import ChargingStations, Network, StreetLayer, Timetable

__all__ = [
    "ArtifactError", "ChargingStations", "FactorTableError", "GraphsError", "GtfsError",
    "InputFileError", "MODES", "Mode", "Network", "OsmError", "StreetLayer", "TanluError",
    "Timetable", "load_network", "read_manifest", "route_type_to_mode", "save_network",
]
