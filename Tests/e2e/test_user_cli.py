"""`nebula user create`: accounts from the command line, password from stdin, stored as scrypt hashes."""

import os
import sqlite3
import subprocess

from e2e_lib import REPO

BIN = os.environ.get("NEBULA_BIN", str(REPO / ".build" / "debug" / "nebula"))


def _create(data, *args, password="correct horse battery", env=None):
    return subprocess.run([BIN, "user", "create", *args, "--data-dir", str(data)], input=password + "\n",
                          capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_create_user_stores_a_hash_and_an_audit_entry(tmp_path):
    data = tmp_path / "data"
    r = _create(data, "--username", "ann", "--role", "admin")
    assert r.returncode == 0, r.stderr
    assert "created admin 'ann'" in r.stdout
    with sqlite3.connect(data / "nebula.sqlite") as db:
        (name, role, hash_), = db.execute("SELECT username, role, password_hash FROM users").fetchall()
        audit = db.execute("SELECT actor, action, target, outcome FROM audit_log").fetchall()
    assert (name, role) == ("ann", "admin")
    assert hash_.startswith("scrypt$32768$8$1$") and "correct horse" not in hash_
    assert audit == [("cli", "user.create", "ann", "ok")]


def test_refusals_are_one_clear_line(tmp_path):
    data = tmp_path / "data"
    assert _create(data, "--username", "ann").returncode == 0
    dup = _create(data, "--username", "ann")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    weak = _create(data, "--username", "bob", password="short")
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    bad_role = _create(data, "--username", "eve", "--role", "root")
    assert bad_role.returncode == 2 and "--role" in bad_role.stderr
    bad_name = _create(data, "--username", "x'); DROP TABLE users; --")
    assert bad_name.returncode == 1 and "not a valid username" in bad_name.stderr
    with sqlite3.connect(data / "nebula.sqlite") as db:
        assert [r[0] for r in db.execute("SELECT username FROM users")] == ["ann"]


def test_data_dir_from_the_environment(tmp_path):
    data = tmp_path / "envdata"
    r = subprocess.run([BIN, "user", "create", "--username", "ops", "--role", "operator"], input="correct horse battery\n",
                       capture_output=True, text=True, timeout=60, env={**os.environ, "NEBULA_DATA_DIR": str(data)})
    assert r.returncode == 0, r.stderr
    assert (data / "nebula.sqlite").exists()


def _nebula(data, *args, stdin=""):
    return subprocess.run([BIN, *args, "--data-dir", str(data)], input=stdin, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("NEBULA_")})


def test_list_and_update_users_from_the_shell(tmp_path):
    data = tmp_path / "data"
    assert _create(data, "--username", "ann", "--role", "admin").returncode == 0
    assert _create(data, "--username", "val", "--role", "viewer").returncode == 0
    listed = _nebula(data, "user", "list")
    assert listed.returncode == 0
    assert [line.split("\t") for line in listed.stdout.splitlines()] == [
        ["1", "ann", "admin", "2fa:off", "enabled"], ["2", "val", "viewer", "2fa:off", "enabled"]]

    assert _nebula(data, "user", "update", "--username", "val", "--role", "operator", "--disable").returncode == 0
    assert "2\tval\toperator\t2fa:off\tdisabled" in _nebula(data, "user", "list").stdout
    reset = _nebula(data, "user", "update", "--username", "ann", "--reset-password", stdin="a fresh password\n")
    assert reset.returncode == 0, reset.stderr
    # The owner locked out of the only admin account cannot disable it by accident either.
    last = _nebula(data, "user", "update", "--username", "ann", "--disable")
    assert last.returncode == 1 and "no enabled admin" in last.stderr
    assert _nebula(data, "user", "update", "--username", "nobody", "--enable").returncode == 1
    assert _nebula(data, "user", "update", "--username", "ann").returncode == 2  # nothing to change
    weak = _nebula(data, "user", "update", "--username", "ann", "--reset-password", stdin="short\n")
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    with sqlite3.connect(data / "nebula.sqlite") as db:
        audit = db.execute("SELECT actor, action, details FROM audit_log WHERE action = 'user.update' ORDER BY id").fetchall()
    assert audit == [("cli", "user.update", "role operator, disabled"), ("cli", "user.update", "password reset")]


def test_keys_from_the_shell_work_on_a_running_server(server_factory, tmp_path):
    s = server_factory(["--telemetry-interval", "30s"])
    created = _nebula(s.data_dir, "key", "create", "--name", "backup-script", "--scope", "read", "--scope", "publish:app")
    assert created.returncode == 0, created.stderr
    key_id, key = created.stdout.strip().removeprefix("key ").split(": ")
    assert key.startswith("nbk_") and "shown once" in created.stderr
    overlay = _nebula(s.data_dir, "key", "create", "--name", "obs", "--overlay")
    assert overlay.stdout.strip().split(": ")[1].startswith("nbo_")
    lines = _nebula(s.data_dir, "key", "list").stdout.splitlines()
    assert f"{key_id}\tapi\tbackup-script\tread publish:app\tactive" in lines and key not in "".join(lines)

    assert s.http("POST", "/api/v1/publish", body={"channel": "app.cli", "data": 1}, key=key).status == 200
    with s.raw(key=key) as ws:
        assert _nebula(s.data_dir, "key", "revoke", key_id).returncode == 0
        assert ws.wait_close(timeout=3).code == 4003
    assert s.http("POST", "/api/v1/publish", body={"channel": "app.cli", "data": 1}, key=key).status == 401
    assert f"{key_id}\tapi\tbackup-script\tread publish:app\trevoked" in _nebula(s.data_dir, "key", "list").stdout
    assert _nebula(s.data_dir, "key", "revoke", key_id).returncode == 1

    for bad in (["--name", "x"], ["--name", "x", "--scope", "root"], ["--name", "x", "--scope", "read", "--expires", "2001-01-01T00:00:00Z"]):
        r = _nebula(s.data_dir, "key", "create", *bad)
        assert r.returncode in (1, 2) and r.stderr.strip(), (bad, r.stderr)
