"""With ``lang=zh`` nothing a person reads in an answer or the embed is English.

Every string value of several zh answers (a plan, points answers, errors of each kind) and the
embed page's text is scanned for ASCII words; only machine fields (codes, ids, modes, times,
polylines), data (street and stop names from OSM/GTFS) and an allowlist of symbols (units,
parameter names, standard names such as ISO 8601) may hold them.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from api.app import create_app
from api.params import PLAN_PARAMETERS
from api.routes.v1 import POINTS_TRIP_KEYS
from graphs.modes import ALL_MODE_NAMES, MODES

ORIGIN = "31.4923,120.2913"
FAR = "31.5200,120.3700"
WHEN = "2019-05-07T12:00:00"

#: Keys whose values are for machines or are data, not UI text.
MACHINE_KEYS = {"code", "field", "mode", "modes", "transit_modes", "route_id", "trip_id",
                "stop_id", "rules_id", "rule", "factor_table", "points_rules", "tags",
                "co2e_factor", "method", "crs", "departure", "arrival", "at", "polyline6",
                "type", "request_id", "headsign", "route_short_name", "name", "grid",
                "methodology"}
#: ASCII words allowed in human text: units, symbols, parameter and standard names.
ALLOWED = ({"km", "g", "kg", "CO", "CO2e", "WGS84", "ISO", "JSON", "API", "HTTP", "true",
            "false", "lat", "lon", "crs", "wgs84", "gcj02", "bd09", "tanlu", "OpenStreetMap",
            "Leaflet", "X-API-Key", "Retry-After", "zh", "en", "distance_m", "min"}
           | set(ALL_MODE_NAMES) | set(MODES)                    # mode codes
           | {p.name for p in PLAN_PARAMETERS} | set(POINTS_TRIP_KEYS))   # parameter names
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def english_words(text: str, extra: set[str] = frozenset()) -> list[str]:
    return [w for w in WORD.findall(text) if w not in ALLOWED | extra and len(w) > 1
            and not re.fullmatch(r"[A-Za-z]+\d[\w-]*|T\d.*", w)]


def walk(node, path="$"):
    """(path, string) for every human string of a JSON answer."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in MACHINE_KEYS and key != "name":
                continue
            if key == "name":   # data, but never the planner's English fallbacks
                assert value not in ("Origin", "Destination"), path
                continue
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk(item, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


@pytest.fixture(scope="module")
def client(wuxi_network):
    return create_app({"TESTING": True, "TANLU_LOADED_NETWORK": wuxi_network}).test_client()


def _params(**extra):
    return {"from": ORIGIN, "to": FAR, "at": WHEN, "lang": "zh", **extra}


CASES = {
    "plan": ("get", _params(modes="walk,transit"), 200),
    "plan_notices": ("get", _params(modes="walk,transit", at="2019-05-06T08:00:00"), 200),
    "plan_car": ("get", _params(modes="walk,bike,car_petrol"), 200),
    "bad_from": ("get", _params(**{"from": "abc"}), 400),
    "bad_at": ("get", _params(at="yesterday"), 400),
    "at_out_of_service": ("get", _params(at="2030-01-01T08:00:00", modes="transit"), 400),
    "unknown_mode": ("get", _params(modes="hovercraft"), 400),
    "outside_bbox": ("get", _params(to="31.0,121.5"), 422),
    "no_route": ("get", _params(modes="bus", maxWalkDistance="0"), 422),
    "bad_crs": ("get", _params(crs="utm"), 400),
    "unknown_parameter": ("get", _params(colour="red"), 400),
    "bad_json": ("post_raw", b"{not json", 400),
    "points_trip": ("points", {"from": ORIGIN, "to": FAR, "at": WHEN, "mode": "bike",
                               "lang": "zh"}, 200),
    "points_legs": ("points", {"legs": [{"mode": "bus", "distance_m": 3000}], "lang": "zh"},
                    200),
    "points_zero": ("points", {"legs": [{"mode": "car_petrol", "distance_m": 3000}],
                               "lang": "zh"}, 200),
    "not_found": ("get_path", "/v1/nothing?lang=zh", 404),
}


def _ids(client) -> set[str]:
    plan = client.get("/v1/plan", query_string=_params(modes="walk")).get_json()
    return {w for key in ("points_rules", "factor_table", "methodology", "grid")
            for w in WORD.findall(str(plan.get(key) or ""))}


@pytest.mark.parametrize("case", sorted(CASES))
def test_zh_answers_have_no_english(client, case):
    how, payload, status = CASES[case]
    if how == "get":
        response = client.get("/v1/plan", query_string=payload)
    elif how == "points":
        response = client.post("/v1/points", json=payload)
    elif how == "post_raw":
        response = client.post("/v1/plan?lang=zh", data=payload,
                               content_type="application/json")
    else:
        response = client.get(payload)
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    # what the request itself said (echoed values, the path) and ids (rules, factor table)
    sent = set(WORD.findall(str(payload))) | {"docs"} | _ids(client)
    found = {path: english_words(text, sent) for path, text in walk(body)}
    found = {path: words for path, words in found.items() if words}
    assert not found, found
    if status >= 400:
        assert re.search(r"[\u4e00-\u9fff]", body["error"]["message"])


def test_zh_notices_and_explanations_are_chinese(client):
    plan = client.get("/v1/plan", query_string=_params(modes="walk,transit",
                                                       at="2019-05-06T08:00:00")).get_json()
    assert plan["notices"], "this query has a notice to translate"
    assert all(re.search(r"[\u4e00-\u9fff]", n) for n in plan["notices"])
    for it in plan["itineraries"]:
        assert re.search(r"[\u4e00-\u9fff]", it["points"]["explanation"])
    english = client.get("/v1/plan", query_string=_params(
        lang="en", modes="walk,transit", at="2019-05-06T08:00:00")).get_json()
    assert english["notices"][0].startswith("no transit")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


@pytest.mark.parametrize("query", [_params(modes="walk,transit"), _params(**{"from": "abc"})])
def test_zh_embed_page_has_no_english(client, query):
    page = client.get("/embed", query_string=query).get_data(as_text=True)
    parser = _Text()
    parser.feed(page)
    text = " ".join(parser.parts)
    # the route short names and stop names on the page are data, as in the JSON answer
    plan = client.get("/v1/plan", query_string=query).get_json()
    data = {w for it in plan.get("itineraries", []) for leg in it["legs"]
            for field in (leg["route_short_name"], leg["headsign"], leg["from"]["name"],
                          leg["to"]["name"]) if field for w in WORD.findall(field)}
    data |= _ids(client) | set(WORD.findall(str(query)))   # ids and the request's own words
    data |= set(WORD.findall(client.application.config["TANLU_TILE_ATTRIBUTION"]))  # config
    assert not english_words(text, data), english_words(text, data)
    assert re.search(r"[\u4e00-\u9fff]", text)
