"""HTTP API: /healthz, /metrics, POST /api/v1/publish, GET /api/v1/channels."""

import json
import re

import pytest

from e2e_lib import wait_until

DOC_METRICS = [
    "nebula_ws_connections", "nebula_ws_subscriptions", "nebula_publications_in_total",
    "nebula_publications_out_total", "nebula_messages_conflated_total", "nebula_messages_dropped_total",
    "nebula_slow_consumer_closes_total", "nebula_ws_outbound_queue_bytes",
]


def _error(r, status, code):
    assert r.status == status, (r.status, r.body[:300])
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str)


# --- /healthz -----------------------------------------------------------------------------------------

def test_healthz(shared_server):
    r = wait_until(lambda: (lambda r: r if r.status == 200 else None)(shared_server.http("GET", "/healthz", key=None)), 5)
    assert r, "healthz never returned 200"
    assert r.header("content-type", "").startswith("application/json"), r.headers
    h = r.json()
    assert h["status"] == "ok"
    assert isinstance(h["version"], str) and h["version"]
    assert isinstance(h["uptime_seconds"], (int, float)) and h["uptime_seconds"] >= 0
    comps = h["components"]
    assert {"broker", "telemetry", "websocket"} <= set(comps), comps
    assert comps["broker"]["status"] == "ok" and comps["broker"]["kind"] == "in-process"
    assert comps["telemetry"]["status"] == "ok"
    assert isinstance(comps["telemetry"]["last_sample_age_seconds"], (int, float))
    assert comps["websocket"]["status"] == "ok"
    assert isinstance(comps["websocket"]["connections"], int)


def test_healthz_and_metrics_count_connections(server):
    def conns():
        return server.http("GET", "/healthz", key=None).json()["components"]["websocket"]["connections"]

    assert wait_until(lambda: conns() == 0, 3), conns()
    a, b = server.ws(), server.ws()
    a.result("subscribe", channel="app.count")
    b.result("subscribe", channel="app.count")
    b.result("subscribe", channel="app.count2")
    assert wait_until(lambda: conns() == 2, 3), conns()
    m = server.metrics()
    assert m["nebula_ws_connections"] == 2
    assert m["nebula_ws_subscriptions"] == 3
    a.close()
    b.close()
    assert wait_until(lambda: conns() == 0, 3), conns()
    assert wait_until(lambda: server.metrics()["nebula_ws_connections"] == 0, 3)
    assert server.metrics()["nebula_ws_subscriptions"] == 0


def test_uptime_increases(shared_server):
    import time
    u1 = shared_server.http("GET", "/healthz", key=None).json()["uptime_seconds"]
    time.sleep(0.3)
    u2 = shared_server.http("GET", "/healthz", key=None).json()["uptime_seconds"]
    assert u2 > u1


# --- /metrics -----------------------------------------------------------------------------------------

def test_metrics_prometheus_text(shared_server):
    r = shared_server.http("GET", "/metrics", key=None)
    assert r.status == 200
    assert r.header("content-type", "").startswith("text/plain"), r.headers
    text = r.body.decode()
    for name in DOC_METRICS:
        assert re.search(rf"^{name}(\{{[^}}]*\}})? [-+0-9.eE]+(\s+\d+)?$", text, re.M), f"{name} missing:\n{text}"
    for line in text.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? \S+", line), line


def test_metrics_publication_counters_move(server):
    before = server.metrics()
    with server.ws() as sub:
        sub.result("subscribe", channel="app.counted")
        for i in range(3):
            r = server.http("POST", "/api/v1/publish", body={"channel": "app.counted", "data": i})
            assert r.status == 200
        for _ in range(3):
            sub.next_pub()
    after = server.metrics()
    assert after["nebula_publications_in_total"] - before["nebula_publications_in_total"] >= 3
    assert after["nebula_publications_out_total"] - before["nebula_publications_out_total"] >= 3


# --- POST /api/v1/publish -----------------------------------------------------------------------------

def test_publish_happy_path(shared_server):
    with shared_server.ws() as sub:
        s = sub.result("subscribe", channel="app.deploys-http")
        r = shared_server.http("POST", "/api/v1/publish",
                               body={"channel": "app.deploys-http", "data": {"service": "plex"}})
        assert r.status == 200, (r.status, r.body)
        assert r.header("content-type", "").startswith("application/json")
        body = r.json()
        assert set(body) == {"result"}
        assert body["result"] == {"channel": "app.deploys-http", "epoch": s["epoch"], "offset": 1}
        assert sub.next_pub() == {"channel": "app.deploys-http", "offset": 1, "data": {"service": "plex"}}
        r2 = shared_server.http("POST", "/api/v1/publish", body={"channel": "app.deploys-http", "data": [1, "two", None]})
        assert r2.json()["result"]["offset"] == 2
        assert sub.next_pub()["data"] == [1, "two", None]


@pytest.mark.parametrize("data", [None, 0, "text", False, 3.5, [], {}])
def test_publish_any_json_value(shared_server, data):
    r = shared_server.http("POST", "/api/v1/publish", body=json.dumps({"channel": "app.anyvalue", "data": data}),
                           headers={"Content-Type": "application/json"})
    assert r.status == 200, (r.status, r.body)
    off = r.json()["result"]["offset"]
    with shared_server.ws() as c:
        h = c.result("history", channel="app.anyvalue", limit=1)
        assert h["publications"] == [{"channel": "app.anyvalue", "offset": off, "data": data}]


@pytest.mark.parametrize("body", [
    "not json",
    "[1, 2]",
    '"app.x"',
    "{}",
    '{"channel": "app.x"}',
    '{"data": 1}',
    '{"channel": 5, "data": 1}',
    '{"channel": null, "data": 1}',
    "",
], ids=["not-json", "array", "string", "empty-object", "no-data", "no-channel", "channel-number",
        "channel-null", "empty-body"])
def test_publish_400(shared_server, body):
    r = shared_server.http("POST", "/api/v1/publish", body=body, headers={"Content-Type": "application/json"})
    _error(r, 400, "bad_request")


@pytest.mark.parametrize("key", [None, "wrong"])
def test_publish_401(shared_server, key):
    _error(shared_server.http("POST", "/api/v1/publish", body={"channel": "app.x", "data": 1}, key=key),
           401, "unauthorized")


def test_publish_403(shared_server):
    _error(shared_server.http("POST", "/api/v1/publish", body={"channel": "telemetry.host", "data": 1}),
           403, "forbidden")
    for server_only in ("storage", "alerts", "telemetry.containers", "logs.web", "jarvis.chat"):
        _error(shared_server.http("POST", "/api/v1/publish", body={"channel": server_only, "data": 1}), 403, "forbidden")


@pytest.mark.parametrize("channel", ["nope.nothing", "jobs.import", "app.", "app.bad name",
                                     "app." + "a" * 125])
def test_publish_404(shared_server, channel):
    _error(shared_server.http("POST", "/api/v1/publish", body={"channel": channel, "data": 1}),
           404, "unknown_channel")


def test_publish_413(shared_server):
    body = json.dumps({"channel": "app.big", "data": "x" * (70 * 1024)})
    r = shared_server.http("POST", "/api/v1/publish", body=body, headers={"Content-Type": "application/json"})
    _error(r, 413, "bad_request")
    # and the server is fine
    assert shared_server.http("GET", "/healthz", key=None).status in (200, 503)


# --- GET /api/v1/channels -----------------------------------------------------------------------------

def test_channels_lists_families_and_channels(shared_server):
    with shared_server.ws() as sub:
        sub.result("subscribe", channel="app.listed")
        r = shared_server.http("POST", "/api/v1/publish", body={"channel": "app.listed", "data": 1})
        assert r.status == 200
        sub.next_pub()
        r = shared_server.http("GET", "/api/v1/channels")
        assert r.status == 200, r.body
        body = r.json()
    fams = {f["pattern"]: f for f in body["families"]}
    assert fams["telemetry.host"] == {"pattern": "telemetry.host", "delivery": "latest", "history_size": 1,
                                      "history_ttl_seconds": None, "subscribe": "read", "publish": "server"}
    assert fams["app.*"] == {"pattern": "app.*", "delivery": "ordered", "history_size": 100,
                             "history_ttl_seconds": 600, "subscribe": "read", "publish": "publish"}
    assert fams["telemetry.containers"]["delivery"] == fams["telemetry.container.*"]["delivery"] == "latest"
    assert fams["audit"] == {"pattern": "audit", "delivery": "ordered", "history_size": 100,
                             "history_ttl_seconds": 3600, "subscribe": "admin", "publish": "server"}
    assert fams["jarvis.*"] == {"pattern": "jarvis.*", "delivery": "ordered", "history_size": 4000,
                                "history_ttl_seconds": 3600, "subscribe": "owner", "publish": "server"}
    assert body["reserved"] == ["telemetry.*", "jobs.*", "overlay.*", "bots.*"]
    chans = {c["name"]: c for c in body["channels"]}
    assert "telemetry.host" in chans, list(chans)
    listed = chans["app.listed"]
    assert listed["offset"] == 1 and listed["subscribers"] == 1, listed
    assert isinstance(listed["epoch"], str) and listed["epoch"]
    assert chans["telemetry.host"]["offset"] >= 1
    assert "app.never-touched" not in chans


def test_unknown_path_404(shared_server):
    assert shared_server.http("GET", "/api/v1/nothing-here").status == 404
    assert shared_server.http("GET", "/definitely-not-a-file.txt", key=None).status == 404
