"""The reach map page (/embed?reach=1) in a real headless Chromium, checked on a screenshot.

The bands are filled without outlines at a known opacity and never overlap, so every pixel of
a band is exactly its colour blended over the map's background (tiles answer 404 here): the
test counts those pixels in a screenshot, for the time view and, after a click, the CO2e view.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from test_api_embed_browser import (  # noqa: F401 - fixtures
    CHROMEDRIVER,
    CHROMIUM,
    _wait,
    browser,
    real_server,
)

pytestmark = pytest.mark.skipif(not (__import__("shutil").which(CHROMIUM)
                                     and __import__("shutil").which(CHROMEDRIVER)),
                                reason="Debian's chromium and chromium-driver are not installed")

MAP_BACKGROUND = (0xEE, 0xF2, 0xEE)  # #map in api/static/embed.css
FILL_OPACITY = 0.6                   # api/static/embed_reach.js
QUERY = "reach=1&from=-30.0277,-51.2287&at=2019-05-13T12:30&minutes=30"


def _band_colours(base_url: str) -> dict[str, list[str]]:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{base_url}/v1/reach?{QUERY.replace('reach=1&', '')}",
                                timeout=60) as response:
        body = json.load(response)
    out: dict[str, list[str]] = {"time_band": [], "co2e_band": []}
    for feature in body["features"]:
        if feature["properties"]["kind"] in out:
            out[feature["properties"]["kind"]].append(feature["properties"]["color"])
    return out


def _pixels_of(png: bytes, colour: str) -> int:
    """Pixels of the screenshot showing ``colour`` at the bands' opacity over the map."""
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    fill = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    blended = FILL_OPACITY * fill + (1 - FILL_OPACITY) * np.array(MAP_BACKGROUND)
    return int((np.abs(image - blended).max(axis=2) <= 3).sum())


def test_reach_page_draws_time_then_co2e_bands(real_server, browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    colours = _band_colours(real_server)
    assert len(colours["time_band"]) == 3 and len(colours["co2e_band"]) >= 3
    browser.get(f"{real_server}/embed?{QUERY}")
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    _wait(browser, lambda d: d.find_element(By.ID, "tiles-failed").is_displayed())
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#map path.tanlu-band-time"))
          == len(colours["time_band"]))
    assert "30 min" in browser.find_element(By.TAG_NAME, "h1").text
    png = browser.get_screenshot_as_png()
    (tmp_path / "reach-time.png").write_bytes(png)
    for colour in colours["time_band"]:
        assert _pixels_of(png, colour) > 300, colour       # every time band is on the map
    for colour in colours["co2e_band"]:
        assert _pixels_of(png, colour) < 50, colour        # and no CO2e band yet
    browser.find_element(By.ID, "view-co2e").click()
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#map path.tanlu-band-co2e"))
          == len(colours["co2e_band"]))
    png = browser.get_screenshot_as_png()
    (tmp_path / "reach-co2e.png").write_bytes(png)
    drawn = [colour for colour in colours["co2e_band"] if _pixels_of(png, colour) > 100]
    assert len(drawn) >= len(colours["co2e_band"]) - 1     # the open last band may be tiny
    for colour in colours["time_band"]:
        assert _pixels_of(png, colour) < 50, colour
    assert browser.find_element(By.ID, "legend-co2e").is_displayed()
    assert not browser.find_element(By.ID, "legend-time").is_displayed()
