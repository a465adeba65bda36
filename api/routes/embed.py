"""The embeddable map page (/embed) for city websites' iframes, and its security headers."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request

from .._crs_out import convert_answer
from ..embed_view import plan_to_view, reach_to_view
from ..errors import request_language
from ..i18n import localize_answer, ui_strings
from ..params import parse_bool, parse_plan_params, parse_reach_params
from ..reach_geojson import reach_to_geojson
from ..state import AppState, ready_state

__all__ = ["blueprint", "content_security_policy"]

blueprint = Blueprint("embed", __name__)


@blueprint.get("/embed")
def embed() -> str:
    """The page; ``crs`` is the system of ``from``/``to``, and the route is drawn in the tiles'
    system (``TANLU_TILE_CRS``), converted here so that the page's script only draws."""
    state = ready_state()
    source = request.args.to_dict(flat=True)
    if parse_bool(source.get("reach", "false"), "reach"):
        return _reach_page(state, source)
    options = parse_plan_params(source, coverage=state.coverage, tz=state.timezone,
                                allow_unknown=True)
    lang = request_language()
    if "methodology" in options:  # only those the operator allows, as on /v1/plan
        options["methodology"] = state.choose_methodology(options["methodology"])
    tile_crs = current_app.config["TANLU_TILE_CRS"]
    view = convert_answer(plan_to_view(state.plan(options), lang=lang), tile_crs)
    return render_template("embed.html", lang=lang, ui=ui_strings(lang), view=view,
                           tiles={"url": current_app.config["TANLU_TILE_URL"],
                                  "attribution": current_app.config["TANLU_TILE_ATTRIBUTION"],
                                  "crs": tile_crs})


def _reach_page(state: AppState, source: dict[str, str]) -> str:
    """``/embed?reach=1&from=..&minutes=..``: the reach map's bands drawn on the map, by time
    or by CO2e (the /v1/reach parameters; plan-only ones such as ``to`` are ignored)."""
    options = parse_reach_params(source, coverage=state.coverage, tz=state.timezone,
                                 allow_unknown=True)
    options.pop("nodes", None)
    lang = request_language()
    ui = ui_strings(lang)
    tile_crs = current_app.config["TANLU_TILE_CRS"]
    answer = localize_answer(convert_answer(reach_to_geojson(state.reach(options)), tile_crs),
                             lang)
    view = reach_to_view(answer, lang=lang, ui=ui)
    ui["reach_title"] = ui["reach_title"].format(minutes=f"{view['minutes']:g}")
    return render_template("embed_reach.html", lang=lang, ui=ui, view=view,
                           tiles={"url": current_app.config["TANLU_TILE_URL"],
                                  "attribution": current_app.config["TANLU_TILE_ATTRIBUTION"],
                                  "crs": tile_crs})


@blueprint.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy(
        tile_url=current_app.config["TANLU_TILE_URL"],
        frame_ancestors=current_app.config["TANLU_FRAME_ANCESTORS"])
    response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def content_security_policy(*, tile_url: str, frame_ancestors: str) -> str:
    """Scripts and styles only from this server; images also from the tile server."""
    return "; ".join((
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # Leaflet positions tiles with inline styles
        f"img-src 'self' data: {_tile_origin(tile_url)}".rstrip(),
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ))


def _tile_origin(tile_url: str) -> str:
    """``https://{s}.tile.osm.org/{z}/{x}/{y}.png`` -> ``https://*.tile.osm.org``."""
    if tile_url.startswith("/"):
        return ""
    parts = urlsplit(tile_url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}"
