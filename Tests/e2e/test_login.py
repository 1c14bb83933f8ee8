"""Dashboard login (issue 3): password + optional TOTP, server-side sessions in an HttpOnly SameSite=Strict
cookie, CSRF on state changes, Origin on WebSockets, throttling with lockout, logout."""

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import struct
import subprocess
import time

import pytest

from accounts_lib import Session, enrol_totp, next_step_code
from e2e_lib import REPO, RawWS

BIN = os.environ.get("NEBULA_BIN", str(REPO / ".build" / "debug" / "nebula"))
PASSWORD = "correct horse battery"


def _user(data, name, role):
    r = subprocess.run([BIN, "user", "create", "--username", name, "--role", role, "--data-dir", str(data)],
                       input=PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@pytest.fixture
def site(server_factory, tmp_path):
    data = tmp_path / "data"
    _user(data, "ann", "admin")
    _user(data, "val", "viewer")
    return server_factory(["--telemetry-interval", "30s"], data_dir=data)


def _login(s, username, password=PASSWORD, totp=None):
    body = {"username": username, "password": password}
    if totp is not None:
        body["totp"] = totp
    return s.http("POST", "/api/v1/auth/login", body=json.dumps(body).encode(), key=None)


def _session(response):
    cookie = response.header("set-cookie")
    token = cookie.split(";", 1)[0].split("=", 1)[1]
    return {"Cookie": f"nebula_session={token}"}, response.json()["result"]["csrf_token"]


def test_login_sets_a_strict_httponly_cookie_and_me_answers(site):
    r = _login(site, "ann")
    assert r.status == 200, r.body
    cookie = r.header("set-cookie")
    assert cookie.startswith("nebula_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    user = r.json()["result"]["user"]
    assert {k: user[k] for k in ("id", "username", "role", "totp_enabled", "disabled")} == {
        "id": 1, "username": "ann", "role": "admin", "totp_enabled": False, "disabled": False}
    assert set(user) == {"id", "username", "role", "totp_enabled", "disabled", "created_at"}  # never a hash or secret
    headers, csrf = _session(r)
    me = site.http("GET", "/api/v1/auth/me", headers=headers, key=None)
    assert me.status == 200 and me.json()["result"]["csrf_token"] == csrf


def test_state_changes_need_the_csrf_token(site):
    headers, csrf = _session(_login(site, "ann"))
    body = json.dumps({"name": "from-dashboard", "scopes": ["read"]}).encode()
    assert site.http("POST", "/api/v1/keys", body=body, headers=headers, key=None).status == 401
    assert site.http("POST", "/api/v1/keys", body=body, headers={**headers, "X-CSRF-Token": "wrong"}, key=None).status == 401
    assert site.http("POST", "/api/v1/keys", body=body, headers={**headers, "X-CSRF-Token": csrf}, key=None).status == 201
    # Reading needs no token.
    assert site.http("GET", "/api/v1/keys", headers=headers, key=None).status == 200


def test_a_viewer_is_refused_admin_and_publish_actions(site):
    headers, csrf = _session(_login(site, "val"))
    h = {**headers, "X-CSRF-Token": csrf}
    assert site.http("GET", "/api/v1/channels", headers=headers, key=None).status == 200
    assert site.http("POST", "/api/v1/keys", body=b'{"name":"x","scopes":["read"]}', headers=h, key=None).status == 403
    assert site.http("POST", "/api/v1/publish", body=b'{"channel":"app.x","data":1}', headers=h, key=None).status == 403


def test_wrong_credentials_are_refused_alike_and_then_locked_out(site):
    wrong = _login(site, "ann", "wrong password!")
    nobody = _login(site, "nobody", PASSWORD)
    assert wrong.status == nobody.status == 401
    assert wrong.json()["error"] == nobody.json()["error"]
    for _ in range(3):
        assert _login(site, "ann", "wrong password!").status == 401
    locked = _login(site, "ann", "wrong password!")
    assert locked.status == 429 and locked.json()["error"]["code"] == "locked_out"
    assert int(locked.header("retry-after")) >= 1
    assert _login(site, "ann").status == 429  # even the right password waits
    with sqlite3.connect(site.data_dir / "nebula.sqlite") as db:
        outcomes = [r for r in db.execute("SELECT actor, outcome, client_address FROM audit_log WHERE action = 'login'")]
    assert ("ann", "denied", "127.0.0.1") in outcomes and any(o[1] == "locked" for o in outcomes)


def test_logout_ends_the_session(site):
    headers, csrf = _session(_login(site, "ann"))
    r = site.http("POST", "/api/v1/auth/logout", headers={**headers, "X-CSRF-Token": csrf}, key=None)
    assert r.status == 200 and "Max-Age=0" in r.header("set-cookie")
    assert site.http("GET", "/api/v1/auth/me", headers=headers, key=None).status == 401
    assert site.http("GET", "/api/v1/channels", headers=headers, key=None).status == 401


def test_logout_everywhere(site):
    first, csrf = _session(_login(site, "ann"))
    second, _ = _session(_login(site, "ann"))
    assert site.http("POST", "/api/v1/auth/logout-all", headers={**first, "X-CSRF-Token": csrf}, key=None).status == 200
    assert site.http("GET", "/api/v1/auth/me", headers=second, key=None).status == 401


def test_websocket_with_a_cookie_needs_our_origin(site):
    headers, _ = _session(_login(site, "val"))
    host = f"127.0.0.1:{site.port}"
    good = RawWS(site.port, key=None, headers={**headers, "Origin": f"http://{host}"}).connect()
    good.send_json({"id": 1, "op": "subscribe", "channel": "app.cookie"})
    assert good.recv_json()["result"]["offset"] == 0
    good.close()
    assert RawWS(site.port, key=None, headers={**headers, "Origin": "https://evil.example"}).handshake().status == 401
    assert RawWS(site.port, key=None, headers=headers).handshake().status == 401


def test_totp_is_required_once_enrolled(site):
    secret, _ = enrol_totp(Session.login(site, "ann"))
    r = _login(site, "ann")
    assert r.status == 401 and r.json()["error"]["code"] == "totp_required"
    code = next_step_code(secret)  # the enrolment code is spent
    wrong = "000000" if code != "000000" else "111111"
    assert _login(site, "ann", totp=wrong).status == 401
    ok = _login(site, "ann", totp=code)
    assert ok.status == 200 and ok.json()["result"]["user"]["totp_enabled"] is True
    # The same code again, within its window: a replay, refused.
    assert _login(site, "ann", totp=code).status == 401


def _audited_addresses(s):
    with sqlite3.connect(s.data_dir / "nebula.sqlite") as db:
        return [r[0] for r in db.execute("SELECT client_address FROM audit_log WHERE action = 'login' ORDER BY id")]


def test_behind_a_trusted_proxy_the_forwarded_client_is_throttled_and_audited(server_factory, tmp_path):
    data = tmp_path / "data"
    _user(data, "bob", "viewer")
    s = server_factory(["--telemetry-interval", "30s", "--trusted-proxy", "127.0.0.0/8,::1"], data_dir=data)

    def attempt(forwarded, username, password="wrong password!"):
        body = json.dumps({"username": username, "password": password}).encode()
        return s.http("POST", "/api/v1/auth/login", body=body, headers={"X-Forwarded-For": forwarded}, key=None)

    # What the client itself claims (left of the proxy's own entry) is not believed.
    assert attempt("6.6.6.6, 203.0.113.5", "nobody-0").status == 401
    assert _audited_addresses(s)[-1] == "203.0.113.5"
    # Failures under many names lock that client address out, and only that one: another client
    # behind the same proxy still logs in.
    for i in range(1, 6):
        attempt("203.0.113.5", f"nobody-{i}")
    assert attempt("203.0.113.5", "bob", PASSWORD).status == 429
    assert attempt("198.51.100.7", "bob", PASSWORD).status == 200
    assert set(_audited_addresses(s)) == {"203.0.113.5", "198.51.100.7"}


def test_without_trusted_proxies_forwarded_headers_are_ignored(site):
    body = json.dumps({"username": "ann", "password": "wrong password!"}).encode()
    site.http("POST", "/api/v1/auth/login", body=body, headers={"X-Forwarded-For": "203.0.113.5"}, key=None)
    assert _audited_addresses(site)[-1] == "127.0.0.1"
