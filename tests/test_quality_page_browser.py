"""The report page in a real browser: Debian's Chromium, headless, through its chromedriver
(both installed by ``make install``). It loads from ``file://`` without console errors, the
heatmap is visible, and a screenshot is left in ``build/report-screenshot.png``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipelines.lake import Lake
from pipelines.records import PortalOutcome
from tests.conftest import SEEDS

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parent.parent
SCREENSHOT = ROOT / "build" / "report-screenshot.png"


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, "Chromium and chromedriver come from `make install`"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver is Debian's, named explicitly: Selenium never looks for one on the network.
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] in ("SEVERE", "ERROR")]


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    """The page of a lake with the seeds and a reject, built by the installed command."""
    import subprocess

    from tests.conftest import GOVREPORTS

    folder = tmp_path_factory.mktemp("browser")
    bad = folder / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\nnot really a pdf")
    env = {**os.environ, "GOVREPORTS_LAKE": str(folder / "lake")}
    for args in (["ingest", "--allow-rejects", str(SEEDS), str(bad)],
                 ["report", "--out", str(folder / "page")]):
        done = subprocess.run([*GOVREPORTS, *args], capture_output=True, text=True, env=env,
                              cwd=folder, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        if args[0] == "ingest":
            _crawl_manifest(Lake.open(str(folder / "lake"), writable=True))
    return folder / "page" / "index.html"


def _crawl_manifest(lake: Lake) -> None:
    """A crawl of two portals: one ok, one down behind an anti-bot wall (the portal section)."""
    ok = PortalOutcome("sample-trs-jilin", {"status": "ok", "list_pages": 2})
    walled = PortalOutcome(
        "walled-portal", {"status": "down", "list_pages": 0},
        failures=({"url": "http://127.0.0.41/ndbg/", "reason": "anti_bot", "message": "412"},),
        blocked=({"url": "http://127.0.0.41/ndbg/", "kind": "ruishu", "status": 412},))
    lake.write_manifest("crawl-1", {"command": "crawl", "status": "finished",
                                    "started_at": "2026-12-01T18:30:00+00:00",
                                    "portals": {o.portal_id: o.to_json() for o in (ok, walled)}})


def test_the_page_loads_without_console_errors_and_shows_the_heatmap(browser, page):
    from selenium.webdriver.common.by import By

    browser.get(page.as_uri())
    assert browser.title.startswith("govreports")
    assert _errors(browser) == []
    heatmap = browser.find_element(By.CSS_SELECTOR, "#coverage-heatmap svg")
    assert heatmap.is_displayed()
    assert heatmap.size["width"] > 300 and heatmap.size["height"] > 300, heatmap.size
    # The whole page in one picture: the window as tall as the document.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(height, 12000))
    chrome = browser.get_window_size()["height"] - browser.execute_script(
        "return window.innerHeight")  # the window's own bars
    browser.set_window_size(1280, min(height + chrome, 12000))
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 50_000


def test_the_console_check_sees_an_error(browser, tmp_path):
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><title>x</title><script>undefinedFunction()</script>",
                      encoding="utf-8")
    browser.get(broken.as_uri())
    assert any("undefinedFunction" in message for message in _errors(browser))
