"""Fixtures: `server_factory` / `server` (one fresh process per test) and `shared_server` (one per module,
for tests that only read or that use channel names no other test in the module touches)."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from e2e_lib import API_KEY, BIN, Server  # noqa: E402


class ServerFactory:
    def __init__(self, tmp_path_factory, name):
        self.tmp_path_factory = tmp_path_factory
        self.name = name
        self.servers: list[Server] = []

    def __call__(self, args=(), env=None, start=True, **kw) -> Server:
        workdir = kw.pop("workdir", None) or self.tmp_path_factory.mktemp(self.name)
        s = Server(workdir, args=args, env=env, **kw)
        self.servers.append(s)
        if start:
            s.start()
        return s

    def stop_all(self):
        for s in self.servers:
            try:
                s.stop()
            except Exception:
                pass

    def assert_graceful(self):
        """Every server must leave on SIGTERM: one that needed SIGKILL has a loop that ignores shutdown.
        A test that freezes a server on purpose sets `may_hang` on it."""
        hung = [s for s in self.servers if s.killed and not getattr(s, "may_hang", False)]
        assert not hung, "ignored SIGTERM for 10 s (needed SIGKILL): " + "; ".join(
            f"{' '.join(map(str, s.args))} — last stderr: {s.stderr[-600:]}" for s in hung)


def pytest_report_header(config):
    return [f"nebula binary: {BIN} ({'present' if os.path.exists(BIN) else 'MISSING'})"]


@pytest.fixture
def server_factory(tmp_path_factory, request):
    f = ServerFactory(tmp_path_factory, request.node.name[:40].replace("[", "_").replace("]", "_"))
    yield f
    f.stop_all()
    f.assert_graceful()


@pytest.fixture
def server(server_factory) -> Server:
    """A fresh server with default flags (plus a short telemetry interval so samples exist)."""
    return server_factory(["--telemetry-interval", "1s"])


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, request) -> Server:
    """One server for the whole module. Tests using it must use channel names unique to themselves."""
    f = ServerFactory(tmp_path_factory, "shared-" + request.module.__name__.rsplit(".", 1)[-1])
    args = getattr(request.module, "SHARED_SERVER_ARGS", ["--telemetry-interval", "1s"])
    s = f(args)
    yield s
    f.stop_all()
    f.assert_graceful()


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL for the run (initdb + pg_ctl on loopback); tests create their own databases."""
    from postgres_server import PostgresServer
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def docker_engine():
    """One real dockerd for the run, with the busybox test image imported."""
    from docker_engine import DockerEngine
    engine = DockerEngine().start().import_busybox()
    yield engine
    for cid in engine.docker("ps", "-aq", check=False).split():
        engine.docker("rm", "-f", cid, check=False)
    engine.stop()


@pytest.fixture
def api_key():
    return API_KEY
