"""Value objects of a plan: query, places, legs, itineraries, baseline, points and the plan."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Query", "Place", "Leg", "Itinerary", "Baseline", "PointsAward", "Plan"]

#: Default options; named so that the CLI, the HTTP API and the docs quote one value.
WALK_SPEED_MPS = 1.33      # about 4.8 km/h, the usual planner default (OTP: 1.33 m/s)
BIKE_SPEED_MPS = 4.2       # about 15 km/h
EBIKE_SPEED_MPS = 5.5      # about 20 km/h
MAX_WALK_M = 1_500.0       # per access/egress/transfer walk
MAX_TRANSFERS = 4
MAX_SNAP_M = 500.0
BUDGET_FACTOR = 1.5        # recommendation may take up to 1.5 x the fastest ...
BUDGET_SLACK_S = 15 * 60   # ... or the fastest + 15 min, whichever is larger
# The car is not offered unless asked for: it is the baseline every option is measured against,
# and a carbon-inclusion app recommends among the low-carbon ways (OTP's default is walk+transit).
DEFAULT_MODES = frozenset({"walk", "bike", "transit"})
BASELINE_MODE = "car_petrol"
#: People sharing a car leg (合乘): its CO2e is divided among them. DB11/T 3043-2024 3.1 bounds a
#: small passenger car (小型载客汽车) at 9 occupants.
PASSENGERS = 1
MAX_PASSENGERS = 9
MAX_WINDOW_S = 180 * 60   # longest departure window


@dataclass(frozen=True)
class Query:
    """A door-to-door trip request, already validated (see ``planner.query``).

    ``when`` is timezone-aware, in the network's timezone. ``modes`` holds mode names from
    ``graphs.modes`` plus ``"transit"`` (every transit mode); ``transit_modes`` narrows transit.
    """

    origin_lat: float
    origin_lon: float
    destination_lat: float
    destination_lon: float
    when: datetime
    arrive_by: bool = False
    modes: frozenset[str] = DEFAULT_MODES
    transit_modes: frozenset[str] | None = None
    walk_speed_mps: float = WALK_SPEED_MPS
    bike_speed_mps: float = BIKE_SPEED_MPS
    max_walk_m: float = MAX_WALK_M
    max_transfers: int = MAX_TRANSFERS
    max_snap_m: float = MAX_SNAP_M
    budget_factor: float = BUDGET_FACTOR
    budget_slack_s: float = BUDGET_SLACK_S
    time_budget_s: float | None = None  # explicit budget overrides factor/slack
    ebike_speed_mps: float = EBIKE_SPEED_MPS
    # the traveller's electric car (car_bev) was charged at a public charging pile: its trips
    # then earn points against the petrol baseline (the phase-two scenario of planner.points)
    charged_at_public_pile: bool = False
    # people sharing each car leg (carpool, 合乘): the leg's CO2e is divided by it
    passengers: int = PASSENGERS
    # departure window: also plan every departure up to this many seconds after ``when``
    # (depart-at only; ``planner.window``); 0 plans the one departure time
    window_s: float = 0.0
    # street modes reaching transit besides walking (``bike+transit`` -> {"bike"},
    # ``bikeshare+transit`` -> {"bikeshare"}); see ``graphs.modes.parse_trip_modes``,
    # ``planner.access`` and ``planner.bikeshare``
    access_modes: frozenset[str] = frozenset()
    # car access modes (``car_petrol+transit``...) drop the traveller at the station
    # (kiss-and-ride) instead of parking; see ``planner.park_ride``
    drop_off: bool = False


@dataclass(frozen=True)
class Place:
    """A leg end: a named point, with the transit stop id where there is one.

    ``ref`` names the place in its source where it is not a stop: ``osm:node/123`` for an OSM
    parking, a pile list's id for a charging pile.
    """

    name: str
    lat: float
    lon: float
    stop_id: str | None = None
    ref: str | None = None
    station_id: str | None = None  # GBFS station_id of a bike-share station (planner.bikeshare)


@dataclass(frozen=True)
class Leg:
    """One part of a trip on one mode. ``geometry`` is a tuple of (lon, lat) pairs."""

    mode: str
    from_place: Place
    to_place: Place
    departure: datetime
    arrival: datetime
    distance_m: float
    co2e_g: float
    co2e_g_per_pkm: float
    co2e_factor: str          # which factor produced co2e_g: a factor-table key or "emissions.txt"
    geometry: tuple[tuple[float, float], ...]
    route_id: str | None = None
    route_short_name: str | None = None
    headsign: str | None = None
    trip_id: str | None = None
    # with realtime data (``realtime``): departure/arrival are the expected times, these the
    # timetable's; None without realtime data
    scheduled_departure: datetime | None = None
    scheduled_arrival: datetime | None = None
    realtime: bool = False
    # what happens where the leg ends: "park" (bike or car parked), "charge" (EV left at a
    # pile), "drop-off" (dropped at the station); see planner.access and planner.park_ride;
    # "rent", "ride", "return": the three legs of a shared bike (planner.bikeshare)
    note: str | None = None
    vehicle_id: str | None = None  # GBFS vehicle_id of a free-floating shared vehicle

    @property
    def duration_s(self) -> float:
        return (self.arrival - self.departure).total_seconds()

    @property
    def departure_delay_s(self) -> float | None:
        """Expected minus scheduled departure (None without realtime data)."""
        if self.scheduled_departure is None:
            return None
        return (self.departure - self.scheduled_departure).total_seconds()

    @property
    def arrival_delay_s(self) -> float | None:
        """Expected minus scheduled arrival (None without realtime data)."""
        if self.scheduled_arrival is None:
            return None
        return (self.arrival - self.scheduled_arrival).total_seconds()


@dataclass(frozen=True)
class Baseline:
    """The same trip by private car: what reductions and points are measured against.

    Built only by ``planner.baseline``. ``method`` says how: ``"car_network"`` (fastest path on
    the driving layer), ``"crow_fly_detour"`` (straight line x detour factor, when no car path
    exists), ``"same_distance"`` (given legs' total distance by car; no duration) or
    ``"given"`` (measured by the caller: ``co2e_g`` only, no mode, duration or factor).
    """

    mode: str | None
    distance_m: float
    duration_s: float | None
    co2e_g: float
    co2e_g_per_pkm: float | None
    method: str


@dataclass(frozen=True)
class PointsAward:
    """Points one itinerary earns under a rule set, and why."""

    points: float
    reduction_g: float
    rules_id: str
    rule: str                 # the rule (scheme) that applied, e.g. "per_gram" or "flat_per_ride"
    capped: bool = False
    explanation: str = ""
    # the points shared among the itinerary's legs, in leg order, summing to ``points``
    # (``planner.points.share_points``); () where no legs were given
    per_leg: tuple[float, ...] = ()


@dataclass(frozen=True)
class Itinerary:
    """A door-to-door option: legs in order and their totals."""

    legs: tuple[Leg, ...]
    co2e_g: float
    distance_m: float
    transfers: int
    reduction_g: float
    points: PointsAward
    tags: frozenset[str] = field(default_factory=frozenset)  # fastest / lowest_carbon / recommended
    reduction_explanation: str = ""  # how the methodology reached reduction_g
    pile: Any = None  # planner.piles.PileEvidence: the public pile that made a car_bev leg eligible

    @property
    def departure(self) -> datetime:
        return self.legs[0].departure

    @property
    def arrival(self) -> datetime:
        return self.legs[-1].arrival

    @property
    def duration_s(self) -> float:
        return (self.arrival - self.departure).total_seconds()

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(leg.mode for leg in self.legs)


@dataclass(frozen=True)
class Plan:
    """The answer to a query: Pareto-optimal itineraries, the car baseline, provenance."""

    query: Query
    itineraries: tuple[Itinerary, ...]
    baseline: Baseline
    recommended: int          # index into itineraries
    fastest: int
    lowest_carbon: int
    time_budget_s: float
    factor_table: str         # "<id>@<version>"
    points_rules: str         # "<id>@<version>"
    notices: tuple[str, ...] = ()  # e.g. "no transit: date outside the feeds' service dates"
    methodology: str = ""     # "<id>@<version>" of the carbon-accounting methodology
    grid: str = ""            # "<grid set>/<grid>" of the factor table, "" if it has none
