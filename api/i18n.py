"""Messages in English and Simplified Chinese, and choosing the language of a request."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from graphs.modes import MODES
from planner.itineraries import DESTINATION_NAME, ORIGIN_NAME

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "normalize_language", "choose_language",
           "message", "ui_strings", "mode_label", "coded_text", "localize_answer",
           "place_name", "leg_end_label"]

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"

#: Error messages by error code; ``{field}`` and the other placeholders come from the error.
_MESSAGES: dict[str, dict[str, str]] = {
    "missing_parameter": {
        "en": "{field} is required",
        "zh": "缺少必填参数 {field}",
    },
    "unknown_parameter": {
        "en": "unknown parameter {field}; allowed: {allowed}",
        "zh": "未知参数 {field}；可用参数：{allowed}",
    },
    "invalid_coordinates": {
        "en": "{field} must be \"lat,lon\" in degrees (in the system named by crs, WGS84 by "
              "default) with latitude in [-90, 90] and longitude in [-180, 180], got {value}",
        "zh": "{field} 须为 \"纬度,经度\"（单位为度，坐标系由 crs 指定，默认 WGS84），纬度在 "
              "[-90, 90]、经度在 [-180, 180] 之间，收到 {value}",
    },
    "invalid_number": {
        "en": "{field} must be a number between {min} and {max}{unit}, got {value}",
        "zh": "{field} 须为 {min} 到 {max}{unit} 之间的数字，收到 {value}",
    },
    "invalid_integer": {
        "en": "{field} must be a whole number between {min} and {max}{unit}, got {value}",
        "zh": "{field} 须为 {min} 到 {max}{unit} 之间的整数，收到 {value}",
    },
    "invalid_boolean": {
        "en": "{field} must be true or false, got {value}",
        "zh": "{field} 须为 true 或 false，收到 {value}",
    },
    "invalid_datetime": {
        "en": "{field} must be an ISO 8601 date and time such as 2019-05-06T08:30:00-03:00, "
              "got {value}",
        "zh": "{field} 须为 ISO 8601 日期时间，例如 2019-05-06T08:30:00-03:00，收到 {value}",
    },
    "date_out_of_service": {
        "en": "{field} {value} is outside the service dates of this network ({first} to {last})",
        "zh": "{field} {value} 不在本路网的服务日期内（{first} 至 {last}）",
    },
    "unknown_mode": {
        "en": "{field}: unknown mode {value}; allowed: {allowed}",
        "zh": "{field}：未知出行方式 {value}；可选：{allowed}",
    },
    "invalid_list": {
        "en": "{field} must be a comma-separated list of at most {max} names, got {value}",
        "zh": "{field} 须为以逗号分隔、最多 {max} 项的列表，收到 {value}",
    },
    "invalid_language": {
        "en": "{field} must be one of {allowed}, got {value}",
        "zh": "{field} 须为 {allowed} 之一，收到 {value}",
    },
    "invalid_crs": {
        "en": "{field} must be a coordinate system: one of {allowed}, got {value}",
        "zh": "{field} 须为坐标系 {allowed} 之一，收到 {value}",
    },
    "invalid_legs": {
        "en": "{field} must be a list of 1 to {max} legs, each {{\"mode\": ..., "
              "\"distance_m\": 0 to {max_distance_m}}}",
        "zh": "{field} 须为包含 1 至 {max} 段行程的列表，每段为 {{\"mode\": ..., "
              "\"distance_m\": 0 至 {max_distance_m}}}",
    },
    "invalid_parameter": {
        "en": "{field}: {detail}",
        "zh": "参数 {field} 无效：{detail}",
    },
    "methodology_not_allowed": {
        "en": "{field}: methodology {value} is not allowed on this server; allowed: {allowed}",
        "zh": "{field}：本服务不允许使用核算方法学 {value}；可用：{allowed}",
    },
    "outside_coverage": {
        "en": "{field} lies outside the area this server covers: {detail}",
        "zh": "{field} 超出本服务覆盖范围：{detail}",
    },
    "no_route": {
        "en": "no itinerary matches these modes and limits: {detail}",
        "zh": "在所选出行方式与限制下没有可行路线：{detail}",
    },
    "invalid_json": {
        "en": "the request body is not valid JSON: {detail}",
        "zh": "请求体不是有效的 JSON：{detail}",
    },
    "body_not_object": {
        "en": "the request body must be a JSON object",
        "zh": "请求体须为 JSON 对象",
    },
    "payload_too_large": {
        "en": "the request body is larger than {limit} bytes",
        "zh": "请求体超过 {limit} 字节",
    },
    "not_found": {
        "en": "no such resource: {path}; see /docs",
        "zh": "资源不存在：{path}；请参阅 /docs",
    },
    "method_not_allowed": {
        "en": "method {method} is not allowed on {path}; allowed: {allowed}",
        "zh": "{path} 不支持 {method} 方法；允许：{allowed}",
    },
    "bad_request": {
        "en": "bad request: {detail}",
        "zh": "请求无效：{detail}",
    },
    "http_error": {
        "en": "HTTP error {status}",
        "zh": "HTTP 错误 {status}",
    },
    "not_ready": {
        "en": "no network is loaded yet; retry later",
        "zh": "路网尚未加载，请稍后重试",
    },
    "unknown_city": {
        "en": "no city {value} on this server; cities: {allowed}",
        "zh": "本服务没有城市 {value}；可用城市：{allowed}",
    },
    "missing_api_key": {
        "en": "an API key is required: send it in the X-API-Key header",
        "zh": "需要 API 密钥：请在 X-API-Key 请求头中提供",
    },
    "invalid_api_key": {
        "en": "the API key is not known to this server",
        "zh": "API 密钥无效",
    },
    "rate_limited": {
        "en": "too many requests ({detail}); retry after the time in Retry-After",
        "zh": "请求过于频繁（{detail}）；请在 Retry-After 所示时间后重试",
    },
    "uri_too_long": {
        "en": "the request line is longer than {limit} bytes",
        "zh": "请求行超过 {limit} 字节",
    },
    "headers_too_large": {
        "en": "the request headers are too many or too long",
        "zh": "请求头过多或过长",
    },
    "internal_error": {
        "en": "internal error; it has been logged",
        "zh": "服务器内部错误，已记录",
    },
}

#: Chinese texts of the planner's coded messages (``planner.errors.CodedText`` and the
#: ``code``/``params`` of planner exceptions): the planner says them in English, the edge here.
_CODED_ZH: dict[str, str] = {
    "outside_network": "坐标 {lat:.5f},{lon:.5f} 距最近可用道路 {distance_m:.0f} 米，超过允许的 "
                       "{max_snap_m:g} 米{swapped_zh}",
    "date_outside_service": "日期 {date} 不在公交时刻表的服务日期内（{first} 至 {last}）",
    "no_route": "出行方式 {modes_zh} 均无可行路线{notices_zh}",
    "no_timetable": "无公交：本路网没有时刻表",
    "reach_street_co2e": "排放因子表为 {mode} 设定了排放量；可达范围图按 0 g 计算步行和骑行",
    "no_transit_date": "无公交：日期 {date} 不在服务日期内（{first} 至 {last}）",
    "no_transit_journey": "步行 {max_walk_m:g} 米范围内，{date} 没有{faster_zh}公交方案",
    "no_gbfs": "无共享单车：本路网没有 GBFS 数据（tanlu build --gbfs 或 tanlu serve --gbfs）",
    "no_gbfs_window": "出发时间窗内不规划共享单车",
    "bikeshare_snapshot": "共享单车可用量取自 {when} UTC 的快照，假定查询时仍然如此",
    "bikeshare_skipped": "{count} 辆共享车辆（{key}）未纳入：排放因子表没有该因子",
    "gbfs_fallback": "共享单车：最近一次获取失败，使用 {when} 的数据",
    "gbfs_unavailable": "共享单车暂不可用（GBFS 数据无法获取）",
    "bbox": "{lat:.6f},{lon:.6f} 不在本路网范围内（纬度 {south:.4f}..{north:.4f}，经度 "
            "{west:.4f}..{east:.4f}，外加 {snap_m:g} 米）{swapped_zh}",
}
_SWAPPED_ZH = "；是否把纬度和经度写反了？"
_PLACE_ZH = {ORIGIN_NAME: "起点", DESTINATION_NAME: "终点"}
#: What happens where a leg ends (``Leg.note``, planner.access / park_ride / bike_on_board).
_LEG_END = {"park": {"en": "park", "zh": "停车"}, "charge": {"en": "charge", "zh": "充电"},
            "drop-off": {"en": "drop-off", "zh": "送站下车"},
            "on-board": {"en": "bike on board", "zh": "自行车随车"}}
_DETAIL = re.compile(r"[：:]?\s*[（(]?\{detail\}[）)]?")

#: Text of the embeddable page.
_UI: dict[str, dict[str, str]] = {
    "title": {"en": "Low-carbon trip", "zh": "低碳出行路线"},
    "recommended": {"en": "Recommended", "zh": "推荐"},
    "fastest": {"en": "Fastest", "zh": "最快"},
    "lowest_carbon": {"en": "Lowest carbon", "zh": "最低碳"},
    "minutes": {"en": "min", "zh": "分钟"},
    "co2e": {"en": "CO₂e", "zh": "碳排放"},
    "car_baseline": {"en": "by car", "zh": "驾车"},
    "saves": {"en": "saves", "zh": "减排"},
    "vs_car": {"en": "vs. driving", "zh": "较驾车"},
    "car_trip": {"en": "Same trip by petrol car", "zh": "同一行程驾驶燃油车"},
    "baseline_note": {"en": "baseline for CO₂e savings and points",
                      "zh": "碳减排与积分的计算基准"},
    "legend": {"en": "Legend", "zh": "图例"},
    "how_computed": {"en": "How CO₂e is computed", "zh": "碳排放计算方法"},
    "factors": {"en": "emission factors", "zh": "排放因子"},
    "rules": {"en": "points rules", "zh": "积分规则"},
    "grid": {"en": "grid", "zh": "电网"},
    "methodology": {"en": "methodology", "zh": "核算方法学"},
    "map_data": {"en": "Map data", "zh": "地图数据"},
    "points": {"en": "points", "zh": "积分"},
    "alternatives": {"en": "Options", "zh": "方案"},
    "transfers": {"en": "transfers", "zh": "次换乘"},
    "tiles_failed": {"en": "Map background unavailable; the route is still shown.",
                     "zh": "底图无法加载，路线仍会显示。"},
    "error_title": {"en": "Cannot plan this trip", "zh": "无法规划该行程"},
    "from": {"en": "From", "zh": "起点"},
    "to": {"en": "To", "zh": "终点"},
    "powered_by": {"en": "Planned by tanlu", "zh": "由 tanlu 规划"},
    # the rent and return legs of a shared bike (planner.bikeshare)
    "rent": {"en": "Rent a shared bike", "zh": "扫码取车"},
    "return": {"en": "Return the bike", "zh": "还车"},
    "reach_title": {"en": "Where can I get in {minutes} min?",
                    "zh": "{minutes} 分钟内可到达的范围"},
    "reach_by_time": {"en": "By time", "zh": "按时间"},
    "reach_by_co2e": {"en": "By CO₂e", "zh": "按碳排放"},
    "reach_stops": {"en": "stops reachable", "zh": "个可到达的站点"},
    "reach_zero": {"en": "walking or cycling", "zh": "步行或骑行"},
    "reach_tiles_failed": {"en": "Map background unavailable; the reach map is still shown.",
                           "zh": "底图无法加载，可达范围仍会显示。"},
    "reach_note": {"en": "Each hexagon shows the earliest arrival, or the lowest CO₂e of any "
                         "way to get there within the time.",
                   "zh": "每个六边形显示最早到达时间，或在时限内到达该处的最低碳排放。"},
}


def normalize_language(value: str | None) -> str | None:
    """``"zh-CN"``, ``"zh_Hans"``, ``"ZH"`` -> ``"zh"``; ``"en-GB"`` -> ``"en"``; else None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else None


def choose_language(requested: str | None, accept_language: Any = None) -> str:
    """The ``lang`` parameter if supported, else the best ``Accept-Language`` match, else English.

    ``accept_language`` is werkzeug's ``request.accept_languages`` (or None).
    """
    explicit = normalize_language(requested)
    if explicit:
        return explicit
    if accept_language is not None:
        for value, _quality in accept_language:  # sorted by quality, best first
            found = normalize_language(value)
            if found:
                return found
    return DEFAULT_LANGUAGE


def message(code: str, lang: str, params: Mapping[str, Any]) -> str:
    """The message of error ``code`` in ``lang`` with ``params`` filled in (missing ones: ``?``)."""
    texts = _MESSAGES.get(code) or _MESSAGES["http_error"]
    template = texts.get(lang) or texts[DEFAULT_LANGUAGE]
    if lang != DEFAULT_LANGUAGE and "{detail}" in template:
        # the detail is English; say it in ``lang`` from its code, or leave it out
        detail = _coded(params.get("detail_code"), params.get("detail_params") or {}, lang)
        if detail is None:
            template = _DETAIL.sub("", template)
        else:
            params = {**params, "detail": detail}
    return template.format_map(_Defaulting(params))


def coded_text(text: str, lang: str) -> str | None:
    """``text`` (a ``planner.errors.CodedText`` or plain str) in ``lang``; None when it has no
    code to translate from and ``lang`` is not English."""
    if lang == DEFAULT_LANGUAGE:
        return str(text)
    return _coded(getattr(text, "code", None), getattr(text, "params", {}), lang)


def _coded(code: str | None, params: Mapping[str, Any], lang: str) -> str | None:
    template = _CODED_ZH.get(code or "")
    if template is None or lang != "zh":
        return None
    values = dict(params)
    values["swapped_zh"] = _SWAPPED_ZH if values.get("swapped") else ""
    values["modes_zh"] = "、".join("公共交通" if m == "transit" else mode_label(m, lang)
                                  for m in values.get("modes", ()))
    notices = [coded_text(n, lang) for n in values.get("notices", ())]
    values["notices_zh"] = ("（" + "；".join(n for n in notices if n) + "）"
                            if any(notices) else "")
    faster = values.get("faster")
    values["faster_zh"] = f"比{mode_label(faster, lang)}更快的" if faster else ""
    try:
        return template.format_map(_Defaulting(values))
    except (ValueError, TypeError):  # a parameter of an unexpected type: say nothing wrong
        return None


def place_name(name: str, lang: str) -> str:
    """A place's name in ``lang``: the planner's fallbacks (``Origin``) translated, data as is."""
    return _PLACE_ZH.get(name, name) if lang == "zh" else name


def localize_answer(answer: Any, lang: str) -> Any:
    """A serialized plan or points answer with its human texts in ``lang``, in place.

    Notices (coded by the planner), fallback place names (``Origin``/``Destination``) and
    points explanations (rebuilt from the award's numbers) are said in ``lang``; machine fields
    (codes, ids, modes) stay as they are. English answers are returned unchanged.
    """
    if lang == DEFAULT_LANGUAGE:
        return answer
    _localize(answer, lang)
    return answer


def _localize(node: Any, lang: str) -> None:
    if isinstance(node, list):
        for item in node:
            _localize(item, lang)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("notices"), list):
        node["notices"] = [t for t in (coded_text(n, lang) for n in node["notices"]) if t]
    if "explanation" in node and "points" in node:
        node["explanation"] = _explanation_zh(node)
    if isinstance(node.get("reduction_explanation"), str) and "reduction_g" in node:
        # the methodology's formula text is English; in Chinese the numbers it arrives at
        co2e = node.get("co2e_g")
        node["reduction_explanation"] = (
            f"按所用碳核算方法减排 {float(node['reduction_g']):.0f} g"
            + (f"，行程排放 {float(co2e):.0f} g" if isinstance(co2e, (int, float)) else ""))
    if isinstance(node.get("name"), str) and node["name"] in _PLACE_ZH and "lat" in node:
        node["name"] = _PLACE_ZH[node["name"]]
    for key, value in node.items():
        if key != "notices" and isinstance(value, (dict, list)):
            _localize(value, lang)


def _explanation_zh(award: Mapping[str, Any]) -> str:
    points, reduction = float(award["points"]), float(award.get("reduction_g") or 0.0)
    rules = award.get("rules_id", "")
    if points <= 0 and reduction <= 0:
        return "无减排：该行程的碳排放不低于驾车基准，不计积分"
    if points <= 0:
        return f"该行程的出行方式或距离不符合积分规则 {rules}，不计积分"
    shown = f"{points:.0f}" if points.is_integer() else f"{points:.1f}"
    text = f"较驾车减排 {reduction:.0f} g，按积分规则 {rules} 计 {shown} 积分"
    return text + ("（已按单次上限封顶）" if award.get("capped") else "")


def leg_label(mode: str, note: str | None, lang: str) -> str:
    """A leg's name for people: the mode's, or what is done at a bike-share station."""
    if note in ("rent", "return"):
        return _UI[note].get(lang, _UI[note][DEFAULT_LANGUAGE])
    return mode_label(mode, lang)


def ui_strings(lang: str) -> dict[str, str]:
    """Every text of the embeddable page in ``lang``."""
    return {key: texts.get(lang, texts[DEFAULT_LANGUAGE]) for key, texts in _UI.items()}


def leg_end_label(note: str, lang: str) -> str:
    """``Leg.note`` for people (``"充电"`` for ``charge`` in Chinese); unknown notes as given."""
    texts = _LEG_END.get(note)
    return note if texts is None else texts.get(lang, texts[DEFAULT_LANGUAGE])


def mode_label(mode: str, lang: str) -> str:
    """The mode's name for people (``"公交"`` for ``bus`` in Chinese); unknown modes as given."""
    found = MODES.get(mode)
    if found is None:
        return mode
    return found.label_zh if lang == "zh" else found.label_en


class _Defaulting(dict):
    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)

    def __missing__(self, key: str) -> str:
        return "?"
