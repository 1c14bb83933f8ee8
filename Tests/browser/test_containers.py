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
import tempfile
import time
import uuid
from contextlib import contextmanager
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
    sign_in_and_go,
    text_of,
    wait_for,
    wait_live,
    wait_shown,
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
    with dashboard(server) as d:
        yield d


@contextmanager
def own_server(prefix: str, *args: str):
    """A server of the test's own, for flags the module's server cannot have."""
    s = NebulaServer(NEBULA_BIN, prefix)
    try:
        yield s.start(*args)
    finally:
        s.stop()


@contextmanager
def dashboard(server, viewport: str = "desktop"):
    """Chromium on `server`'s dashboard with its key, once it is Live."""
    d = make_driver(VIEWPORTS[viewport])
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


def open_dialog(driver):
    return wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open]"), 5, "no dialog opened")


def answer_dialog(driver, dlg, confirm: bool = True) -> None:
    """Confirm (or cancel) and wait until the dialog is gone, which after a confirmation means the server said yes."""
    dlg.find_element(By.CSS_SELECTOR, "button[type=submit]" if confirm else "button.btn-quiet").click()
    try:
        wait_for(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"), 20)
    except TimeoutException:
        pytest.fail(f"the dialog stayed open: {dlg.text!r}")


def docker_state(engine, name: str) -> str:
    return engine.docker("inspect", "-f", "{{.State.Status}}", name)


def mark_visit(driver) -> None:
    """Tag this page load; same_visit() tells whether it is still the one (no reload happened)."""
    driver.execute_script("window.__sameVisit = true")


def same_visit(driver) -> bool:
    return driver.execute_script("return window.__sameVisit === true")


def record_posts(driver) -> None:
    """From now on, container_posts() lists the page's POSTs about containers, as they are sent."""
    driver.execute_script("""
        if (!window.__posts) { const f = window.fetch; window.fetch = (u, o) => {
          if (o && String(o.method).toUpperCase() === 'POST') window.__posts.push(String(u)); return f(u, o); }; }
        window.__posts = [];""")


def container_posts(driver) -> list[str]:
    return [u for u in driver.execute_script("return window.__posts") if u.startswith("/api/v1/containers/")]


def alert_item(driver, list_css: str, subject: str):
    """The entry about `subject` in one of the alerts page's lists, or None."""
    for li in driver.find_elements(By.CSS_SELECTOR, f"{list_css} .alert-item"):
        if text_of(li, ".alert-subject") == subject:
            return li
    return None


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


def test_engine_unavailable_then_back_without_a_reload(engine):
    """A server whose --docker-host socket does not exist yet: the page names the engine's error and lists
    nothing; once the socket appears (a link to the module's dockerd) the containers show up live."""
    with tempfile.TemporaryDirectory(prefix="nebula-noengine-") as tmp:
        sock = Path(tmp) / "docker.sock"
        with own_server("nebula-noengine-", "--docker-host", f"unix://{sock}") as s, dashboard(s) as d:
            go(d, "containers")
            banner = wait_shown(d, "#containers-engine", 15)
            # The banner carries the error the server published with the empty list.
            error = wait_for(d, lambda dr: dr.execute_script(
                "const e = window.__nebula.containers.engine(); return e && e.status === 'unavailable' && e.error"), 10)
            assert str(sock) in error, error
            assert banner.text == f"Container engine unavailable: {error}"
            assert banner.get_attribute("role") == "alert"
            assert not d.find_elements(By.CSS_SELECTOR, ".ctr-card")
            assert not displayed(d, "#page-containers .empty"), "an unreachable engine is not an engine without containers"
            shot(d, "containers-engine-unavailable")

            mark_visit(d)
            sock.symlink_to(engine.socket)
            wait_for(d, lambda dr: card(dr, "alpha") and card(dr, "talker"), 15, "the containers never appeared")
            wait_for(d, lambda dr: not displayed(dr, "#containers-engine"), 5, "the banner stayed after the engine answered")
            wait_state(d, "alpha", "running")
            assert same_visit(d), "the page was reloaded"


def test_stop_and_start_through_the_ui(browser, engine):
    try:
        _stop_and_start(browser, engine)
    finally:
        # Whatever happened, the later tests expect alpha running.
        if docker_state(engine, "alpha") != "running":
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
    dlg = open_dialog(d)
    assert "Stop alpha?" in dlg.text
    shot(d, "containers-confirm-stop")
    answer_dialog(d, dlg)
    wait_state(d, "alpha", "exited", 10)
    assert docker_state(engine, "alpha") == "exited"
    # Once the stop is published, no later publication may show the container running again.
    time.sleep(2.5)
    seen = d.execute_script("return window.__alphaStates")
    states = [s[2] for s in seen]
    after = states[states.index("exited"):] if "exited" in states else []
    assert "running" not in after, f"alpha went back to running after exited: [now, collected_at, state, cpu] {seen}"
    assert card_text(d, "alpha", ".ctr-cpu") == "—"
    shot(d, "containers-stopped")

    click_action(d, "alpha", "start")
    dlg = open_dialog(d)
    dlg.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_state(d, "alpha", "running", 10)
    assert docker_state(engine, "alpha") == "running"


def test_restart_pause_and_cancel_through_the_ui(browser, engine):
    try:
        _restart_pause_and_cancel(browser, engine)
    finally:
        # The later tests expect alpha running.
        state = docker_state(engine, "alpha")
        if state == "paused":
            engine.docker("unpause", "alpha")
        elif state != "running":
            engine.docker("start", "alpha")


def _restart_pause_and_cancel(browser, engine):
    d = browser
    route(d, "#/containers", "containers")
    wait_state(d, "alpha", "running")
    mark_visit(d)
    record_posts(d)
    store = "window.__nebula.containers"

    # Cancel sends nothing and changes nothing, also over the next samples.
    click_action(d, "alpha", "pause")
    dlg = open_dialog(d)
    assert "Pause alpha?" in dlg.text
    collected = d.execute_script(f"return {store}.snapshot.collected_at")
    answer_dialog(d, dlg, confirm=False)
    wait_for(d, lambda dr: dr.execute_script(f"return {store}.snapshot.collected_at") > collected + 1500, 10,
             "no new samples after the cancel")
    assert container_posts(d) == []
    assert card_text(d, "alpha", ".ctr-state") == "running"
    assert docker_state(engine, "alpha") == "running"

    # Restart: the engine starts alpha anew; the page learns it over the socket and shows it running.
    def started(dr):
        return dr.execute_script(f"const c = {store}.byName('alpha'); return c && c.started_at")

    page_before = started(d)
    docker_before = engine.docker("inspect", "-f", "{{.State.StartedAt}}", "alpha")
    assert page_before
    click_action(d, "alpha", "restart")
    dlg = open_dialog(d)
    assert "Restart alpha?" in dlg.text
    answer_dialog(d, dlg)
    try:
        wait_for(d, lambda dr: started(dr) not in (None, page_before) and card_text(dr, "alpha", ".ctr-state") == "running", 10)
    except TimeoutException:
        pytest.fail(f"no restarted alpha on the page: started_at {started(d)!r} (was {page_before!r}), "
                    f"badge {card_text(d, 'alpha', '.ctr-state')!r}")
    assert engine.docker("inspect", "-f", "{{.State.StartedAt}}", "alpha") != docker_before
    assert docker_state(engine, "alpha") == "running"

    # Pause, then unpause.
    click_action(d, "alpha", "pause")
    answer_dialog(d, open_dialog(d))
    wait_state(d, "alpha", "paused", 10)
    assert docker_state(engine, "alpha") == "paused"
    badge = card(d, "alpha").find_element(By.CSS_SELECTOR, ".ctr-state")
    assert badge.get_attribute("data-tone") == "warn"
    actions = [b.get_attribute("data-action") for b in card(d, "alpha").find_elements(By.CSS_SELECTOR, ".ctr-actions button")]
    assert actions == ["unpause", "stop"], actions
    shot(d, "containers-paused")
    click_action(d, "alpha", "unpause")
    dlg = open_dialog(d)
    assert "Unpause alpha?" in dlg.text
    answer_dialog(d, dlg)
    wait_state(d, "alpha", "running", 10)
    assert docker_state(engine, "alpha") == "running"

    assert container_posts(d) == [
        f"/api/v1/containers/alpha/{action}" for action in ("restart", "pause", "unpause")]
    assert same_visit(d), "the page was reloaded"


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
        sign_in_and_go(v, server.url, VIEWER, VIEWER_PW, "containers")
        wait_for(v, lambda dr: card(dr, "alpha"), 15)
        buttons = v.find_elements(By.CSS_SELECTOR, ".ctr-actions button")
        assert buttons and all(not b.is_enabled() for b in buttons)
        assert displayed(v, "#containers-viewer-note")
        shot(v, "containers-viewer")
        # Forced anyway: the server refuses and the dialog says so.
        # Enable and click in one go: the next sample would disable the button again.
        v.execute_script("const b = document.querySelector('.ctr-card[data-name=\"alpha\"] button[data-action=\"stop\"]');"
                         " b.disabled = false; b.click();")
        dlg = open_dialog(v)
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


def test_unhealthy_container_alert_fires_then_resolves_live(engine):
    """A server of its own that alerts on nothing but the container's health: a container whose health check
    fails fires container_unhealthy on the open Alerts page and the nav badge; once the check passes the
    alert moves to "Recently resolved" and the badge goes, without a reload."""
    name = f"sick-{uuid.uuid4().hex[:6]}"
    with own_server("nebula-alerts-", "--docker-host", engine.host, "--alert-filesystem-percent", "100",
                    "--alert-for", "1s") as s, dashboard(s) as d:
        try:
            go(d, "alerts")
            # Nothing fires before the container exists, so the badge going away below means something.
            wait_for(d, lambda dr: dr.execute_script("return window.__nebula.alerts.loaded"), 10, "the alerts never loaded")
            assert text_of(d, "#alerts-summary") == "All clear"
            assert not displayed(d, "#alerts-count")
            mark_visit(d)

            engine.run(name, "sleep", "3600", options=[
                "--health-cmd", "cat /tmp/ok", "--health-interval", "1s", "--health-retries", "1", "--health-timeout", "1s"])
            item = wait_for(d, lambda dr: alert_item(dr, "#alerts-firing", name), 30, f"no firing alert about {name}")
            assert item.get_attribute("data-severity") == "critical"
            assert "container_unhealthy" in item.text and "unhealthy" in text_of(item, ".alert-summary"), item.text
            wait_for(d, lambda dr: displayed(dr, "#alerts-count") and text_of(dr, "#alerts-count") == "1", 5,
                     f"the nav badge says {text_of(d, '#alerts-count')!r}, not 1")
            assert text_of(d, "#alerts-summary") == "1 firing"
            shot(d, "containers-alert-firing")

            engine.docker("exec", name, "sh", "-c", "echo ok > /tmp/ok")
            done = wait_for(d, lambda dr: alert_item(dr, "#alerts-resolved", name), 30, f"the alert about {name} never resolved")
            assert done.get_attribute("data-state") == "resolved"
            assert "resolved" in text_of(done, ".badge")
            assert not alert_item(d, "#alerts-firing", name)
            wait_for(d, lambda dr: not displayed(dr, "#alerts-count"), 5, "the nav badge stayed")
            assert text_of(d, "#alerts-summary") == "All clear"
            # The history from the server agrees.
            wait_for(d, lambda dr: (a := alert_item(dr, "#alerts-history", name)) and a.get_attribute("data-state") == "resolved", 10,
                     "the history does not show the alert resolved")
            assert same_visit(d), "the page was reloaded"
            shot(d, "containers-alert-resolved")
        finally:
            engine.docker("rm", "-f", name, check=False)


def test_phone_width_has_no_sideways_scroll(server):
    with dashboard(server, "phone") as p:
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
