"""Public charging piles as evidence for EV points: a pile list and the pile nearest a trip's end."""
from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from graphs.geodesy import haversine_m
from graphs.network import ChargingStations

from .errors import PileListError

__all__ = [
    "DEFAULT_PILE_DISTANCE_M",
    "Pile",
    "PileEvidence",
    "PileList",
    "load_pile_csv",
    "piles_from_stations",
    "pile_evidence",
]

#: How far from the trip's destination (or origin) a public pile may be to count as evidence that
#: the EV was charged there. A tanlu default (a car park's size), not a published rule: programmes
#: set their own (``TANLU_PILE_DISTANCE_M``, ``--pile-distance``).
DEFAULT_PILE_DISTANCE_M = 200.0
_CSV_COLUMNS = ("id", "name", "lat", "lon")


@dataclass(frozen=True)
class Pile:
    """One public charging pile (or station), with the list it comes from."""

    id: str
    name: str
    lat: float
    lon: float
    operator: str = ""
    source: str = ""


@dataclass(frozen=True)
class PileEvidence:
    """The pile that makes an EV trip eligible: which one, how far, at which end of the trip."""

    pile: Pile
    distance_m: float
    end: str  # "destination" or "origin"

    def to_dict(self) -> dict[str, object]:
        return {"id": self.pile.id, "name": self.pile.name, "operator": self.pile.operator,
                "lat": self.pile.lat, "lon": self.pile.lon, "source": self.pile.source,
                "distance_m": self.distance_m, "end": self.end}


@dataclass(frozen=True, eq=False)
class PileList:
    """Piles as arrays (query-side: no geometry library), searched by great-circle distance."""

    ids: np.ndarray        # str (n,)
    names: np.ndarray      # str (n,)
    operators: np.ndarray  # str (n,)
    lat: np.ndarray        # float64 (n,)
    lon: np.ndarray        # float64 (n,)
    source: str            # "osm amenity=charging_station" or the operator file's name

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def nearest(self, lat: float, lon: float) -> tuple[Pile, float] | None:
        """The pile nearest (lat, lon) and its distance in metres; None for an empty list."""
        if not len(self):
            return None
        distances = haversine_m(lat, lon, self.lat, self.lon)
        i = int(np.argmin(distances))
        pile = Pile(id=str(self.ids[i]), name=str(self.names[i]), lat=float(self.lat[i]),
                    lon=float(self.lon[i]), operator=str(self.operators[i]), source=self.source)
        return pile, float(distances[i])


def piles_from_stations(stations: ChargingStations) -> PileList:
    """The artifact's OSM charging stations as a pile list (ids ``osm:node/<n>``, ``osm:way/<n>``)."""
    ids = np.array([f"osm:node/{i}" if i >= 0 else f"osm:way/{-i}" for i in stations.osmid.tolist()],
                   dtype=str)
    return PileList(ids=ids, names=stations.name.astype(str), operators=stations.operator.astype(str),
                    lat=stations.lat.astype(np.float64), lon=stations.lon.astype(np.float64),
                    source="osm amenity=charging_station")


def load_pile_csv(path: str | os.PathLike[str]) -> PileList:
    """An operator's pile list: a UTF-8 CSV with ``id,name,lat,lon`` (and optional ``operator``).

    Raises
    ------
    PileListError
        If the file is missing, lacks a column, or a row has an empty id, a duplicate id or a
        coordinate out of range; the message names the row number (header = row 1).
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in _CSV_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise PileListError(f"{path}: missing column {missing[0]!r} (need "
                                    f"{', '.join(_CSV_COLUMNS)}; optional operator)")
            rows = [_row(row, number, path) for number, row in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise PileListError(f"{path}: no such pile list") from None
    except (UnicodeDecodeError, csv.Error) as err:
        raise PileListError(f"{path}: not a UTF-8 CSV file ({err})") from err
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        if row[0] in seen:
            raise PileListError(f"{path}: row {number}: duplicate id {row[0]!r} (first on row "
                                f"{seen[row[0]]})")
        seen[row[0]] = number
    columns = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return PileList(ids=np.array(columns[0], dtype=str), names=np.array(columns[1], dtype=str),
                    operators=np.array(columns[4], dtype=str),
                    lat=np.array(columns[2], dtype=np.float64),
                    lon=np.array(columns[3], dtype=np.float64), source=f"operator list {path.name}")


def pile_evidence(piles: PileList, *, origin: tuple[float, float],
                  destination: tuple[float, float],
                  max_distance_m: float = DEFAULT_PILE_DISTANCE_M) -> PileEvidence | None:
    """The pile within ``max_distance_m`` of the destination (preferred) or the origin, or None.

    ``origin`` and ``destination`` are (lat, lon). The destination comes first: charging where
    the car is parked is the programme's scenario; the origin covers a trip home from the pile.
    """
    for end, (lat, lon) in (("destination", destination), ("origin", origin)):
        found = piles.nearest(lat, lon)
        if found is not None and found[1] <= max_distance_m:
            return PileEvidence(pile=found[0], distance_m=found[1], end=end)
    return None


def _row(row: dict[str, str | None], number: int, path: Path) -> tuple[str, str, float, float, str]:
    pile_id = (row.get("id") or "").strip()
    if not pile_id:
        raise PileListError(f"{path}: row {number}: empty id")
    coords = []
    for name, limit in (("lat", 90.0), ("lon", 180.0)):
        text = (row.get(name) or "").strip()
        try:
            value = float(text)
        except ValueError:
            raise PileListError(f"{path}: row {number}: {name} {text!r} is not a number") from None
        if not math.isfinite(value) or abs(value) > limit:
            raise PileListError(f"{path}: row {number}: {name} {value} is outside "
                                f"[-{limit:g}, {limit:g}]")
        coords.append(value)
    return (pile_id, (row.get("name") or "").strip(), coords[0], coords[1],
            (row.get("operator") or "").strip())
