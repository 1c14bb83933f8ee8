"""Persistence at start-up: SQLite by default, PostgreSQL with --database-url, migrations applied once,
and a server that cannot use its database stops with a clear message instead of half-starting."""

import sqlite3
import time

import pytest

from e2e_lib import wait_until


def _migrations(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()


def test_default_is_sqlite_in_the_data_dir_migrated_once(server_factory, tmp_path):
    data = tmp_path / "data"
    s = server_factory(["--telemetry-interval", "30s"], data_dir=data)
    health = s.http("GET", "/healthz", key=None).json()
    assert health["components"]["store"] == {"status": "ok", "kind": "sqlite"}
    first = _migrations(data / "nebula.sqlite")
    assert [v for v, _ in first] == [1, 2, 3, 4, 5, 6, 7], first
    assert s.stop() == 0
    s2 = server_factory(["--telemetry-interval", "30s"], data_dir=data)
    assert wait_until(lambda: s2.http("GET", "/healthz", key=None).status == 200, 10)
    assert _migrations(data / "nebula.sqlite") == first  # nothing applied twice
    assert s2.stop() == 0


def test_database_from_a_newer_build_stops_the_server(server_factory, tmp_path):
    data = tmp_path / "data"
    s = server_factory(["--telemetry-interval", "30s"], data_dir=data)
    assert s.stop() == 0
    with sqlite3.connect(data / "nebula.sqlite") as db:
        db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
    before = _migrations(data / "nebula.sqlite")
    s2 = server_factory(["--telemetry-interval", "30s"], data_dir=data, start=False)
    s2.start(wait=False)
    assert s2.wait_exit(15) == 1
    assert "newer than this build" in s2.stderr, s2.stderr
    assert _migrations(data / "nebula.sqlite") == before


def test_unreachable_postgres_is_a_clear_error_without_the_password(server_factory):
    s = server_factory(["--database-url", "postgres://nebula:hunter2@127.0.0.1:1/nebula"], start=False)
    started = time.monotonic()
    s.start(wait=False)
    assert s.wait_exit(20) == 1
    assert time.monotonic() - started < 15
    assert "PostgreSQL at 127.0.0.1:1 is unavailable" in s.stderr, s.stderr
    assert "hunter2" not in s.stderr + s.stdout


def test_bad_database_url_is_a_usage_error(server_factory):
    s = server_factory(["--database-url", "mysql://x"], start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 2
    assert "postgres://" in s.stderr


def test_postgres_backend_migrates_and_serves(server_factory, postgres):
    url = postgres.create_database("e2e_store")
    env = {"NEBULA_SECRET_KEY": "ab" * 32}  # each server has its own data dir: the key must come from outside
    s = server_factory(["--telemetry-interval", "30s", "--database-url", url], env=env)
    assert s.http("GET", "/healthz", key=None).json()["components"]["store"] == {"status": "ok", "kind": "postgres"}
    assert postgres.query("e2e_store", "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations") == "1,2,3,4,5,6,7"
    with s.ws() as c:
        assert c.request("ping")["result"] == {}
    assert s.stop() == 0
    s2 = server_factory(["--telemetry-interval", "30s", "--database-url", url], env=env)
    assert postgres.query("e2e_store", "SELECT count(*) FROM schema_migrations") == "7"
    assert s2.stop() == 0
