"""Accounts (issue 3): the first-start setup link, users managed by admins, a user's own password and
second factor, the audit log (HTTP and the live `audit` channel), encrypted secrets, and live
WebSockets losing access when their session ends. Everything through the public surface only."""

from __future__ import annotations

import re
import time

import pytest

from accounts_lib import PASSWORD, Session, Store, create_user, enrol_totp, login, next_step_code, totp
from e2e_lib import RawWS

SETUP_LINK = re.compile(r"#setup=([A-Za-z0-9_-]+)")


def _setup_token(server) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        match = SETUP_LINK.search(server.stdout)
        if match:
            return match.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no setup link in stdout:\n{server.stdout}")


def _setup(server, token, username="owner", password=PASSWORD):
    return server.http("POST", "/api/v1/setup", body={"token": token, "username": username, "password": password}, key=None)


def _cookie_ws(session: Session) -> RawWS:
    return RawWS(session.server.port, key=None, headers={**session.cookie, **session.origin}).connect()


_databases = iter(range(1, 10_000))


@pytest.fixture(params=["sqlite", "postgres"])
def site(request, server_factory, tmp_path):
    """A server with an admin (ann), an operator (otto) and a viewer (val), made with the CLI; the
    same tests run on SQLite and on a real PostgreSQL."""
    data = tmp_path / "data"
    store = Store(data)
    if request.param == "postgres":
        postgres = request.getfixturevalue("postgres")
        name = f"accounts_{next(_databases)}"
        postgres.create_database(name)
        store = Store(data, postgres, name)
    for name, role in (("ann", "admin"), ("otto", "operator"), ("val", "viewer")):
        create_user(data, name, role, database_url=store.url)
    args = ["--telemetry-interval", "30s"] + (["--database-url", store.url] if store.url else [])
    server = server_factory(args, data_dir=data)
    server.store = store
    return server


# ---- first start ---------------------------------------------------------------------------------

def test_first_start_prints_a_setup_link_that_creates_the_admin_once(server_factory):
    s = server_factory(["--telemetry-interval", "30s"])
    token = _setup_token(s)
    assert s.http("GET", "/api/v1/setup", key=None).json() == {"result": {"needed": True}}

    wrong = _setup(s, "not-the-token")
    assert wrong.status == 401 and wrong.json()["error"]["code"] == "unauthorized"
    weak = _setup(s, token, password="short")
    assert weak.status == 400 and weak.json()["error"]["code"] == "weak_password"
    bad_name = _setup(s, token, username="no spaces; please")
    assert bad_name.status == 400 and bad_name.json()["error"]["code"] == "bad_request"

    # The refusals above did not use the token up.
    created = _setup(s, token)
    assert created.status == 201, created.body
    owner = Session(s, created)
    assert owner.user["role"] == "admin" and owner.user["username"] == "owner"
    assert owner.http("GET", "/api/v1/auth/me").status == 200

    again = _setup(s, token, username="second")
    assert again.status == 409 and again.json()["error"]["code"] == "setup_done"
    assert s.http("GET", "/api/v1/setup", key=None).json() == {"result": {"needed": False}}

    audit = owner.http("GET", "/api/v1/audit?action=setup").json()["result"]["entries"]
    assert [e["outcome"] for e in audit] == ["ok", "denied"]

    # Restarted with an account in place: no link any more.
    s.stop()
    s.start()
    assert "#setup=" not in s.stdout


def test_no_setup_link_when_accounts_exist(site):
    assert "#setup=" not in site.stdout
    r = _setup(site, "anything")
    assert r.status == 409 and r.json()["error"]["code"] == "setup_done"


# ---- users (admin) -------------------------------------------------------------------------------

def test_admin_creates_changes_and_deletes_users(site):
    ann = Session.login(site, "ann")
    r = ann.http("POST", "/api/v1/users", {"username": "nina", "password": "nina's password", "role": "viewer"})
    assert r.status == 201, r.body
    nina = r.json()["result"]["user"]
    assert nina["role"] == "viewer" and nina["disabled"] is False and "password_hash" not in nina

    dup = ann.http("POST", "/api/v1/users", {"username": "nina", "password": "another password", "role": "admin"})
    assert dup.status == 409 and dup.json()["error"]["code"] == "conflict"
    weak = ann.http("POST", "/api/v1/users", {"username": "neo", "password": "123", "role": "viewer"})
    assert weak.status == 400 and weak.json()["error"]["code"] == "weak_password"
    for bad in ({"username": "neo", "password": PASSWORD, "role": "root"}, {"username": "neo", "role": "viewer"},
                {"username": 5, "password": PASSWORD, "role": "viewer"}):
        assert ann.http("POST", "/api/v1/users", bad).status == 400, bad
    assert ann.http("POST", "/api/v1/users", b"not json").status == 400

    names = [u["username"] for u in ann.http("GET", "/api/v1/users").json()["result"]["users"]]
    assert names == ["ann", "nina", "otto", "val"]

    promoted = ann.http("PATCH", f"/api/v1/users/{nina['id']}", {"role": "operator"})
    assert promoted.status == 200 and promoted.json()["result"]["user"]["role"] == "operator"
    reset = ann.http("PATCH", f"/api/v1/users/{nina['id']}", {"password": "a brand new one"})
    assert reset.status == 200
    assert login(site, "nina", "nina's password").status == 401
    assert login(site, "nina", "a brand new one").status == 200

    assert ann.http("PATCH", f"/api/v1/users/{nina['id']}", {"disabled": True}).json()["result"]["user"]["disabled"]
    assert login(site, "nina", "a brand new one").status == 401
    assert ann.http("PATCH", f"/api/v1/users/{nina['id']}", {"disabled": False}).status == 200
    assert login(site, "nina", "a brand new one").status == 200

    assert ann.http("PATCH", f"/api/v1/users/{nina['id']}", {"totp_enabled": True}).status == 400
    assert ann.http("PATCH", "/api/v1/users/9999", {"role": "viewer"}).status == 404
    assert ann.http("PATCH", "/api/v1/users/abc", {"role": "viewer"}).status == 400
    assert ann.http("DELETE", f"/api/v1/users/{nina['id']}").status == 200
    assert ann.http("DELETE", f"/api/v1/users/{nina['id']}").status == 404
    assert login(site, "nina", "a brand new one").status == 401

    actions = [e["action"] for e in ann.http("GET", "/api/v1/audit?action=user.").json()["result"]["entries"]]
    assert actions.count("user.update") == 4 and "user.create" in actions and "user.delete" in actions


def test_the_last_admin_cannot_be_demoted_disabled_or_deleted(site):
    ann = Session.login(site, "ann")
    me = ann.user["id"]
    for change in ({"role": "operator"}, {"disabled": True}):
        r = ann.http("PATCH", f"/api/v1/users/{me}", change)
        assert r.status == 409 and r.json()["error"]["code"] == "last_admin", change
    r = ann.http("DELETE", f"/api/v1/users/{me}")
    assert r.status == 409 and r.json()["error"]["code"] == "last_admin"
    # With a second admin, the first may step down.
    otto = next(u for u in ann.http("GET", "/api/v1/users").json()["result"]["users"] if u["username"] == "otto")
    assert ann.http("PATCH", f"/api/v1/users/{otto['id']}", {"role": "admin"}).status == 200
    assert ann.http("PATCH", f"/api/v1/users/{me}", {"role": "viewer"}).status == 200


def test_only_admins_manage_users(site, api_key):
    for name in ("otto", "val"):
        s = Session.login(site, name)
        assert s.http("GET", "/api/v1/users").status == 403
        assert s.http("POST", "/api/v1/users", {"username": "x", "password": PASSWORD, "role": "admin"}).status == 403
        assert s.http("PATCH", "/api/v1/users/1", {"role": "viewer"}).status == 403
        assert s.http("DELETE", "/api/v1/users/1").status == 403
    # The bootstrap admin key is an admin too.
    assert site.http("GET", "/api/v1/users").status == 200
    assert site.http("GET", "/api/v1/users", key=None).status == 401


def test_disabling_a_user_closes_their_live_websocket_at_once(site):
    ann, val = Session.login(site, "ann"), Session.login(site, "val")
    ws = _cookie_ws(val)
    ws.send_json({"id": 1, "op": "subscribe", "channel": "app.room"})
    assert "result" in ws.recv_json()
    started = time.monotonic()
    assert ann.http("PATCH", f"/api/v1/users/{val.user['id']}", {"disabled": True}).status == 200
    info = ws.wait_close(timeout=3)
    assert info.code == 4003 and info.reason == "session ended", info
    assert time.monotonic() - started < 1.5
    assert val.http("GET", "/api/v1/auth/me").status == 401


def test_a_role_change_takes_effect_on_live_connections(site):
    ann, val = Session.login(site, "ann"), Session.login(site, "val")
    ws = _cookie_ws(val)
    ws.send_json({"id": 1, "op": "publish", "channel": "app.room", "data": 1})
    assert ws.recv_json()["error"]["code"] == "forbidden"
    assert ann.http("PATCH", f"/api/v1/users/{val.user['id']}", {"role": "operator"}).status == 200
    assert ws.wait_close(timeout=3).code == 4003
    # Logging in again gives the new role's rights.
    otto_now = Session.login(site, "val")
    ws = _cookie_ws(otto_now)
    ws.send_json({"id": 1, "op": "publish", "channel": "app.room", "data": 1})
    assert ws.recv_json()["result"]["offset"] == 1
    ws.close()


# ---- the user's own account ---------------------------------------------------------------------

def test_changing_the_password_ends_the_other_sessions(site):
    here, there = Session.login(site, "val"), Session.login(site, "val")
    ws_there = _cookie_ws(there)
    ws_here = _cookie_ws(here)
    wrong = here.http("POST", "/api/v1/account/password", {"current_password": "nope nope nope", "new_password": "fresh password 1"})
    assert wrong.status == 403 and wrong.json()["error"]["code"] == "wrong_password"
    weak = here.http("POST", "/api/v1/account/password", {"current_password": PASSWORD, "new_password": "short"})
    assert weak.status == 400 and weak.json()["error"]["code"] == "weak_password"
    ok = here.http("POST", "/api/v1/account/password", {"current_password": PASSWORD, "new_password": "fresh password 1"})
    assert ok.status == 200, ok.body
    assert ws_there.wait_close(timeout=3).code == 4003
    assert there.http("GET", "/api/v1/auth/me").status == 401
    assert here.http("GET", "/api/v1/auth/me").status == 200
    ws_here.send_json({"id": 7, "op": "ping"})
    assert ws_here.recv_json()["id"] == 7
    ws_here.close()
    assert login(site, "val").status == 401
    assert login(site, "val", "fresh password 1").status == 200


def test_guessing_the_password_through_a_session_is_throttled(site):
    val = Session.login(site, "val")
    for _ in range(5):
        assert val.http("POST", "/api/v1/account/password", {"current_password": "a wrong guess!", "new_password": "whatever 1234"}).status == 403
    locked = val.http("POST", "/api/v1/account/password", {"current_password": PASSWORD, "new_password": "whatever 1234"})
    assert locked.status == 429 and locked.json()["error"]["code"] == "locked_out" and int(locked.header("retry-after")) >= 1
    assert val.http("POST", "/api/v1/account/totp/disable", {"password": PASSWORD}).status == 429
    denied = [r[0] for r in site.store.rows("SELECT details FROM audit_log WHERE action = 'account.password' AND outcome = 'denied'")]
    assert denied.count("wrong_password") == 5 and "locked_out" in denied


def test_totp_enrolment_recovery_codes_and_turning_it_off(site):
    val = Session.login(site, "val")
    proposal = val.http("POST", "/api/v1/account/totp/setup", {}).json()["result"]
    assert proposal["otpauth_uri"].startswith("otpauth://totp/Nebula%20Command:val?secret=" + proposal["secret"])
    bad = val.http("POST", "/api/v1/account/totp/enable", {"secret": proposal["secret"], "code": "12345x"})
    assert bad.status == 400 and bad.json()["error"]["code"] == "invalid_code"
    assert val.http("POST", "/api/v1/account/totp/enable", {"secret": "!!!", "code": "123456"}).status == 400
    enabled = val.http("POST", "/api/v1/account/totp/enable", {"secret": proposal["secret"], "code": totp(proposal["secret"])})
    assert enabled.status == 200
    codes = enabled.json()["result"]["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10 and all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    again = val.http("POST", "/api/v1/account/totp/setup", {})
    assert again.status == 409 and again.json()["error"]["code"] == "totp_enabled"

    assert login(site, "val").json()["error"]["code"] == "totp_required"
    # A recovery code works once, typed with any case and spacing.
    assert login(site, "val", totp=codes[0].upper().replace("-", " ")).status == 200
    assert login(site, "val", totp=codes[0]).status == 401
    assert login(site, "val", totp=next_step_code(proposal["secret"])).status == 200

    wrong = val.http("POST", "/api/v1/account/recovery-codes", {"password": "not my password"})
    assert wrong.status == 403 and wrong.json()["error"]["code"] == "wrong_password"
    fresh = val.http("POST", "/api/v1/account/recovery-codes", {"password": PASSWORD}).json()["result"]["recovery_codes"]
    assert login(site, "val", totp=codes[1]).status == 401  # the old set is void
    assert login(site, "val", totp=fresh[0]).status == 200

    assert val.http("POST", "/api/v1/account/totp/disable", {"password": "not my password"}).status == 403
    assert val.http("POST", "/api/v1/account/totp/disable", {"password": PASSWORD}).status == 200
    assert login(site, "val").status == 200
    off = val.http("POST", "/api/v1/account/recovery-codes", {"password": PASSWORD})
    assert off.status == 409 and off.json()["error"]["code"] == "totp_not_enabled"

    actions = [r[0] for r in site.store.rows("SELECT action FROM audit_log WHERE action LIKE 'account.%' ORDER BY id")]
    assert actions[:2] == ["account.totp.enable", "account.totp.enable"] and "account.totp.disable" in actions


def test_the_totp_secret_is_sealed_in_the_store(site):
    val = Session.login(site, "val")
    secret, _ = enrol_totp(val)
    import base64
    raw = base64.b32decode(secret + "=" * ((8 - len(secret) % 8) % 8))
    hex_of = "encode(totp_secret, 'hex')" if site.store.postgres else "hex(totp_secret)"
    ((stored,),) = site.store.rows(f"SELECT {hex_of} FROM users WHERE username = 'val'")
    stored = bytes.fromhex(stored)
    assert raw not in stored and len(stored) == 1 + 12 + len(raw) + 16


def test_an_admin_can_remove_a_lost_second_factor(site):
    val = Session.login(site, "val")
    enrol_totp(val)
    ann = Session.login(site, "ann")
    r = ann.http("PATCH", f"/api/v1/users/{val.user['id']}", {"totp_enabled": False})
    assert r.status == 200 and r.json()["result"]["user"]["totp_enabled"] is False
    assert login(site, "val").status == 200


def test_account_endpoints_need_a_signed_in_user(site):
    for path, body in (("/api/v1/account/password", {"current_password": "x", "new_password": "y"}),
                       ("/api/v1/account/totp/setup", {}), ("/api/v1/account/totp/disable", {"password": "x"})):
        assert site.http("POST", path, body=body).status == 403  # the admin key is not an account
        assert site.http("POST", path, body=body, key=None).status == 401


# ---- audit ----------------------------------------------------------------------------------------

def test_audit_api_filters_and_pages(site):
    login(site, "val", "wrong password 1")
    login(site, "val")
    ann = Session.login(site, "ann")
    ann.http("POST", "/api/v1/keys", {"name": "k1", "scopes": ["read"]})
    ann.http("POST", "/api/v1/keys", {"name": "k2", "scopes": ["read"]})

    def entries(query):
        r = ann.http("GET", "/api/v1/audit" + query)
        assert r.status == 200, r.body
        return r.json()["result"]["entries"]

    everything = entries("")
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    assert {"id", "at", "actor", "action", "target", "client_address", "outcome", "details"} == set(everything[0])
    assert all(e["actor"] == "val" for e in entries("?actor=val")) and len(entries("?actor=val")) == 2
    assert [e["outcome"] for e in entries("?actor=val&outcome=denied")] == ["denied"]
    assert {e["action"] for e in entries("?action=key.")} == {"key.create"} and len(entries("?action=key.")) == 2
    assert entries("?action=key") == []  # exact unless it ends with a dot
    assert len(entries("?limit=2")) == 2
    older = entries(f"?before={everything[1]['id']}")
    assert [e["id"] for e in older] == [e["id"] for e in everything[2:]]
    assert entries("?since=2999-01-01T00:00:00Z") == []
    assert len(entries("?until=2999-01-01T00:00:00Z")) == len(everything)
    for bad in ("?limit=0", "?limit=5000", "?limit=x", "?since=yesterday", "?before=x"):
        assert ann.http("GET", "/api/v1/audit" + bad).status == 400, bad
    assert Session.login(site, "otto").http("GET", "/api/v1/audit").status == 403


def test_the_audit_channel_is_live_and_for_admins_only(site):
    ann, val = Session.login(site, "ann"), Session.login(site, "val")
    admin_ws = _cookie_ws(ann)
    admin_ws.send_json({"id": 1, "op": "subscribe", "channel": "audit"})
    assert "result" in admin_ws.recv_json()
    viewer_ws = _cookie_ws(val)
    viewer_ws.send_json({"id": 1, "op": "subscribe", "channel": "audit"})
    assert viewer_ws.recv_json()["error"]["code"] == "forbidden"
    viewer_ws.close()
    read_key = ann.http("POST", "/api/v1/keys", {"name": "reader", "scopes": ["read"]}).json()["result"]["key"]
    with RawWS(site.port, key=read_key).connect() as reader:
        reader.send_json({"id": 1, "op": "subscribe", "channel": "audit"})
        assert reader.recv_json()["error"]["code"] == "forbidden"

    assert login(site, "otto", "not the password").status == 401
    seen = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(e["actor"] == "otto" for e in seen):
        msg = admin_ws.recv_json(timeout=5)
        if msg.get("channel") == "audit":
            seen.append(msg["data"])
    entry = next(e for e in seen if e["actor"] == "otto")
    assert entry["action"] == "login" and entry["outcome"] == "denied" and entry["client_address"] == "127.0.0.1"
    admin_ws.close()


# ---- secrets ---------------------------------------------------------------------------------------

def test_secrets_are_encrypted_at_rest_and_never_read_back(site):
    ann = Session.login(site, "ann")
    value = "https://discord.com/api/webhooks/1234/very-secret-token-e2e"
    r = ann.http("PUT", "/api/v1/secrets/discord.webhook", {"value": value})
    assert r.status == 200 and r.json()["result"]["name"] == "discord.webhook"
    listed = ann.http("GET", "/api/v1/secrets").json()["result"]["secrets"]
    assert [s["name"] for s in listed] == ["discord.webhook"] and "value" not in listed[0]
    assert value.encode() not in ann.http("GET", "/api/v1/secrets").body
    for name in ("_nebula.key-check", "has%20space", "x" * 129):
        assert ann.http("PUT", f"/api/v1/secrets/{name}", {"value": "v"}).status == 400, name
    assert ann.http("PUT", "/api/v1/secrets/empty", {}).status == 400
    for suffix in ("", "-wal"):
        path = site.data_dir / f"nebula.sqlite{suffix}"
        if not site.store.postgres:
            assert value.encode() not in path.read_bytes()
            assert (path.stat().st_mode & 0o777) == 0o600
    assert (site.data_dir / "secret.key").stat().st_mode & 0o777 == 0o600
    assert value not in site.stdout + site.stderr

    for name in ("otto", "val"):
        assert Session.login(site, name).http("PUT", "/api/v1/secrets/x", {"value": "v"}).status == 403
    assert ann.http("DELETE", "/api/v1/secrets/discord.webhook").status == 200
    assert ann.http("DELETE", "/api/v1/secrets/discord.webhook").status == 404
    actions = [e["action"] for e in ann.http("GET", "/api/v1/audit?action=secret.").json()["result"]["entries"]]
    assert actions == ["secret.delete", "secret.put"]


def test_a_lost_or_wrong_secret_key_stops_the_server_with_a_clear_message(server_factory):
    s = server_factory(["--telemetry-interval", "30s"])
    assert s.http("PUT", "/api/v1/secrets/token", body={"value": "kept safe"}).status == 200
    s.stop()
    key_file = s.data_dir / "secret.key"
    key = key_file.read_text().strip()

    key_file.rename(s.data_dir / "secret.key.bak")
    failed = server_factory(["--telemetry-interval", "30s"], data_dir=s.data_dir, start=False)
    failed.start(wait=False)
    assert failed.wait_exit(20) == 1
    assert "key file" in failed.stderr and "secret.key is missing" in failed.stderr, failed.stderr
    assert not key_file.exists()  # no new key was made that could never open the old secrets

    other = "A" * 43 + "="
    wrong = server_factory(["--telemetry-interval", "30s"], data_dir=s.data_dir, start=False, env={"NEBULA_SECRET_KEY": other})
    wrong.start(wait=False)
    assert wrong.wait_exit(20) == 1
    assert "does not open the secrets" in wrong.stderr, wrong.stderr

    garbage = server_factory(["--telemetry-interval", "30s"], data_dir=s.data_dir, start=False, env={"NEBULA_SECRET_KEY": "too-short"})
    garbage.start(wait=False)
    assert garbage.wait_exit(20) == 1
    assert "NEBULA_SECRET_KEY is not usable" in garbage.stderr, garbage.stderr

    # The right key, given in the environment (how replicas share it), opens everything again.
    right = server_factory(["--telemetry-interval", "30s"], data_dir=s.data_dir, env={"NEBULA_SECRET_KEY": key})
    assert [x["name"] for x in right.http("GET", "/api/v1/secrets").json()["result"]["secrets"]] == ["token"]


# ---- sessions withdrawn while connected --------------------------------------------------------

@pytest.mark.parametrize("column", ["expires_at", "last_seen_at"])
def test_an_expired_or_idle_session_is_refused_and_its_websocket_closed(site, column):
    val = Session.login(site, "val")
    ws = _cookie_ws(val)
    ws.send_json({"id": 1, "op": "subscribe", "channel": "app.room"})
    assert "result" in ws.recv_json()
    site.store.execute(f"UPDATE sessions SET {column} = 1")  # 1970: past any expiry
    info = ws.wait_close(timeout=3)
    assert info.code == 4003 and info.reason == "session ended", info
    assert val.http("GET", "/api/v1/auth/me").status == 401
    assert val.http("GET", "/api/v1/channels").status == 401


def test_logout_closes_that_sessions_websocket_only(site):
    first, second = Session.login(site, "val"), Session.login(site, "val")
    ws_first, ws_second = _cookie_ws(first), _cookie_ws(second)
    assert first.http("POST", "/api/v1/auth/logout").status == 200
    assert ws_first.wait_close(timeout=3).code == 4003
    ws_second.send_json({"id": 3, "op": "ping"})
    assert ws_second.recv_json()["id"] == 3
    assert second.http("POST", "/api/v1/auth/logout-all").status == 200
    assert ws_second.wait_close(timeout=3).code == 4003


def test_replicas_sharing_postgres_share_accounts_and_withdraw_sessions_everywhere(server_factory, postgres, tmp_path):
    """Two servers on one PostgreSQL (and one NEBULA_SECRET_KEY): a session from one works on the
    other, a second factor enrolled on one verifies on the other, and disabling a user on one closes
    that user's WebSocket on the other within about a second."""
    postgres.create_database("accounts_replicas")
    url = f"postgres://postgres@127.0.0.1:{postgres.port}/accounts_replicas"
    key = "0123456789abcdef" * 4
    for name, role in (("ann", "admin"), ("val", "viewer")):
        create_user(tmp_path / "cli", name, role, database_url=url)
    env = {"NEBULA_SECRET_KEY": key}
    a = server_factory(["--telemetry-interval", "30s", "--database-url", url], env=env, data_dir=tmp_path / "a")
    b = server_factory(["--telemetry-interval", "30s", "--database-url", url], env=env, data_dir=tmp_path / "b")

    val_on_a = Session.login(a, "val")
    assert b.http("GET", "/api/v1/auth/me", headers=val_on_a.cookie, key=None).status == 200
    secret, _ = enrol_totp(val_on_a)
    assert login(b, "val").json()["error"]["code"] == "totp_required"
    val_on_b = Session.login(b, "val", totp=next_step_code(secret))

    ws = _cookie_ws(val_on_b)
    ws.send_json({"id": 1, "op": "subscribe", "channel": "app.replicas"})
    assert "result" in ws.recv_json()
    ann_on_a = Session.login(a, "ann")
    started = time.monotonic()
    assert ann_on_a.http("PATCH", f"/api/v1/users/{val_on_a.user['id']}", {"disabled": True}).status == 200
    info = ws.wait_close(timeout=3)
    assert info.code == 4003 and info.reason == "session ended", info
    assert time.monotonic() - started < 1.5

    # A replica given another secret key refuses to start rather than misread the shared secrets.
    wrong = server_factory(["--telemetry-interval", "30s", "--database-url", url], env={"NEBULA_SECRET_KEY": "f" * 64},
                           data_dir=tmp_path / "c", start=False)
    wrong.start(wait=False)
    assert wrong.wait_exit(20) == 1 and "does not open the secrets" in wrong.stderr
