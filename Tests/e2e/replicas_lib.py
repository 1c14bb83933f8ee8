"""Replicas sharing one real redis-server, and Caddy (Caddyfile.local) in front of them."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time

import pytest

from e2e_lib import REPO, free_port, http_request


def replica(server_factory, redis_url: str, name: str, *extra, probe="200ms"):
    return server_factory(["--redis-url", redis_url, "--replica-id", name, "--redis-probe-interval", probe,
                           "--telemetry-interval", "30s", *extra])


def wait_health(server, healthy: bool, timeout: float = 10.0) -> dict:
    """Polls /healthz until the broker is (or is not) healthy; returns the last body."""
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        try:
            r = server.http("GET", "/healthz", key=None, timeout=2.0)
            body = r.json()
            if (r.status == 200) == healthy and (body["components"]["broker"]["status"] == "ok") == healthy:
                return body
        except OSError:
            pass
        time.sleep(0.05)
    pytest.fail(f"/healthz never became {'healthy' if healthy else 'unhealthy'}: {body}")


def publish(client, channel: str, data) -> dict:
    """One publish through a WebSocket; the reply (result or error)."""
    return client.request("publish", channel=channel, data=data)


def offsets(pubs, channel: str) -> list[int]:
    return [p["offset"] for p in pubs if p.get("channel") == channel and "offset" in p]


def collect(client, channel: str, count: int, timeout: float = 15.0) -> list[dict]:
    """Publications on `channel` until `count` arrived (or the time is up)."""
    got = [p for p in client.pubs if p.get("channel") == channel]
    client.pubs = [p for p in client.pubs if p.get("channel") != channel]
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        try:
            m = client.recv_json(max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            break
        if "id" in m:
            client.replies[m["id"]] = m
        elif m.get("channel") == channel:
            got.append(m)
        else:
            client.pubs.append(m)
    return got


class Caddy:
    """Debian's caddy running the repository's Caddyfile.local in front of `upstreams`."""

    def __init__(self, upstreams: list[int], health_interval: str = "500ms"):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="nebula-e2e-caddy-")
        env = {**os.environ, "NEBULA_LISTEN_PORT": str(self.port),
               "NEBULA_UPSTREAMS": " ".join(f"127.0.0.1:{p}" for p in upstreams),
               "NEBULA_HEALTH_INTERVAL": health_interval, "HOME": self.dir, "XDG_DATA_HOME": self.dir,
               "XDG_CONFIG_HOME": self.dir}
        self.log = open(os.path.join(self.dir, "caddy.log"), "wb")
        self.proc = subprocess.Popen(["caddy", "run", "--config", str(REPO / "Caddyfile.local"), "--adapter", "caddyfile"],
                                     stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL, env=env, cwd=self.dir)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"caddy exited: {open(os.path.join(self.dir, 'caddy.log')).read()[-2000:]}")
            try:
                if http_request(self.port, "GET", "/healthz", timeout=1.0).status in (200, 503):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("caddy did not come up")

    def ws_url(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws?token={token}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
