"""Shared pieces of the browser tests: headless Chromium from Debian, a real `nebula serve`,
waits, signing in, screenshots.

Selenium Manager is switched off (SE_OFFLINE) so nothing is ever downloaded; the
driver and browser paths are explicit (override with CHROMEDRIVER / CHROMIUM).
Screenshots go to $NEBULA_SHOTS (default /tmp/nebula-shots).
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
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


def make_driver(viewport: dict, *, emulate: bool = True, extra_args: tuple[str, ...] = ()) -> webdriver.Chrome:
    """Headless Chromium with a window of the viewport's size. With `emulate`, the page also gets
    the viewport's device metrics (scale, phone or not) and touch on a phone, and the browser
    console is kept for print_console_errors."""
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
        *extra_args,
        f"--window-size={viewport['width']},{viewport['height']}",
    ):
        opts.add_argument(arg)
    if not emulate:
        return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
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


def no_sideways_scroll(driver, what: str) -> None:
    scroll_w, inner_w = no_horizontal_scroll(driver)
    assert scroll_w <= inner_w, f"{what}: horizontal scroll, scrollWidth {scroll_w} > innerWidth {inner_w}"


def displayed(driver, css: str) -> bool:
    return any(e.is_displayed() for e in driver.find_elements(By.CSS_SELECTOR, css))


def wait_shown(driver, css: str, timeout: float = 10):
    wait_for(driver, lambda d: displayed(d, css), timeout, f"{css} never became visible")
    return next(e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed())


def fill(driver, css: str, value: str) -> None:
    el = driver.find_element(By.CSS_SELECTOR, css)
    el.clear()
    el.send_keys(value)


def wait_live(driver, timeout: float = 15) -> None:
    wait_for(driver, lambda d: indicator(d) == "Live", timeout, f"indicator never said Live (got {indicator(driver)!r})")


def submit_login(driver, username: str, password: str, timeout: float = 10) -> None:
    """Fill in and send the login form, once it shows."""
    wait_shown(driver, "#login-form", timeout)
    fill(driver, "#login-username", username)
    fill(driver, "#login-password", password)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def go(driver, page: str) -> None:
    """Navigate the way a person does: the link in the top bar."""
    driver.find_element(By.CSS_SELECTOR, f'#nav a[data-route="{page}"]').click()
    wait_shown(driver, f"#page-{page}")


def sign_in_and_go(driver, base_url: str, username: str, password: str, page: str) -> None:
    """Open the dashboard, sign in as `username`, wait until it is live, then open `page`."""
    driver.get(f"{base_url}/")
    submit_login(driver, username, password, timeout=15)
    wait_live(driver, 20)
    go(driver, page)


# ---- the real server ---------------------------------------------------------------


class NebulaServer:
    """One `nebula serve` on a free port, with the bootstrap API key `key`; its data dir and log
    live in a temporary folder that stop() removes."""

    def __init__(self, binary: str, prefix: str) -> None:
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = "bootstrap-" + secrets.token_hex(12)
        self.log_path = self.dir / "server.log"
        self.log = None
        self.proc = None

    def cli_create_user(self, username: str, role: str, password: str, timeout: float = 30) -> None:
        """`nebula user create` on the data dir (SQLite), before the server starts or while it runs."""
        done = subprocess.run(
            [self.binary, "user", "create", "--data-dir", str(self.data), "--username", username, "--role", role],
            input=password + "\n",
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def start(self, *args: str, timeout: float = 30) -> NebulaServer:
        """Serve (samples every second, plus `args`); returns once /healthz answers."""
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data),
             "--telemetry-interval", "1s", *args],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NEBULA_API_KEY": self.key},
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nebula exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self  # answering, if not yet healthy
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"nebula did not come up:\n{self.output()}") from None
                time.sleep(0.1)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.log:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
