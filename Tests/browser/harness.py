"""Shared pieces of the browser tests: headless Chromium from Debian, waits, screenshots.

Selenium Manager is switched off (SE_OFFLINE) so nothing is ever downloaded; the
driver and browser paths are explicit (override with CHROMEDRIVER / CHROMIUM).
Screenshots go to $NEBULA_SHOTS (default /tmp/nebula-shots).
"""

from __future__ import annotations

import base64
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

# Never let Selenium Manager go looking for (or downloading) drivers/browsers.
os.environ.setdefault("SE_OFFLINE", "true")
os.environ.setdefault("SE_AVOID_STATS", "true")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("NEBULA_SHOTS", "/tmp/nebula-shots"))

VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800, "mobile": False, "scale": 1},
    "phone": {"width": 390, "height": 844, "mobile": True, "scale": 2},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def make_driver(viewport: dict) -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--hide-scrollbars",
        f"--window-size={viewport['width']},{viewport['height']}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {
            "width": viewport["width"],
            "height": viewport["height"],
            "deviceScaleFactor": viewport["scale"],
            "mobile": viewport["mobile"],
        },
    )
    if viewport["mobile"]:
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    return driver


def print_console_errors(driver) -> None:
    try:
        for entry in driver.get_log("browser"):
            if entry.get("level") == "SEVERE":
                print("browser console:", entry.get("message"))
    except Exception:  # noqa: BLE001 - logs are best effort
        pass


def shot(driver, name: str, full_page: bool = False) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if full_page:
        # Capture the whole page, not just the viewport.
        metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        data = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            },
        )["data"]
        path.write_bytes(base64.b64decode(data))
    else:
        driver.save_screenshot(str(path))
    return path


def wait_for(driver, predicate, timeout: float = 10, message: str = ""):
    # Live pages re-render rows while a predicate looks at them: a stale element means "look again".
    wait = WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(lambda d: predicate(d), message)


def text_of(driver, css: str) -> str:
    els = driver.find_elements(By.CSS_SELECTOR, css)
    return els[0].text.strip() if els else ""


def indicator(driver) -> str:
    return text_of(driver, "#conn-label")


def no_horizontal_scroll(driver) -> tuple[int, int]:
    """(scrollWidth, innerWidth); callers assert the first is not larger."""
    return tuple(driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]"))
