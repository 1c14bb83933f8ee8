"""The dashboard's protocol client (web/js/connection.js) survives a Redis restart that loses the
channel's history: real redis-server, the real `nebula` binary, headless Chromium.

    NEBULA_BIN=.build/debug/nebula pytest -p no:cacheprovider Tests/browser/test_redis_history_lost.py -v

(Without NEBULA_BIN the checkout's .build/debug/nebula is used when it exists.)

A redis-server without persistence (Tests/e2e/redis_server.py) and `nebula serve --redis-url …
--redis-probe-interval 200ms`. The page is the dashboard's own `/`; the test imports /js/connection.js
into it, connects to `/ws?token=<key>` and subscribes to an ordered `app.` channel with handlers that
record into `window.__t`. Publications go through `POST /api/v1/publish`.

When Redis is SIGKILLed and a fresh (empty) one starts on the same port, the replica sees a new epoch
for the channel and ends the subscription with `{"channel": …, "unsubscribed": {"code":
"history_lost", …}}` over the socket that stays open. The client must subscribe again with `since`,
learn `recovered: false`, call onReset once, and receive the new epoch's publications from offset 1.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from harness import VIEWPORTS, NebulaServer, make_driver, print_console_errors, wait_for
from selenium.common.exceptions import TimeoutException

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from redis_server import RedisServer  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
NEBULA_BIN = os.environ.get("NEBULA_BIN") or (
    str(REPO / ".build" / "debug" / "nebula") if (REPO / ".build" / "debug" / "nebula").exists() else None
)
pytestmark = [
    pytest.mark.skipif(not NEBULA_BIN, reason="NEBULA_BIN is not set and .build/debug/nebula does not exist"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed (apt-get install redis-server)"),
]

CHANNEL = "app.browser-reset"


# ---- processes ----------------------------------------------------------------------------------


class Redis:
    """The current redis-server, on a port that stays the same across a kill and a fresh start."""

    def __init__(self) -> None:
        self.server = RedisServer().start()
        self.port = self.server.port
        self.url = self.server.url

    def kill(self) -> None:
        self.server.kill()  # SIGKILL: no persistence, everything in memory is gone

    def start_fresh(self) -> None:
        """A new, empty redis-server on the same port (the old one's temp dir goes)."""
        self.server.stop()
        self.server = RedisServer(port=self.port).start()

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def redis():
    r = Redis()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture
def nebula(redis):
    s = NebulaServer(NEBULA_BIN, "nebula-browser-redis-")
    try:
        s.start("--redis-url", redis.url, "--redis-probe-interval", "200ms", "--replica-id", "browser-a")
        yield s
    finally:
        s.stop()


@pytest.fixture
def driver():
    d = make_driver(VIEWPORTS["desktop"])
    try:
        yield d
    finally:
        print_console_errors(d)
        d.quit()


# ---- HTTP ---------------------------------------------------------------------------------------


def healthz(server: NebulaServer) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def wait_broker(server: NebulaServer, healthy: bool, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            status, body = healthz(server)
            ok = body.get("components", {}).get("broker", {}).get("status") == "ok"
            if ok == healthy and (status == 200) == healthy:
                return body
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    pytest.fail(f"/healthz broker never became {'ok' if healthy else 'unhealthy'}: {body}\n{server.output()[-3000:]}")


def publish(server: NebulaServer, data) -> dict:
    req = urllib.request.Request(
        f"{server.url}/api/v1/publish",
        data=json.dumps({"channel": CHANNEL, "data": data}).encode(),
        headers={"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        body = json.loads(r.read())
    assert "result" in body, body
    return body["result"]


# ---- the page -----------------------------------------------------------------------------------

START_CLIENT = """
const [url, channel, done] = arguments;
import("/js/connection.js").then(({ Connection }) => {
  const t = (window.__t = { pubs: [], resets: [], subscribed: [], errors: [], states: [] });
  const conn = (window.__conn = new Connection({ url: () => url }));
  conn.addEventListener("state", (e) => t.states.push(e.detail.state));
  conn.subscribe(channel, {
    onPublication: (data, pub) => t.pubs.push({ data, offset: pub.offset }),
    onReset: (info) => t.resets.push(info),
    onSubscribed: (r) => t.subscribed.push({ epoch: r.epoch, offset: r.offset, recovered: r.recovered ?? null }),
    onError: (err) => t.errors.push(String(err && err.code ? err.code + ": " + err.message : err)),
  });
  conn.start();
  done("started");
}).catch((err) => done("import failed: " + err));
"""


def page_state(driver) -> dict:
    return driver.execute_script(
        "return window.__t ? {...window.__t, stats: {...window.__conn.stats}, state: window.__conn.state} : null"
    )


def wait_page(driver, nebula: NebulaServer, predicate, what: str, timeout: float = 15) -> dict:
    try:
        wait_for(driver, lambda d: predicate(page_state(d)), timeout)
    except TimeoutException:
        pytest.fail(f"{what}; page state: {page_state(driver)}\nserver log:\n{nebula.output()[-3000:]}")
    return page_state(driver)


# ---- the test -----------------------------------------------------------------------------------


def test_client_resubscribes_after_redis_loses_the_history(redis, nebula, driver):
    driver.set_script_timeout(30)
    driver.get(f"{nebula.url}/")  # the dashboard (sign-in page); it serves /js/connection.js
    ws_url = nebula.url.replace("http://", "ws://") + f"/ws?token={nebula.key}"
    assert driver.execute_async_script(START_CLIENT, ws_url, CHANNEL) == "started"

    st = wait_page(driver, nebula, lambda s: s and s["subscribed"], "the first subscribe never succeeded")
    assert st["state"] == "live" and st["errors"] == [], st
    first = st["subscribed"][0]
    assert first["offset"] == 0, first
    epoch1 = first["epoch"]

    # Before the restart: three publications, in order, each once.
    before = [{"n": i, "phase": "before"} for i in range(1, 4)]
    for i, data in enumerate(before, 1):
        result = publish(nebula, data)
        assert result["epoch"] == epoch1 and result["offset"] == i, result
    st = wait_page(driver, nebula, lambda s: len(s["pubs"]) >= 3, "the page did not get the first publications")
    assert st["pubs"] == [{"data": d, "offset": i} for i, d in enumerate(before, 1)], st["pubs"]
    assert st["resets"] == [] and st["stats"]["resubscribes"] == 0, st

    # Redis dies without persistence; an empty one comes up on the same port: a new epoch.
    redis.kill()
    wait_broker(nebula, healthy=False)
    redis.start_fresh()
    wait_broker(nebula, healthy=True)

    # The replica notices the lost history on its own (its cursor for the channel no longer matches
    # Redis) and pushes `unsubscribed`; the client resubscribes over the same socket, onReset fires.
    # Waiting for that before publishing keeps the test deterministic: the new epoch's offset 1 must
    # then arrive as a publication rather than be folded into the subscribe reply's position.
    st = wait_page(
        driver, nebula, lambda s: s["resets"] and len(s["subscribed"]) >= 2,
        "onReset never fired after Redis lost the channel's history (no resubscribe after `unsubscribed`?)",
    )
    assert st["stats"]["resubscribes"] >= 1, st["stats"]
    assert len(st["resets"]) == 1, st["resets"]
    reset = st["resets"][0]
    assert reset["epoch"] and reset["epoch"] != epoch1, (epoch1, reset)
    again = st["subscribed"][-1]
    assert again["recovered"] is False and again["epoch"] == reset["epoch"], st["subscribed"]
    # It was the push, not a reconnect, that brought it back: one socket all along.
    assert st["stats"]["connects"] == 1 and st["state"] == "live", st
    assert st["errors"] == [], st["errors"]

    # After the restart: publications flow again, from offset 1 of the new epoch.
    after = [{"n": i, "phase": "after"} for i in range(1, 3)]
    for i, data in enumerate(after, 1):
        result = publish(nebula, data)
        assert result["epoch"] == reset["epoch"] and result["offset"] == reset["offset"] + i, (reset, result)
    st = wait_page(driver, nebula, lambda s: len(s["pubs"]) >= 5, "the page did not get the publications after the restart")
    time.sleep(1.0)  # anything extra (a duplicate, a replay of the old epoch) would show up by now
    st = page_state(driver)
    expected = [{"data": d, "offset": i} for i, d in enumerate(before, 1)]
    expected += [{"data": d, "offset": reset["offset"] + i} for i, d in enumerate(after, 1)]
    assert st["pubs"] == expected, st["pubs"]
    assert [p["offset"] for p in st["pubs"][3:]] == [1, 2], st["pubs"]
    assert len(st["resets"]) == 1 and st["stats"]["connects"] == 1, st
    assert st["stats"]["publications"] == 5, st["stats"]
