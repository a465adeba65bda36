"""The embeddable page in a real headless Chromium: the route and the summary render.

Tiles point at a path of the test server that answers 404, so the page is checked as it is
without internet: the route and the summary must still show. Chromium is kept off the
network by a host resolver rule that maps every name but the loopback to nothing.
"""
from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_fakes import make_fake_app, plan_query
from serve_helpers import serving_in_thread
from werkzeug.serving import make_server

from graphs.modes import MODES

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 20

pytestmark = pytest.mark.skipif(not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)),
                                reason="Debian's chromium and chromium-driver are not installed")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = make_fake_app(TANLU_TILE_URL="/no-tiles/{z}/{x}/{y}.png")
    with serving_in_thread(app, threaded=True) as url:
        yield url


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1000,700",
                 f"--user-data-dir={tmp_path / 'profile'}",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


def _wait(driver, condition):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(condition)


def _leg_strokes(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    paths = driver.find_elements(By.CSS_SELECTOR, "#map path.tanlu-leg")
    return [p.get_attribute("stroke").lower() for p in paths]


def test_embed_draws_recommended_route_and_summary(server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    query = "&".join(f"{k}={v}" for k, v in plan_query(lang="zh").items()).replace("+", "%2B")
    browser.get(f"{server}/embed?{query}")
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    _wait(browser, lambda d: len(_leg_strokes(d)) == 3)
    # the recommended itinerary is walk, bus, walk in the modes' colours
    assert _leg_strokes(browser) == [MODES[m].color for m in ("walk", "bus", "walk")]
    summary = browser.find_element(By.ID, "summary").text
    assert re.search(r"126 g 碳排放", summary), summary   # 2.1 km x 60 g/pkm
    assert "驾车 468 g" in summary and "3.4 积分" in summary
    _wait(browser, lambda d: d.find_element(By.ID, "tiles-failed").is_displayed())
    browser.save_screenshot(str(tmp_path / "embed.png"))
    assert (tmp_path / "embed.png").stat().st_size > 10_000


def test_clicking_an_alternative_redraws_it(server, browser):
    from selenium.webdriver.common.by import By

    query = "&".join(f"{k}={v}" for k, v in plan_query().items()).replace("+", "%2B")
    browser.get(f"{server}/embed?{query}")
    _wait(browser, lambda d: len(_leg_strokes(d)) == 3)
    items = browser.find_elements(By.CSS_SELECTOR, "#itineraries > li.itinerary")
    assert len(items) == 2 and "Fastest" in items[1].text and "points" in items[1].text
    items[1].find_element(By.CSS_SELECTOR, "button.choose").click()
    _wait(browser, lambda d: _leg_strokes(d) == [MODES["car_petrol"].color])
    assert "selected" in items[1].get_attribute("class")
    assert items[1].find_element(By.CSS_SELECTOR, ".legs").is_displayed()
    assert not items[0].find_element(By.CSS_SELECTOR, ".legs").is_displayed()


def test_bad_parameters_render_a_friendly_page(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{server}/embed?from=<script>alert(1)</script>&to=1,2&lang=zh")
    text = browser.find_element(By.ID, "error-message").text
    assert "<script>alert(1)</script>" in text    # shown as text, not run
    assert "纬度" in text
    assert browser.find_elements(By.CSS_SELECTOR, "script") == []


@pytest.fixture(scope="module")
def real_server(poa_network) -> Iterator[str]:
    from api.app import create_app

    app = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                      "TANLU_TILE_URL": "/no-tiles/{z}/{x}/{y}.png"})
    with serving_in_thread(app) as url:
        yield url


def test_embed_on_real_data_draws_each_leg_in_its_mode_colour(real_server, browser, tmp_path):
    import json
    import urllib.request

    from selenium.webdriver.common.by import By

    query = "from=-30.0277,-51.2287&to=-30.0346,-51.2077&at=2019-05-06T08:00:00&modes=bus"
    with urllib.request.urlopen(f"{real_server}/v1/plan?{query}", timeout=60) as response:
        plan = json.load(response)
    recommended = plan["itineraries"][plan["recommended"]]
    colours = [MODES[leg["mode"]].color for leg in recommended["legs"]]
    browser.get(f"{real_server}/embed?{query}")
    _wait(browser, lambda d: len(_leg_strokes(d)) == len(colours))
    assert _leg_strokes(browser) == colours and MODES["bus"].color in colours
    summary = browser.find_element(By.ID, "summary").text
    points = recommended["points"]["points"]
    assert f"{points:.0f} points" in summary or f"{points:.1f} points" in summary, summary
    assert re.search(r"\d+(\.\d+)? k?g CO₂e", summary), summary
    browser.save_screenshot(str(tmp_path / "embed-porto-alegre.png"))


def _serve(app) -> tuple[object, threading.Thread, str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread, f"http://127.0.0.1:{httpd.server_port}"


@pytest.fixture(scope="module")
def wuxi_servers(wuxi_network) -> Iterator[dict[str, str]]:
    """poa-in-wuxi served twice: tiles in WGS-84 (the default) and in GCJ-02 (AMap-style)."""
    from api.app import create_app

    running = {}
    for crs in ("wgs84", "gcj02"):
        running[crs] = _serve(create_app({"TESTING": True, "TANLU_LOADED_NETWORK": wuxi_network,
                                          "TANLU_TILE_URL": "/no-tiles/{z}/{x}/{y}.png",
                                          "TANLU_TILE_CRS": crs}))
    yield {crs: url for crs, (_h, _t, url) in running.items()}
    for httpd, thread, _url in running.values():
        httpd.shutdown()
        thread.join(timeout=10)


_DRAWN_LINES = """return window.tanluRouteLayer.getLayers()
  .filter(function (l) { return l.getLatLngs; })
  .map(function (l) { return l.getLatLngs().map(function (p) { return [p.lat, p.lng]; }); });"""


def test_embed_draws_in_the_tiles_crs(wuxi_servers, browser):
    """With TANLU_TILE_CRS=gcj02 the drawn route is the GCJ-02 transform of the WGS-84 page's."""
    import numpy as np

    from graphs.crs import wgs84_to_gcj02

    query = "from=31.4923,120.2913&to=31.5200,120.3700&at=2019-05-07T12:00:00&modes=walk,transit"
    drawn = {}
    for crs, url in wuxi_servers.items():
        browser.get(f"{url}/embed?{query}")
        _wait(browser, lambda d: d.execute_script(
            "return window.tanluRouteLayer && window.tanluRouteLayer.getLayers().length"))
        lines = browser.execute_script(_DRAWN_LINES)
        drawn[crs] = np.array([p for line in lines for p in line], dtype=float)
    wgs, gcj = drawn["wgs84"], drawn["gcj02"]
    assert wgs.shape == gcj.shape and len(wgs) > 10
    lat, lon = wgs84_to_gcj02(wgs[:, 0], wgs[:, 1])
    error_m = np.hypot((gcj[:, 0] - lat) * 111_320.0,
                       (gcj[:, 1] - lon) * 111_320.0 * np.cos(np.radians(lat)))
    assert error_m.max() < 1.0
    shift_m = np.hypot((gcj[:, 0] - wgs[:, 0]) * 111_320.0,
                       (gcj[:, 1] - wgs[:, 1]) * 111_320.0 * np.cos(np.radians(lat)))
    assert shift_m.min() > 100.0   # the shift is real: a WGS-84 route would fail the check


def test_embed_marks_the_car_park_of_a_park_and_ride(real_server, browser, tmp_path):
    """The drive to a P+R ends in its own mark (icon and colour of api.embed_view.LEG_END_MARKS)
    at the car park; the list names it."""
    from selenium.webdriver.common.by import By

    from api.embed_view import LEG_END_MARKS

    query = ("from=-30.060,-51.225&to=-30.0085,-51.2040&at=2019-05-13T08:00:00"
             "&modes=walk,car_petrol%2Btransit")
    browser.get(f"{real_server}/embed?{query}")
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    items = browser.find_elements(By.CSS_SELECTOR, "#itineraries > li.itinerary")
    parked = [i for i, item in enumerate(items) if item.find_elements(By.CSS_SELECTOR,
                                                                      ".end-mark.end-park")]
    assert parked, "no park-and-ride itinerary listed"
    items[parked[0]].find_element(By.CSS_SELECTOR, "button.choose").click()
    mark = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#map .tanlu-end-park span"))
    icon, color = LEG_END_MARKS["park"]
    assert mark.text == icon
    assert browser.execute_script("return getComputedStyle(arguments[0]).backgroundColor",
                                  mark) == "rgb(21, 101, 192)" == _rgb(color)
    assert _leg_strokes(browser)[0] == MODES["car_petrol"].color
    assert "PopCenter" in items[parked[0]].text
    browser.save_screenshot(str(tmp_path / "embed-park-and-ride.png"))


def _rgb(hex_color: str) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"
def test_embed_draws_shared_bike_legs_with_their_own_colours(poa_network, browser):
    """Rent and return are markers in their own colours; the ride is in bikeshare's."""
    from pathlib import Path

    from selenium.webdriver.common.by import By

    from api.app import create_app
    from api.embed_view import STATION_COLORS
    from api.state import EXTENSION_KEY
    from graphs.gbfs import read_gbfs

    gbfs = Path(__file__).parent / "fixtures" / "gbfs_poa" / "v2.3"
    app = create_app({"TESTING": True, "TANLU_LOADED_NETWORK": poa_network,
                      "TANLU_TILE_URL": "/no-tiles/{z}/{x}/{y}.png"})
    app.extensions[EXTENSION_KEY].get(None).plan.planner.set_bikeshare(read_gbfs(gbfs), live=True)
    httpd, thread, url = _serve(app)
    try:
        query = ("from=-30.0064,-51.1985&to=-30.0275,-51.2270&at=2019-05-13T08:00:00"
                 "&modes=bikeshare")
        browser.get(f"{url}/embed?{query}")
        _wait(browser, lambda d: len(_leg_strokes(d)) == 4)
        assert _leg_strokes(browser) == [MODES["walk"].color, STATION_COLORS["rent"],
                                         MODES["bikeshare"].color, STATION_COLORS["return"]]
        assert browser.find_elements(By.CSS_SELECTOR, "#map .tanlu-station-rent")
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
