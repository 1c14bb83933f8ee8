"""Containers, storage and alerts pages, end to end: a real dockerd, the real `nebula` binary and
headless Chromium.

    NEBULA_BIN=.build/debug/nebula pytest -p no:cacheprovider Tests/browser/test_containers.py -v

One Docker engine (Tests/e2e/docker_engine.py: its own dockerd, a busybox image imported from Debian's
busybox-static; needs root) and one server per module. The server samples every second and is told to
alert on any filesystem over 0.001 % after 1 s, so the "/" alert fires at once. Screenshots go to
$NEBULA_SHOTS (default /tmp/nebula-shots) as containers-*.png.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest
from harness import (
    VIEWPORTS,
    NebulaServer,
    displayed,
    go,
    make_driver,
    no_sideways_scroll,
    print_console_errors,
    shot,
    submit_login,
    text_of,
    wait_for,
    wait_live,
)
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from docker_engine import DockerEngine  # noqa: E402

NEBULA_BIN = os.environ.get("NEBULA_BIN")
pytestmark = pytest.mark.skipif(
    not NEBULA_BIN,
    reason="NEBULA_BIN is not set: these tests drive the real nebula binary (scripts/test.sh sets it)",
)

VIEWER, VIEWER_PW = "vic", "password1234"
# A line every 0.2 s, every tenth also on stderr.
TALK = "i=0; while :; do i=$((i+1)); echo line $i; if [ $((i%10)) = 0 ]; then echo oops $i >&2; fi; sleep 0.2; done"
PERCENT = re.compile(r"^\d+(\.\d)? %$")


# ---- engine and server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():
    eng = DockerEngine().start().import_busybox()
    try:
        eng.run("alpha", "sleep", "3600")
        eng.run("talker", "sh", "-c", TALK)
        yield eng
    finally:
        eng.stop()


@pytest.fixture(scope="module")
def server(engine):
    s = NebulaServer(NEBULA_BIN, "nebula-containers-")
    try:
        s.cli_create_user(VIEWER, "viewer", VIEWER_PW, timeout=60)
        s.start("--docker-host", engine.host, "--alert-filesystem-percent", "0.001", "--alert-for", "1s")
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def browser(server):
    d = make_driver(VIEWPORTS["desktop"])
    try:
        d.get(f"{server.url}/#token={server.key}")
        wait_live(d, 20)
        yield d
    finally:
        print_console_errors(d)
        d.quit()


# ---- helpers ------------------------------------------------------------------------------------


def route(driver, hash_: str, page: str) -> None:
    driver.execute_script("window.location.hash = arguments[0]", hash_)
    wait_for(driver, lambda d: displayed(d, f"#page-{page}"), 10, f"#page-{page} never showed")


def card(driver, name: str):
    els = driver.find_elements(By.CSS_SELECTOR, f'.ctr-card[data-name="{name}"]')
    return els[0] if els else None


def card_text(driver, name: str, css: str) -> str:
    c = card(driver, name)
    if not c:
        return ""
    els = c.find_elements(By.CSS_SELECTOR, css)
    return els[0].text.strip() if els else ""


def wait_state(driver, name: str, state: str, timeout: float = 15) -> None:
    try:
        wait_for(driver, lambda d: card_text(d, name, ".ctr-state") == state, timeout)
    except TimeoutException:
        pytest.fail(f"{name} never showed {state!r} (it says {card_text(driver, name, '.ctr-state')!r})")


def click_action(driver, name: str, action: str) -> None:
    card(driver, name).find_element(By.CSS_SELECTOR, f'button[data-action="{action}"]').click()


def log_lines(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#container-log-lines .log-line .log-text')].map(e => e.textContent)"
    )


# ---- tests --------------------------------------------------------------------------------------


def test_containers_page_lists_containers_with_live_cpu(browser):
    d = browser
    go(d, "containers")
    wait_for(d, lambda dr: card(dr, "alpha") and card(dr, "talker"), 15, "the two containers never appeared")
    for name in ("alpha", "talker"):
        wait_for(d, lambda dr: PERCENT.match(card_text(dr, name, ".ctr-cpu")), 15, f"{name} never showed a CPU figure")
        assert card_text(d, name, ".ctr-state") == "running"
        assert "nebula-test/busybox" in card_text(d, name, ".ctr-image")
        assert re.search(r"\d", card_text(d, name, ".ctr-mem"))
    # The sparkline fills from successive samples.
    wait_for(d, lambda dr: len(dr.execute_script("return window.__nebula.containers.samples('talker').cpu")) >= 3, 10)
    assert card(d, "alpha").find_element(By.CSS_SELECTOR, ".spark-line").get_attribute("d")
    # Filtering by name.
    search = d.find_element(By.ID, "containers-search")
    search.send_keys("talk")
    wait_for(d, lambda dr: not displayed(dr, '.ctr-card[data-name="alpha"]') and displayed(dr, '.ctr-card[data-name="talker"]'), 5)
    # clear() fires no `input` event.
    d.execute_script("const s = document.getElementById('containers-search'); s.value = ''; s.dispatchEvent(new Event('input'))")
    wait_for(d, lambda dr: displayed(dr, '.ctr-card[data-name="alpha"]'), 5)
    shot(d, "containers-list")


def test_stop_and_start_through_the_ui(browser, engine):
    try:
        _stop_and_start(browser, engine)
    finally:
        # Whatever happened, the later tests expect alpha running.
        if engine.docker("inspect", "-f", "{{.State.Status}}", "alpha") != "running":
            engine.docker("start", "alpha")


def _stop_and_start(browser, engine):
    d = browser
    route(d, "#/containers", "containers")
    wait_state(d, "alpha", "running")
    # Running: stop, restart, pause; no start.
    actions = [b.get_attribute("data-action") for b in card(d, "alpha").find_elements(By.CSS_SELECTOR, ".ctr-actions button")]
    assert actions == ["stop", "restart", "pause"], actions

    d.execute_script("""
        const st = window.__nebula.containers; window.__alphaStates = [];
        st.addEventListener('change', () => { const c = st.byName('alpha');
          if (c) window.__alphaStates.push([Date.now(), st.snapshot.collected_at, c.state, c.cpu_percent]); });""")
    click_action(d, "alpha", "stop")
    dlg = wait_for(d, lambda dr: dr.find_element(By.CSS_SELECTOR, "dialog[open]"), 5)
    assert "Stop alpha?" in dlg.text
    shot(d, "containers-confirm-stop")
    dlg.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(d, lambda dr: not dr.find_elements(By.CSS_SELECTOR, "dialog[open]"), 20, "the dialog stayed open")
    wait_state(d, "alpha", "exited", 10)
    assert engine.docker("inspect", "-f", "{{.State.Status}}", "alpha") == "exited"
    # Once the stop is published, no later publication may show the container running again.
    time.sleep(2.5)
    seen = d.execute_script("return window.__alphaStates")
    states = [s[2] for s in seen]
    after = states[states.index("exited"):] if "exited" in states else []
    assert "running" not in after, f"alpha went back to running after exited: [now, collected_at, state, cpu] {seen}"
    assert card_text(d, "alpha", ".ctr-cpu") == "—"
    shot(d, "containers-stopped")

    click_action(d, "alpha", "start")
    dlg = wait_for(d, lambda dr: dr.find_element(By.CSS_SELECTOR, "dialog[open]"), 5)
    dlg.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_state(d, "alpha", "running", 10)
    assert engine.docker("inspect", "-f", "{{.State.Status}}", "alpha") == "running"


def test_detail_page_live_log_pause_and_search(browser):
    d = browser
    route(d, "#/containers", "containers")
    wait_for(d, lambda dr: card(dr, "talker"), 10)
    card(d, "talker").find_element(By.CSS_SELECTOR, ".ctr-name").click()
    wait_for(d, lambda dr: displayed(dr, "#page-container"), 10)
    assert text_of(d, "#container-title") == "talker"
    wait_for(d, lambda dr: text_of(dr, "#container-state") == "running", 10)
    wait_for(d, lambda dr: len(log_lines(dr)) >= 10, 15, "the log never showed lines")
    lines = log_lines(d)
    assert all(re.match(r"^(line|oops) \d+$", t) for t in lines), lines[:5]
    wait_for(d, lambda dr: dr.find_elements(By.CSS_SELECTOR, '#container-log-lines .log-line[data-stream="stderr"]'), 10)
    # Live: more lines keep arriving.
    n = len(log_lines(d))
    wait_for(d, lambda dr: len(log_lines(dr)) > n, 5, "no new log lines arrived")
    # The charts and the live value.
    wait_for(d, lambda dr: PERCENT.match(dr.execute_script(
        "return document.querySelector('#page-container .chart .chart-now').textContent")), 10)
    d.find_element(By.CSS_SELECTOR, '#page-container .segment[data-range="24h"]').click()
    assert d.find_element(By.CSS_SELECTOR, '#page-container .segment[data-range="24h"]').get_attribute("aria-pressed") == "true"
    shot(d, "containers-detail")

    # Pause: nothing new is shown, but the lines are counted.
    d.find_element(By.ID, "container-log-pause").click()
    frozen = log_lines(d)
    time.sleep(1.5)
    assert log_lines(d) == frozen
    new = wait_for(d, lambda dr: re.match(r"^(\d+) new lines?$", text_of(dr, "#container-log-new")), 5)
    assert int(new.group(1)) >= 3
    shot(d, "containers-log-paused")
    d.find_element(By.ID, "container-log-new").click()  # resumes
    wait_for(d, lambda dr: len(log_lines(dr)) > len(frozen), 5)
    assert d.find_element(By.ID, "container-log-pause").text == "Pause"

    # Search filters and highlights.
    d.find_element(By.ID, "container-log-search").send_keys("oops")
    wait_for(d, lambda dr: log_lines(dr) and all(t.startswith("oops") for t in log_lines(dr)), 5)
    assert d.find_elements(By.CSS_SELECTOR, "#container-log-lines mark")
    assert "match" in text_of(d, ".log-count")
    shot(d, "containers-log-search")
    d.execute_script("const s = document.getElementById('container-log-search'); s.value = ''; s.dispatchEvent(new Event('input'))")

    # Leaving the page stops following the log.
    assert d.execute_script("return window.__nebula.connection.subs.has('logs.talker')")
    route(d, "#/containers", "containers")
    assert not d.execute_script("return window.__nebula.connection.subs.has('logs.talker')")


def test_viewer_gets_no_enabled_actions_and_a_forced_one_is_refused(server):
    v = make_driver(VIEWPORTS["desktop"])
    try:
        v.get(f"{server.url}/")
        submit_login(v, VIEWER, VIEWER_PW, timeout=15)
        wait_live(v, 20)
        go(v, "containers")
        wait_for(v, lambda dr: card(dr, "alpha"), 15)
        buttons = v.find_elements(By.CSS_SELECTOR, ".ctr-actions button")
        assert buttons and all(not b.is_enabled() for b in buttons)
        assert displayed(v, "#containers-viewer-note")
        shot(v, "containers-viewer")
        # Forced anyway: the server refuses and the dialog says so.
        # Enable and click in one go: the next sample would disable the button again.
        v.execute_script("const b = document.querySelector('.ctr-card[data-name=\"alpha\"] button[data-action=\"stop\"]');"
                         " b.disabled = false; b.click();")
        dlg = wait_for(v, lambda dr: dr.find_element(By.CSS_SELECTOR, "dialog[open]"), 5)
        dlg.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_for(v, lambda dr: "Not allowed" in dlg.text, 10, "no 'Not allowed' in the dialog")
        shot(v, "containers-viewer-refused")
        dlg.find_element(By.CSS_SELECTOR, "button.btn-quiet").click()
        assert card_text(v, "alpha", ".ctr-state") == "running"
    finally:
        print_console_errors(v)
        v.quit()


def test_storage_page_shows_the_root_filesystem(browser):
    d = browser
    go(d, "storage")
    wait_for(d, lambda dr: "/" in [e.text for e in dr.find_elements(By.CSS_SELECTOR, "#storage-mounts .mount-name")], 15,
             "no '/' mount on the storage page")
    root = next(li for li in d.find_elements(By.CSS_SELECTOR, "#storage-mounts .mount")
                if li.find_element(By.CSS_SELECTOR, ".mount-name").text == "/")
    assert PERCENT.match(root.find_element(By.CSS_SELECTOR, ".mount-pct").text)
    assert root.get_attribute("data-tone") in ("ok", "warn", "crit")
    wait_for(d, lambda dr: dr.find_element(By.ID, "storage-trend-mount").get_attribute("value") == "/", 5)
    wait_for(d, lambda dr: dr.execute_script(
        "return document.querySelector('#page-storage .chart-line').getAttribute('d') || ''"), 10, "the trend stayed empty")
    # Docker's disk use, as label/value pairs (never stringified elements).
    wait_for(d, lambda dr: "Images" in [e.text for e in dr.find_elements(By.CSS_SELECTOR, "#page-storage dl.kv dt")], 15,
             "no Docker disk use")
    assert "[object" not in d.find_element(By.ID, "page-storage").text
    shot(d, "containers-storage", full_page=True)


def test_alerts_page_shows_the_filesystem_alert(browser):
    d = browser
    # The nav badge counts what fires, on any page.
    wait_for(d, lambda dr: displayed(dr, "#alerts-count") and int(text_of(dr, "#alerts-count") or 0) >= 1, 20,
             "the alerts badge never showed")
    go(d, "alerts")
    wait_for(d, lambda dr: any("/ is" in e.text for e in dr.find_elements(By.CSS_SELECTOR, "#alerts-firing .alert-item")), 10,
             "the '/' filesystem alert is not listed as firing")
    item = next(e for e in d.find_elements(By.CSS_SELECTOR, "#alerts-firing .alert-item") if "/ is" in e.text)
    assert item.get_attribute("data-severity") in ("warning", "critical")
    assert "fired" in item.text and ("ago" in item.text or "just now" in item.text), item.text
    wait_for(d, lambda dr: dr.find_elements(By.CSS_SELECTOR, "#alerts-history .alert-item"), 10)
    assert "firing" in text_of(d, "#alerts-summary")
    shot(d, "containers-alerts")


def test_phone_width_has_no_sideways_scroll(server):
    p = make_driver(VIEWPORTS["phone"])
    try:
        p.get(f"{server.url}/#token={server.key}")
        wait_live(p, 20)
        for hash_, page, ready in (
            ("#/containers", "containers", ".ctr-card"),
            ("#/containers/talker", "container", "#container-log-lines .log-line"),
            ("#/storage", "storage", "#storage-mounts .mount"),
            ("#/alerts", "alerts", "#alerts-history .alert-item"),
        ):
            route(p, hash_, page)
            wait_for(p, lambda dr: dr.find_elements(By.CSS_SELECTOR, ready), 15, f"{page}: {ready} never appeared")
            no_sideways_scroll(p, page)
            shot(p, f"containers-{page}-phone", full_page=True)
    finally:
        print_console_errors(p)
        p.quit()
