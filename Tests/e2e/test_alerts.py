"""Alerts (issue 4): rules that hold for a while before firing, resolution, the `alerts` channel and
API, and notifications in Discord's, ntfy's and a generic webhook's documented formats, with retries
and a dead target that blocks nobody. The targets are local HTTP receivers."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from e2e_lib import wait_until


class Receiver:
    """Records every POST; `/fail-N/...` answers 500 to the first N, `/hang/...` never answers."""

    def __init__(self):
        self.requests = []
        self.failures = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.startswith("/hang"):
                    time.sleep(30)
                    return
                receiver.requests.append((self.path, dict(self.headers), body))
                if self.path.startswith("/fail-"):
                    limit = int(self.path.split("/")[1].split("-")[1])
                    count = receiver.failures.get(self.path, 0)
                    receiver.failures[self.path] = count + 1
                    if count < limit:
                        self.send_response(500)
                        self.end_headers()
                        return
                self.send_response(204 if "discord" in self.path else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def posts(self, prefix):
        return [(h, b) for p, h, b in self.requests if p.startswith(prefix)]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _alerts(client, want, timeout=15.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not want(seen):
        try:
            msg = client.recv_json(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            break
        if msg.get("channel") == "alerts":
            seen.append(msg["data"])
    assert want(seen), seen
    return seen


def test_filesystem_alert_fires_and_reaches_every_target_in_its_format(server_factory, receiver, tmp_path):
    b = receiver.base
    targets = f"discord={b}/discord,ntfy={b}/ntfy/homelab,webhook={b}/fail-2/hook,webhook={b}/hang/x"
    args = ["--telemetry-interval", "1s", "--alert-for", "1s", "--alert-filesystem-percent", "0.001", "--notify", targets,
            "--docker-host", f"unix://{tmp_path}/no-docker.sock"]
    s = server_factory(args, data_dir=tmp_path / "data")
    with s.ws() as c:
        c.request("subscribe", channel="alerts")
        started = time.monotonic()
        fired = _alerts(c, lambda seen: any(a["subject"] == "/" for a in seen))
    root = next(a for a in fired if a["subject"] == "/")
    assert root["state"] == "firing" and root["rule"] == "filesystem_full" and root["key"] == "filesystem_full:/"
    assert root["fired_at"] - root["since"] >= 1000 and root["value"] > 0.001 and root["id"] > 0

    # Discord and ntfy get it at once, although one target never answers.
    assert wait_until(lambda: receiver.posts("/discord") and receiver.posts("/ntfy"), 5)
    assert time.monotonic() - started < 8
    discord = [json.loads(body) for _, body in receiver.posts("/discord")]
    hit = next(d for d in discord if "/" in d["embeds"][0]["title"])
    assert "FIRING" in hit["content"] and hit["embeds"][0]["description"].startswith("/ is ")
    assert hit["allowed_mentions"] == {"parse": []}
    headers, body = receiver.posts("/ntfy")[0]
    assert headers["Priority"] == "high" and headers["Tags"] == "rotating_light" and body.decode().endswith("% full (limit 0 %)")
    # The failing webhook is retried with backoff until it takes it.
    assert wait_until(lambda: len(receiver.posts("/fail-2/hook")) >= 3, 10)
    hook = json.loads(receiver.posts("/fail-2/hook")[2][1])
    assert hook["state"] == "firing" and hook["key"].startswith("filesystem_full:")

    listed = s.http("GET", "/api/v1/alerts").json()["result"]["alerts"]
    assert any(a["key"] == "filesystem_full:/" and a["state"] == "firing" for a in listed)
    assert s.http("GET", "/api/v1/alerts?state=bogus").status == 400

    # A restart picks the firing alert up again instead of firing (and notifying) twice.
    count = len(receiver.posts("/discord"))
    s.stop()
    s.start()
    time.sleep(3)
    assert len(receiver.posts("/discord")) == count
    assert any(a["key"] == "filesystem_full:/" for a in s.http("GET", "/api/v1/alerts").json()["result"]["alerts"])


def _container_alert_server(server_factory, docker_engine, receiver, tmp_path, hold):
    """A server watching the test engine with only the container rules in play, notifying `/hook`."""
    args = ["--telemetry-interval", "1s", "--alert-for", hold, "--alert-filesystem-percent", "100",
            "--notify", f"webhook={receiver.base}/hook", "--docker-host", docker_engine.host]
    return server_factory(args, data_dir=tmp_path / "data")


def test_unhealthy_container_fires_then_resolves(server_factory, docker_engine, receiver, tmp_path):
    name = f"sick-{uuid.uuid4().hex[:6]}"
    docker_engine.run(name, "sleep", "3600", options=[
        "--health-cmd", "cat /tmp/ok", "--health-interval", "1s", "--health-retries", "1", "--health-timeout", "1s"])
    s = _container_alert_server(server_factory, docker_engine, receiver, tmp_path, hold="1s")
    with s.ws() as c:
        c.request("subscribe", channel="alerts")
        fired = _alerts(c, lambda seen: any(a["subject"] == name and a["state"] == "firing" for a in seen), timeout=20)
        alert = next(a for a in fired if a["subject"] == name)
        assert alert["rule"] == "container_unhealthy" and alert["severity"] == "critical"
        docker_engine.docker("exec", name, "sh", "-c", "echo ok > /tmp/ok")
        resolved = _alerts(c, lambda seen: any(a["subject"] == name and a["state"] == "resolved" for a in seen), timeout=20)
    done = next(a for a in resolved if a["subject"] == name)
    assert done["id"] == alert["id"] and done["resolved_at"] >= done["fired_at"]
    states = [json.loads(b)["state"] for _, b in receiver.posts("/hook") if json.loads(b)["subject"] == name]
    assert wait_until(lambda: [json.loads(b)["state"] for _, b in receiver.posts("/hook")
                               if json.loads(b)["subject"] == name] == ["firing", "resolved"], 5), states
    assert not any(a["subject"] == name for a in s.http("GET", "/api/v1/alerts").json()["result"]["alerts"])
    docker_engine.docker("rm", "-f", name)


def test_a_crash_loop_fires_although_the_container_mostly_reads_running(server_factory, docker_engine, receiver, tmp_path):
    """`--restart always` on a process that dies after a second: the engine restarts it with a short
    back-off, so `restarting` is rarely what a sample sees; the restart count going up is."""
    name = f"flaky-{uuid.uuid4().hex[:6]}"
    docker_engine.run(name, "sh", "-c", "sleep 1; exit 3", options=["--restart", "always"])
    s = _container_alert_server(server_factory, docker_engine, receiver, tmp_path, hold="2s")
    with s.ws() as c:
        c.request("subscribe", channel="alerts")
        fired = _alerts(c, lambda seen: any(a["subject"] == name and a["state"] == "firing" for a in seen), timeout=40)
    alert = next(a for a in fired if a["subject"] == name)
    assert alert["rule"] == "container_restarting" and alert["severity"] == "critical"
    assert alert["value"] >= 3 and "keeps restarting" in alert["summary"], alert
    assert wait_until(lambda: any(json.loads(b)["subject"] == name for _, b in receiver.posts("/hook")), 5)
    docker_engine.docker("rm", "-f", name)


def test_bad_notification_target_is_a_usage_error(server_factory):
    s = server_factory(["--notify", "slack=https://hooks.example"], start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 2 and "--notify" in s.stderr
