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
