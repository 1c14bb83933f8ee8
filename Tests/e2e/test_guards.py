"""Every guard of issue 3 from outside: hostile text in every field the server takes, scope and role
violations on every protected action, and no secret ever written to the logs."""

from __future__ import annotations

import base64
import sqlite3

import pytest

from accounts_lib import PASSWORD, Session, create_user, enrol_totp, login
from e2e_lib import RawWS

HOSTILE = [
    "' OR '1'='1",
    "x'; DROP TABLE users; --",
    '"; DELETE FROM sessions; --',
    "%_\\",
    "robert'); DROP TABLE audit_log;--",
    "1; SELECT * FROM secrets",
]


@pytest.fixture
def site(server_factory, tmp_path):
    data = tmp_path / "data"
    create_user(data, "ann", "admin")
    create_user(data, "otto", "operator")
    create_user(data, "val", "viewer")
    return server_factory(["--telemetry-interval", "30s", "--log-level", "trace"], data_dir=data)


def _tables_intact(site):
    with sqlite3.connect(site.data_dir / "nebula.sqlite") as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        users = [r[0] for r in db.execute("SELECT username FROM users ORDER BY username")]
    assert {"users", "sessions", "api_keys", "audit_log", "secrets", "recovery_codes"} <= tables
    return users


def test_sql_metacharacters_are_data_in_every_field(site):
    ann = Session.login(site, "ann")
    for text in HOSTILE:
        # Login: username, password, TOTP field.
        assert login(site, text, text).status == 401
        assert login(site, "ann", text).status == 401
        assert login(site, "ann", PASSWORD, totp=text).status == 200  # no 2FA enrolled: the field is ignored
        # Setup token.
        assert site.http("POST", "/api/v1/setup", body={"token": text, "username": "x", "password": PASSWORD}, key=None).status == 409
        # Usernames are validated; passwords are anything long enough.
        assert ann.http("POST", "/api/v1/users", {"username": text, "password": PASSWORD, "role": "viewer"}).status == 400
        assert ann.http("POST", "/api/v1/users", {"username": "u1", "password": text + " long enough", "role": text}).status == 400
        # Key names and scopes.
        key = ann.http("POST", "/api/v1/keys", {"name": text, "scopes": ["read"]})
        assert key.status == 201 and key.json()["result"]["name"] == text
        assert ann.http("POST", "/api/v1/keys", {"name": "k", "scopes": [text]}).status == 400
        assert ann.http("POST", "/api/v1/keys", {"name": "k", "scopes": ["read"], "expires_at": text}).status == 400
        # Audit filters.
        for field in ("actor", "action", "outcome"):
            from urllib.parse import quote
            r = ann.http("GET", f"/api/v1/audit?{field}={quote(text)}")
            assert r.status == 200, (field, text, r.body)
        # Secret names (validated) and values (stored as given).
        from urllib.parse import quote
        assert ann.http("PUT", f"/api/v1/secrets/{quote(text, safe='')}", {"value": text}).status in (400, 404)
        assert ann.http("PUT", "/api/v1/secrets/plain", {"value": text}).status == 200
        # Channel names over the WebSocket and HTTP.
        assert ann.http("POST", "/api/v1/publish", {"channel": text, "data": text}).status in (400, 404)
        # Password change fields.
        r = ann.http("POST", "/api/v1/account/password", {"current_password": text, "new_password": text + " long enough"})
        assert r.status == 403
    names = [k["name"] for k in ann.http("GET", "/api/v1/keys").json()["result"]["keys"]]
    assert set(HOSTILE) <= set(names)
    # An actor filter with a hostile name finds exactly the failed logins under that name.
    from urllib.parse import quote
    entries = ann.http("GET", f"/api/v1/audit?actor={quote(HOSTILE[0])}").json()["result"]["entries"]
    assert entries and all(e["actor"] == HOSTILE[0] and e["action"] == "login" for e in entries)
    assert _tables_intact(site) == ["ann", "otto", "val"]
    assert login(site, "ann").status == 200


def test_scope_and_role_violations_are_refused_on_every_action(site):
    ann = Session.login(site, "ann")
    keys = {}
    for name, body in {"read": {"scopes": ["read"]}, "publish-app": {"scopes": ["read", "publish:app"]},
                       "containers": {"scopes": ["containers", "jobs"]}, "overlay": {"kind": "overlay"}}.items():
        r = ann.http("POST", "/api/v1/keys", {"name": name, **body})
        assert r.status == 201, r.body
        keys[name] = r.json()["result"]["key"]

    admin_only = [("GET", "/api/v1/users", None), ("POST", "/api/v1/users", {"username": "z", "password": PASSWORD, "role": "admin"}),
                  ("PATCH", "/api/v1/users/1", {"role": "viewer"}), ("DELETE", "/api/v1/users/1", None),
                  ("GET", "/api/v1/keys", None), ("POST", "/api/v1/keys", {"name": "z", "scopes": ["admin"]}),
                  ("DELETE", "/api/v1/keys/1", None), ("GET", "/api/v1/audit", None),
                  ("GET", "/api/v1/secrets", None), ("PUT", "/api/v1/secrets/z", {"value": "v"}), ("DELETE", "/api/v1/secrets/z", None)]
    for name, key in keys.items():
        for method, path, body in admin_only:
            r = site.http(method, path, body=body, key=key)
            assert r.status == 403, (name, method, path, r.status)
            assert r.json()["error"]["code"] == "forbidden"
    for user in ("otto", "val"):
        s = Session.login(site, user)
        for method, path, body in admin_only:
            assert s.http(method, path, body).status == 403, (user, method, path)

    publish = {"channel": "app.guard", "data": 1}
    assert site.http("POST", "/api/v1/publish", body=publish, key=keys["read"]).status == 403
    assert site.http("POST", "/api/v1/publish", body=publish, key=keys["containers"]).status == 403
    assert site.http("POST", "/api/v1/publish", body=publish, key=keys["publish-app"]).status == 200
    assert site.http("POST", "/api/v1/publish", body=publish, key=keys["overlay"]).status == 403
    assert Session.login(site, "val").http("POST", "/api/v1/publish", publish).status == 403
    assert Session.login(site, "otto").http("POST", "/api/v1/publish", publish).status == 200

    # Over the WebSocket, per message: subscribe and publish checked each time.
    with RawWS(site.port, key=keys["overlay"]).connect() as overlay:
        overlay.send_json({"id": 1, "op": "subscribe", "channel": "app.guard"})
        assert overlay.recv_json()["error"]["code"] == "forbidden"
        overlay.send_json({"id": 2, "op": "history", "channel": "audit"})
        assert overlay.recv_json()["error"]["code"] == "forbidden"
    with RawWS(site.port, key=keys["read"]).connect() as reader:
        reader.send_json({"id": 1, "op": "subscribe", "channel": "app.guard"})
        assert "result" in reader.recv_json()
        for i in range(3):
            reader.send_json({"id": 2 + i, "op": "publish", "channel": "app.guard", "data": i})
            assert reader.recv_json()["error"]["code"] == "forbidden"


def test_no_secret_reaches_the_logs(site):
    """Everything secret the server handles, at trace level: none of it may appear in stdout or stderr."""
    ann_login = login(site, "ann")
    ann = Session(site, ann_login)
    secrets = [PASSWORD, ann.token, ann.csrf]
    secret_value = "s3cr3t-webhook-value-for-the-log-test"
    assert ann.http("PUT", "/api/v1/secrets/webhook", {"value": secret_value}).status == 200
    secrets.append(secret_value)
    key = ann.http("POST", "/api/v1/keys", {"name": "ci", "scopes": ["read"]}).json()["result"]["key"]
    secrets.append(key)
    with RawWS(site.port, key=key).connect() as ws:
        ws.send_json({"id": 1, "op": "ping"})
        ws.recv_json()
    val = Session.login(site, "val")
    secrets += [val.token, val.csrf]
    totp_secret, codes = enrol_totp(val)
    secrets += [totp_secret, *codes]
    assert login(site, "val", totp=codes[0]).status == 200
    assert login(site, "val", "a wrong password to log").status == 401
    new_password = "a new password for val"
    assert val.http("POST", "/api/v1/account/password", {"current_password": PASSWORD, "new_password": new_password}).status == 200
    secrets.append(new_password)
    assert site.http("GET", "/api/v1/keys", key="nbk_wrong_key_guess_for_the_logs").status == 401
    secrets.append("nbk_wrong_key_guess_for_the_logs")
    key_file = (site.data_dir / "secret.key").read_text().strip()
    secrets.append(key_file)
    # The same key as the bytes a debugger or a reflected struct would print.
    raw = bytes.fromhex(key_file) if len(key_file) == 64 and all(c in "0123456789abcdefABCDEF" for c in key_file) \
        else base64.b64decode(key_file)
    secrets += [raw.hex(), ", ".join(str(b) for b in raw[:6])]

    site.stop()
    logs = site.stdout + site.stderr
    # The logs are there and detailed (every request, at debug), just without the secrets.
    assert "path=/api/v1/auth/login" in logs and "path=/api/v1/secrets/webhook" in logs, logs[-2000:]
    for secret in secrets:
        assert secret not in logs, f"a secret ({secret[:4]}…) appears in the logs"
