"""Browser tests for the dashboard shell (web/), in headless Chromium.

Against a real server:   NEBULA_URL=http://127.0.0.1:8080 NEBULA_KEY=... pytest Tests/browser
Against the mock:        pytest Tests/browser          (starts mock_server.py on a free port)

The "numbers change" test needs samples more often than the default 30 s:
run the real server with --telemetry-interval 1.

Screenshots go to $NEBULA_SHOTS (default /tmp/nebula-shots).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from harness import (
    SHOTS,  # noqa: F401 - re-exported for other test modules
    VIEWPORTS,
    free_port,
    indicator,
    make_driver,
    print_console_errors,
    shot,
    text_of,
    wait_for,
    wait_http,
)
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

HERE = Path(__file__).resolve().parent
NUMBER = re.compile(r"\d")
_make_driver = make_driver  # the old name, for anything that imported it


# ---- server -------------------------------------------------------------------------


class ServerInfo:
    def __init__(self, url: str, key: str, is_mock: bool) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.is_mock = is_mock


@pytest.fixture(scope="session")
def server():
    url = os.environ.get("NEBULA_URL")
    if url:
        key = os.environ.get("NEBULA_KEY")
        if not key:
            pytest.fail("NEBULA_URL is set but NEBULA_KEY is not")
        yield ServerInfo(url, key, is_mock=False)
        return
    port = free_port()
    key = "test-key-" + os.urandom(4).hex()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "mock_server.py"), "--port", str(port), "--key", key, "--interval", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        yield ServerInfo(f"http://127.0.0.1:{port}", key, is_mock=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


# ---- browser ------------------------------------------------------------------------


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def browser(request):
    name = request.param
    driver = make_driver(VIEWPORTS[name])
    driver.viewport_name = name
    yield driver
    print_console_errors(driver)
    driver.quit()


@pytest.fixture
def desktop():
    driver = make_driver(VIEWPORTS["desktop"])
    driver.viewport_name = "desktop"
    yield driver
    driver.quit()


def open_dashboard(driver, server: ServerInfo, key: str | None = None) -> None:
    driver.get(f"{server.url}/#token={key or server.key}")


def rendered_values(driver) -> dict[str, str]:
    return driver.execute_script(
        """
        const t = (s) => { const e = document.querySelector(s); return e ? e.textContent.trim() : ""; };
        return {
          cpu: t('#cpu-total'),
          mem: t('#mem-percent'),
          memUsed: t('#mem-used'),
          rx: t('#net-rx'),
          tx: t('#net-tx'),
          load: t('#load-1'),
          disks: t('#disk-rows'),
          fs: t('#fs-list'),
          uptime: t('#uptime'),
          sample: document.getElementById('host-grid').dataset.sampleTimestamp || '',
        };
        """
    )


# ---- tests ------------------------------------------------------------------------------


def test_goes_live_and_renders_numbers(browser, server):
    open_dashboard(browser, server)

    # The key is scrubbed from the address bar at once.
    wait_for(browser, lambda d: "token" not in d.current_url, 5, "token still in the URL")
    assert server.key not in browser.current_url

    wait_for(browser, lambda d: indicator(d) == "Live", 10, f"indicator never said Live (got {indicator(browser)!r})")

    def numbers_shown(d):
        v = rendered_values(d)
        fs_rows = d.find_elements(By.CSS_SELECTOR, "#fs-list .fs")
        return (
            NUMBER.search(v["cpu"])
            and NUMBER.search(v["mem"])
            and NUMBER.search(v["memUsed"])
            and fs_rows
            and all(NUMBER.search(r.find_element(By.CSS_SELECTOR, ".fs-pct").text) for r in fs_rows)
        )

    try:
        wait_for(browser, numbers_shown, 10)
    except TimeoutException:
        pytest.fail(f"cards still show placeholders: {rendered_values(browser)}")

    v = rendered_values(browser)
    assert re.fullmatch(r"\d+(\.\d)?", v["cpu"]), v["cpu"]
    assert re.fullmatch(r"\d+(\.\d)?", v["mem"]), v["mem"]
    assert " of " in v["memUsed"], v["memUsed"]
    hostname = text_of(browser, "#hostname")
    assert hostname, "hostname missing from the header"
    assert "ago" in text_of(browser, "#updated") or "just now" in text_of(browser, "#updated")

    # Nothing wider than the viewport (no sideways scrolling on phones).
    scroll_w, inner_w = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_w <= inner_w, f"horizontal scroll: scrollWidth {scroll_w} > innerWidth {inner_w}"
    if browser.viewport_name == "phone":
        assert inner_w == 390

    # Let the sparklines gather a few points before the picture.
    time.sleep(4 if server.is_mock else 1)
    shot(browser, f"dashboard-{browser.viewport_name}")
    shot(browser, f"dashboard-{browser.viewport_name}-full", full_page=True)


def test_wrong_key_shows_form_with_error(browser, server):
    open_dashboard(browser, server, key="definitely-not-the-key")
    wait_for(browser, lambda d: d.find_element(By.ID, "key-form").is_displayed(), 10, "key form not shown")
    wait_for(browser, lambda d: "That key was refused" in text_of(d, "#key-form [data-role=error]"), 5)
    assert "token" not in browser.current_url
    assert not browser.find_element(By.ID, "host").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('nebula.apiKey')") is None
    # the field has focus, ready to type
    assert browser.switch_to.active_element.get_attribute("id") == "key-input"
    scroll_w, inner_w = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_w <= inner_w
    shot(browser, f"key-refused-{browser.viewport_name}")


def test_key_form_accepts_good_key(desktop, server):
    # Without a key or a session the dashboard offers accounts first (the
    # login page, or the "create the admin" page on a server without
    # accounts); the key form is one link away.
    desktop.get(f"{server.url}/")

    def use_key_link(d):
        links = [e for e in d.find_elements(By.CSS_SELECTOR, "[data-action=use-key]") if e.is_displayed()]
        return links[0] if links else None

    wait_for(desktop, use_key_link, 10, "no 'Use an API key instead' link").click()
    wait_for(desktop, lambda d: d.find_element(By.ID, "key-form").is_displayed(), 10)
    field = desktop.find_element(By.ID, "key-input")
    field.send_keys(server.key)
    desktop.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
    wait_for(desktop, lambda d: indicator(d) == "Live", 10)
    wait_for(desktop, lambda d: NUMBER.search(text_of(d, "#cpu-total")), 10)
    # kept for this tab: a reload needs no key
    desktop.refresh()
    wait_for(desktop, lambda d: indicator(d) == "Live", 10)
    assert not desktop.find_element(By.ID, "key-form").is_displayed()


def test_numbers_change_over_time(desktop, server):
    """Two different snapshots get rendered without a reload.

    Against a real server this needs --telemetry-interval 1."""
    open_dashboard(desktop, server)
    wait_for(desktop, lambda d: rendered_values(d)["sample"], 10, "no snapshot rendered")
    first = rendered_values(desktop)

    def changed(d):
        now = rendered_values(d)
        return now["sample"] != first["sample"] and now != first

    wait_for(desktop, changed, 15, "the rendered snapshot never changed")
    samples = int(desktop.execute_script("return document.getElementById('host-grid').dataset.samples"))
    assert samples >= 2


def test_reconnects_and_resumes_without_duplicates(desktop, server):
    open_dashboard(desktop, server)
    wait_for(desktop, lambda d: indicator(d) == "Live", 10)
    wait_for(desktop, lambda d: rendered_values(d)["sample"], 10)
    # Record every indicator text and state (the reconnect may take only ~0.5 s).
    desktop.execute_script(
        """
        window.__labels = [];
        const label = document.getElementById('conn-label');
        const conn = document.getElementById('conn');
        new MutationObserver(() => window.__labels.push([conn.dataset.state, label.textContent]))
          .observe(label, {childList: true, characterData: true, subtree: true});
        """
    )
    # Drop the socket from the client side; the client must back off and come back.
    desktop.execute_script("window.__nebula.connection.dropConnection('test')")
    wait_for(desktop, lambda d: indicator(d) == "Live" and d.execute_script("return window.__labels.length"), 10,
             "never came back Live")
    labels = desktop.execute_script("return window.__labels")
    assert any(state == "reconnecting" and text.startswith("Reconnecting") for state, text in labels), labels
    assert labels[-1] == ["live", "Live"], labels
    before = rendered_values(desktop)["sample"]
    wait_for(desktop, lambda d: rendered_values(d)["sample"] != before, 15, "no data after reconnect")
    stats = desktop.execute_script("return window.__nebula.connection.stats")
    assert stats["connects"] >= 2
    # Every publication was handed to the page once, in order (same epoch).
    offsets = desktop.execute_script("return window.__nebula.offsets")
    assert offsets == sorted(set(offsets)), f"duplicate or out-of-order offsets: {offsets}"


def test_keyboard_reachable(desktop, server):
    open_dashboard(desktop, server)
    wait_for(desktop, lambda d: indicator(d) == "Live", 10)
    wait_for(desktop, lambda d: NUMBER.search(text_of(d, "#cpu-total")), 10)
    from selenium.webdriver.common.keys import Keys

    seen = []
    body = desktop.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(12):  # past the nav links (Overview, Containers, Storage, Alerts) in key mode
        el = desktop.switch_to.active_element
        seen.append(el.get_attribute("id") or el.get_attribute("class") or el.tag_name)
        el.send_keys(Keys.TAB)
    assert "change-key" in seen
    assert "show-loopback" in seen
    # the loopback toggle works from the keyboard
    toggle = desktop.find_element(By.ID, "show-loopback")
    toggle.send_keys(Keys.SPACE)
    assert toggle.is_selected()
    if server.is_mock:  # the mock always reports "lo"
        wait_for(desktop, lambda d: "lo" in [c.text for c in d.find_elements(By.CSS_SELECTOR, "#net-rows th")], 3)


def test_reduced_motion_stops_the_stars(desktop, server):
    desktop.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]}
    )
    open_dashboard(desktop, server)
    wait_for(desktop, lambda d: indicator(d) == "Live", 10)
    names = desktop.execute_script(
        "return [...document.querySelectorAll('.stars')].map(e => getComputedStyle(e).animationName)"
    )
    assert names and all(n == "none" for n in names), names
