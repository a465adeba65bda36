"""Serving settings: cities from --network/TANLU_NETWORK, keys, rate limits, reload, proxies."""
from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import SettingsError, parse_network_specs, settings_from_env
from graphs.errors import TanluError


def test_network_specs_name_cities_first_is_default():
    assert parse_network_specs(["wuxi=/srv/wuxi.tanlu", "poa=/srv/poa.tanlu"]) == (
        ("wuxi", Path("/srv/wuxi.tanlu")), ("poa", Path("/srv/poa.tanlu")))
    assert parse_network_specs(["/srv/Porto.tanlu"]) == (("porto", Path("/srv/Porto.tanlu")),)
    assert parse_network_specs(["/srv/2019 city.tanlu"])[0][0] == "default"
    assert parse_network_specs(["/srv/plan.tanlu"])[0][0] == "default"  # reserved name


@pytest.mark.parametrize("specs, words", [
    (["Wuxi=/a"], ["Wuxi"]), (["a=/x", "a=/y"], ["twice"]), (["coverage=/x"], ["coverage"]),
    (["a="], ["NAME=PATH"]), (["a/b=/x"], ["city name"]),
])
def test_bad_network_specs_are_settings_errors(specs, words):
    with pytest.raises(SettingsError) as err:
        parse_network_specs(specs)
    assert all(word in str(err.value) for word in words)
    assert isinstance(err.value, TanluError)  # so the CLI prints one line and exits 2


def test_serving_variables_are_read():
    settings = settings_from_env({
        "TANLU_NETWORK": "wuxi=/srv/wuxi.tanlu,poa=/srv/poa.tanlu",
        "TANLU_KEYS_FILE": "/etc/tanlu/keys.toml", "TANLU_REQUIRE_KEY": "true",
        "TANLU_RATELIMIT_IP": "60/minute;1000/hour",
        "TANLU_RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "TANLU_RELOAD_INTERVAL_S": "0", "TANLU_TRUSTED_PROXIES": "1"})
    assert [name for name, _ in settings.networks] == ["wuxi", "poa"]
    assert settings.network_path == Path("/srv/wuxi.tanlu")
    assert settings.keys_file == Path("/etc/tanlu/keys.toml") and settings.require_key
    assert settings.ratelimit_ip == "60/minute;1000/hour"
    assert settings.ratelimit_storage.startswith("redis://")
    assert settings.reload_interval_s == 0 and settings.trusted_proxies == 1
    defaults = settings_from_env({})
    assert defaults.ratelimit_ip is None and defaults.ratelimit_storage == "memory://"
    assert not defaults.require_key and defaults.reload_interval_s == 2.0


@pytest.mark.parametrize("name, value", [
    ("TANLU_REQUIRE_KEY", "maybe"), ("TANLU_RATELIMIT_IP", "lots"),
    ("TANLU_RATELIMIT_STORAGE", "postgres://x"), ("TANLU_RELOAD_INTERVAL_S", "soon"),
    ("TANLU_RELOAD_INTERVAL_S", "-1"), ("TANLU_TRUSTED_PROXIES", "-1"),
    ("TANLU_NETWORK", "a=/x,a=/y"),
])
def test_unusable_serving_values_name_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        settings_from_env({name: value})
