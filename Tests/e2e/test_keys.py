"""Scoped API keys and overlay keys (issue 3): created by an admin over HTTP, shown once, stored hashed,
checked on every subscribe/publish, revocable."""

import json
import time

from e2e_lib import RawWS, wait_until


def _create(s, **body):
    return s.http("POST", "/api/v1/keys", body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def test_read_key_may_subscribe_but_never_publish(server):
    r = _create(server, name="dashboard-tv", scopes=["read"])
    assert r.status == 201, r.body
    created = r.json()["result"]
    assert created["scopes"] == ["read"] and created["kind"] == "api" and created["key"].startswith("nbk_")
    key = created["key"]
    with server.ws(key=key) as c:
        assert c.result("subscribe", channel="app.read-only")["offset"] == 0
        err = c.request("publish", channel="app.read-only", data={"x": 1})["error"]
        assert err["code"] == "forbidden", err
    r = server.http("POST", "/api/v1/publish", body=b'{"channel":"app.read-only","data":1}', key=key)
    assert r.status == 403 and r.json()["error"]["code"] == "forbidden"
    assert server.http("GET", "/api/v1/keys", key=key).status == 403


def test_publish_scope_is_per_family(server):
    key = _create(server, name="ci", scopes=["read", "publish:app"]).json()["result"]["key"]
    r = server.http("POST", "/api/v1/publish", body=b'{"channel":"app.deploys","data":{"v":1}}', key=key)
    assert r.status == 200, r.body
    with server.ws(key=key) as c:
        assert c.result("publish", channel="app.deploys", data={"v": 2})["offset"] == 2
        assert c.request("publish", channel="telemetry.host", data={})["error"]["code"] == "forbidden"


def test_overlay_key_sees_only_overlay_channels(server):
    created = _create(server, name="obs alerts", kind="overlay").json()["result"]
    assert created["kind"] == "overlay" and created["scopes"] == ["read"] and created["key"].startswith("nbo_")
    with server.ws(key=created["key"]) as c:
        assert c.request("subscribe", channel="telemetry.host")["error"]["code"] == "forbidden"
        assert c.request("subscribe", channel="app.anything")["error"]["code"] == "forbidden"
        assert c.request("publish", channel="app.anything", data=1)["error"]["code"] == "forbidden"


def test_listing_never_shows_keys_and_revocation_locks_out(server):
    created = _create(server, name="temp'); DROP TABLE api_keys; --", scopes=["read"]).json()["result"]
    listed = server.http("GET", "/api/v1/keys").json()["result"]["keys"]
    mine = [k for k in listed if k["id"] == created["id"]]
    assert mine and mine[0]["name"] == "temp'); DROP TABLE api_keys; --"
    assert "key" not in mine[0] and created["key"] not in json.dumps(listed)
    assert server.http("GET", "/api/v1/channels", key=created["key"]).status == 200
    assert server.http("DELETE", f"/api/v1/keys/{created['id']}").status == 200
    assert server.http("DELETE", f"/api/v1/keys/{created['id']}").status == 404
    assert server.http("GET", "/api/v1/channels", key=created["key"]).status == 401
    raw = RawWS(server.port, key=created["key"])
    assert raw.handshake().status == 401
    revoked = [k for k in server.http("GET", "/api/v1/keys").json()["result"]["keys"] if k["id"] == created["id"]]
    assert revoked[0]["revoked_at"] is not None


def test_expired_key_is_refused(server):
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    key = _create(server, name="short-lived", scopes=["read"], expires_at=expires).json()["result"]["key"]
    assert server.http("GET", "/api/v1/channels", key=key).status == 200
    assert wait_until(lambda: server.http("GET", "/api/v1/channels", key=key).status == 401, 8)


def test_bad_requests_are_explained(server):
    assert _create(server, scopes=["read"]).status == 400
    r = _create(server, name="x", scopes=["root"])
    assert r.status == 400 and "unknown scope 'root'" in r.json()["error"]["message"]
    assert _create(server, name="x", scopes=["read"], expires_at="yesterday").status == 400
    assert _create(server, name="x", scopes=["read"], kind="superkey").status == 400
    assert _create(server, name="x").status == 400
    assert server.http("POST", "/api/v1/keys", body=b"not json").status == 400
    assert server.http("DELETE", "/api/v1/keys/abc").status == 400
    assert server.http("POST", "/api/v1/keys", body=b'{"name":"x","scopes":["read"]}', key=None).status == 401
    assert server.http("POST", "/api/v1/keys", body=b'{"name":"x","scopes":["read"]}', key="wrong").status == 401


def test_key_changes_are_audited_and_keys_survive_restarts(server_factory, tmp_path):
    import sqlite3
    data = tmp_path / "data"
    s = server_factory(["--telemetry-interval", "30s"], data_dir=data)
    created = _create(s, name="persisted", scopes=["read"]).json()["result"]
    assert s.stop() == 0
    s2 = server_factory(["--telemetry-interval", "30s"], data_dir=data)
    assert s2.http("GET", "/api/v1/channels", key=created["key"]).status == 200
    assert s2.http("DELETE", f"/api/v1/keys/{created['id']}").status == 200
    assert s2.stop() == 0
    with sqlite3.connect(data / "nebula.sqlite") as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
        hashes = [row[0] for row in db.execute("SELECT key_hash FROM api_keys")]
    assert actions == ["key.create", "key.revoke"]
    assert created["key"] not in hashes and all(len(h) == 64 for h in hashes)


def test_revoked_key_loses_a_live_connection_within_a_second(server):
    created = _create(server, name="live", scopes=["read"]).json()["result"]
    raw = RawWS(server.port, key=created["key"]).connect()
    raw.send_json({"id": 1, "op": "subscribe", "channel": "app.live"})
    assert raw.recv_json()["id"] == 1
    with server.ws() as admin_client:  # the admin's own connection must stay
        started = time.monotonic()
        assert server.http("DELETE", f"/api/v1/keys/{created['id']}").status == 200
        info = raw.wait_close(timeout=3)
        assert time.monotonic() - started < 1.5, time.monotonic() - started
        assert info.code == 4003 and info.reason == "key revoked or expired", info
        assert admin_client.request("ping")["result"] == {}
