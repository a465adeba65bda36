"""Messages in English and Simplified Chinese, and choosing the language of a request."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphs.modes import MODES

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "normalize_language", "choose_language",
           "message", "ui_strings", "mode_label"]

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
        "en": "{field} must be \"lat,lon\" in WGS84 degrees with latitude in [-90, 90] and "
              "longitude in [-180, 180], got {value}",
        "zh": "{field} 须为 WGS84 坐标 \"纬度,经度\"，纬度在 [-90, 90]、经度在 [-180, 180] 之间，"
              "收到 {value}",
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
    return template.format_map(_Defaulting(params))


def ui_strings(lang: str) -> dict[str, str]:
    """Every text of the embeddable page in ``lang``."""
    return {key: texts.get(lang, texts[DEFAULT_LANGUAGE]) for key, texts in _UI.items()}


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
