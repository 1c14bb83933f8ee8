"""Container telemetry and control (issue 4) against a real Docker engine: plausible numbers, actions
for the right roles with the new state over the WebSocket within a second, events between samples,
and an engine that is missing or goes away."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from accounts_lib import Session, create_user
from docker_engine import DockerEngine
from e2e_lib import wait_until


def _name(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _until(client, predicate, timeout=10.0, channel="telemetry.containers"):
    """Publications on `channel` until one satisfies `predicate`; answers that data."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            msg = client.recv_json(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            break
        if msg.get("channel") == channel:
            last = msg["data"]
            if predicate(last):
                return last
    raise AssertionError(f"no publication matched within {timeout} s; last: {json.dumps(last)[:1500]}")


def _container(snapshot, name):
    return next((c for c in snapshot["containers"] if c["name"] == name), None)


@pytest.fixture
def engine_server(server_factory, docker_engine, tmp_path):
    data = tmp_path / "data"
    create_user(data, "otto", "operator")
    create_user(data, "val", "viewer")
    return server_factory(["--telemetry-interval", "1s", "--docker-host", docker_engine.host], data_dir=data)


@pytest.mark.parametrize("source", ["cgroup", "engine"])
def test_containers_are_listed_with_plausible_usage(server_factory, docker_engine, source):
    """Both paths to the numbers: the containers' cgroup files (the default when, as here, the host's
    /proc and /sys are visible) and the Engine API's stats endpoint (--container-stats engine)."""
    flags = ["--telemetry-interval", "1s", "--docker-host", docker_engine.host]
    engine_server = server_factory(flags + (["--container-stats", "engine"] if source == "engine" else []))
    busy, idle = _name("busy"), _name("idle")
    docker_engine.run(busy, "sh", "-c", "while :; do :; done", options=["--cpus", "0.5", "--label", "com.docker.compose.project=lab"])
    docker_engine.run(idle, "sleep", "3600", options=["--memory", "64m"])
    with engine_server.ws() as c:
        sub = c.request("subscribe", channel="telemetry.containers")
        assert "result" in sub, sub

        def settled(snapshot):
            # Both need two samples for a CPU share (the idle one starts a moment later).
            b, i = _container(snapshot, busy), _container(snapshot, idle)
            return b is not None and b["cpu_percent"] is not None and i is not None and i["cpu_percent"] is not None

        snapshot = _until(c, settled, timeout=15)
        # A few more samples so the busy loop's CPU share is steady.
        readings = [_container(_until(c, settled, timeout=5), busy)["cpu_percent"] for _ in range(3)]
    assert snapshot["engine"]["status"] == "ok" and snapshot["engine"]["api_version"]
    b, i = _container(snapshot, busy), _container(snapshot, idle)
    assert all(35 <= r <= 65 for r in readings), readings  # --cpus 0.5
    assert i["cpu_percent"] < 5
    for c_ in (b, i):
        assert c_["stats_source"] == source, c_
        assert c_["state"] == "running" and c_["image"].startswith("nebula-test/busybox")
        assert c_["memory_bytes"] > 0 and c_["memory_limit_bytes"] > c_["memory_bytes"] and c_["pids"] >= 1
        assert c_["restart_count"] == 0 and len(c_["id"]) == 64
    assert i["memory_limit_bytes"] == 64 * 1024 * 1024 and i["pids"] == 2  # --init: tini and sleep
    assert b["compose_project"] == "lab"
    # Busybox's sleep holds well under the 64 MiB; the number is the cgroup's, not the host's.
    assert i["memory_bytes"] < 16 * 1024 * 1024

    health = engine_server.http("GET", "/healthz", key=None).json()
    assert health["status"] == "ok" and health["components"]["docker"]["status"] == "ok"
    assert health["components"]["docker"]["containers"] >= 2

    # The detail channel of one container carries the same entry.
    with engine_server.ws() as c:
        detail = c.request("subscribe", channel=f"telemetry.container.{b['id']}")
        assert detail["result"]["publication"]["data"]["name"] == busy
    docker_engine.docker("rm", "-f", busy, idle)


def test_actions_for_the_right_roles_with_the_new_state_within_a_second(engine_server, docker_engine):
    name = _name("act")
    docker_engine.run(name, "sleep", "3600")
    otto, val = Session.login(engine_server, "otto"), Session.login(engine_server, "val")
    with engine_server.ws() as c:
        c.request("subscribe", channel="telemetry.containers")
        _until(c, lambda s: _container(s, name) is not None)

        refused = val.http("POST", f"/api/v1/containers/{name}/stop")
        assert refused.status == 403 and refused.json()["error"]["code"] == "forbidden"

        for action, state in (("stop", "exited"), ("start", "running"), ("pause", "paused"), ("unpause", "running"),
                              ("restart", "running")):
            started = time.monotonic()
            r = otto.http("POST", f"/api/v1/containers/{name}/{action}")
            assert r.status == 200, (action, r.body)
            assert r.json()["result"]["action"] == action and r.json()["result"]["name"] == name
            seen = _until(c, lambda s: (_container(s, name) or {}).get("state") == state, timeout=3)
            assert time.monotonic() - started < 1.0 + (10 if action in ("stop", "restart") else 0), action
            assert _container(seen, name)["state"] == state
            if action == "restart":
                continue  # its events really pass through exited on the way back to running
            # A sample that started before the action never puts the old state back.
            later = []
            quiet_until = time.monotonic() + 1.5
            while time.monotonic() < quiet_until:
                try:
                    msg = c.recv_json(timeout=max(0.05, quiet_until - time.monotonic()))
                except TimeoutError:
                    break
                if msg.get("channel") == "telemetry.containers" and _container(msg["data"], name):
                    later.append(_container(msg["data"], name)["state"])
            assert all(x == state for x in later), (action, later)

    missing = otto.http("POST", "/api/v1/containers/no-such-container/restart")
    assert missing.status == 404 and missing.json()["error"]["code"] == "not_found"
    assert otto.http("POST", f"/api/v1/containers/{name}/explode").status == 404
    ann_key = engine_server.key  # the bootstrap admin key may act too
    assert engine_server.http("POST", f"/api/v1/containers/{name}/restart", key=ann_key).status == 200

    admin = engine_server.http("GET", "/api/v1/audit?action=container.").json()["result"]["entries"]
    outcomes = [(e["actor"], e["action"], e["outcome"]) for e in admin]
    assert ("otto", "container.stop", "ok") in outcomes and ("val", "container.stop", "denied") in outcomes
    assert ("otto", "container.restart", "failed") in outcomes
    docker_engine.docker("rm", "-f", name)


def test_events_update_the_channel_between_samples(server_factory, docker_engine):
    name = _name("evt")
    docker_engine.run(name, "sleep", "3600")
    s = server_factory(["--telemetry-interval", "120s", "--docker-host", docker_engine.host])
    with s.ws() as c:
        first = c.request("subscribe", channel="telemetry.containers")
        newest = first["result"].get("publication")
        if not (newest and _container(newest["data"], name)):
            _until(c, lambda snap: _container(snap, name) is not None)
        started = time.monotonic()
        docker_engine.docker("kill", name)  # not through Nebula: only the event can tell
        seen = _until(c, lambda snap: (_container(snap, name) or {}).get("state") == "exited", timeout=5)
        assert time.monotonic() - started < 2.0
        assert _container(seen, name)["exit_code"] == 137
        docker_engine.docker("rm", "-f", name)
        _until(c, lambda snap: _container(snap, name) is None, timeout=5)


def test_containers_removed_mid_collection_do_not_break_anything(engine_server, docker_engine):
    names = [_name("churn") for _ in range(8)]
    for n in names:
        docker_engine.run(n, "sleep", "3600")
    with engine_server.ws() as c:
        c.request("subscribe", channel="telemetry.containers")
        _until(c, lambda s: all(_container(s, n) for n in names))
        docker_engine.docker("rm", "-f", *names)
        final = _until(c, lambda s: not any(_container(s, n) for n in names), timeout=10)
    assert final["engine"]["status"] == "ok"
    assert engine_server.http("GET", "/healthz", key=None).status == 200


def test_a_missing_engine_is_reported_and_found_again(server_factory, tmp_path):
    """Start with no engine at the socket; the server runs and says so; an engine appears and is used."""
    engine = DockerEngine()
    s = server_factory(["--telemetry-interval", "1s", "--docker-host", engine.host])
    # The engine is optional: the replica becomes ready without it.
    assert wait_until(lambda: s.http("GET", "/healthz", key=None).status == 200, 10)
    with s.ws() as c:
        c.request("subscribe", channel="telemetry.containers")
        down = _until(c, lambda snap: snap["engine"]["status"] == "unavailable")
        assert down["containers"] == [] and down["engine"]["endpoint"] == engine.host and down["engine"]["error"]
        assert s.http("GET", "/healthz", key=None).json()["components"]["docker"]["status"] == "unavailable"
        try:
            engine.start()
            up = _until(c, lambda snap: snap["engine"]["status"] == "ok", timeout=15)
            assert up["engine"]["version"]
            # And it goes away again: reported, then back once more.
            engine.proc.terminate()
            engine.proc.wait(20)
            _until(c, lambda snap: snap["engine"]["status"] == "unavailable", timeout=15)
        finally:
            engine.stop()
    assert s.alive()


def test_bad_docker_host_is_a_usage_error(server_factory):
    s = server_factory(["--docker-host", "docker.sock"], start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 2
    assert "--docker-host" in s.stderr


def _log_lines(client, channel, want, timeout=10.0):
    """Lines published on a logs channel until `want(lines)` holds."""
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not want(lines):
        try:
            msg = client.recv_json(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            break
        if msg.get("channel") == channel:
            lines += msg["data"]["lines"]
    assert want(lines), lines[-20:]
    return lines


@pytest.mark.parametrize("tty", [False, True], ids=["multiplexed", "tty"])
def test_live_logs_tail_while_someone_listens(server_factory, docker_engine, tty):
    name = _name("logs")
    script = "i=0; while :; do i=$((i+1)); echo out $i; echo err $i >&2; sleep 0.2; done"
    docker_engine.run(name, "sh", "-c", script, options=["-t"] if tty else [])
    time.sleep(1.5)  # some history to tail
    s = server_factory(["--telemetry-interval", "30s", "--docker-host", docker_engine.host])
    channel = f"logs.{name}"
    with s.ws() as c:
        assert "result" in c.request("subscribe", channel=channel)
        lines = _log_lines(c, channel, lambda ls: sum(1 for l in ls if l["text"].startswith("out")) >= 10)
    outs = [int(l["text"].split()[1]) for l in lines if l["text"].startswith("out")]
    assert outs[0] == 1 and outs == list(range(1, len(outs) + 1)), outs  # the tail from the start, then live, no gaps
    if tty:
        assert all(l["stream"] == "stdout" for l in lines)  # a TTY merges the streams
    else:
        assert any(l["stream"] == "stderr" and l["text"].startswith("err") for l in lines)
        assert all((l["stream"] == "stderr") == l["text"].startswith("err") for l in lines)
    assert all(l["ts"] and l["ts"].endswith("Z") for l in lines)

    # Nobody listening: the tail stops, so the channel stops growing.
    time.sleep(1.0)
    def offset():
        chans = {ch["name"]: ch for ch in s.http("GET", "/api/v1/channels").json()["channels"]}
        return chans[channel]["offset"]
    before = offset()
    time.sleep(1.5)
    assert offset() == before

    # Listening again resumes after the last line: history plus live, no repeats.
    with s.ws() as c:
        c.request("subscribe", channel=channel)
        history = c.request("history", channel=channel)["result"]["publications"]
        seen = [l["text"] for p in history for l in p["data"]["lines"]]
        more = _log_lines(c, channel, lambda ls: sum(1 for l in ls if l["text"].startswith("out")) >= 3)
    texts = seen + [l["text"] for l in more]
    assert len(texts) == len(set(texts)), "a line was published twice"
    docker_engine.docker("rm", "-f", name)


def test_logs_of_an_unknown_container_say_so(server_factory, docker_engine):
    s = server_factory(["--telemetry-interval", "30s", "--docker-host", docker_engine.host])
    with s.ws() as c:
        c.request("subscribe", channel="logs.no-such-container")
        msg = c.recv_json(timeout=5)
    assert msg["channel"] == "logs.no-such-container" and "no container" in msg["data"]["error"]


def test_storage_channel_sizes_directories_like_du_and_docker_disk_use(server_factory, docker_engine, tmp_path):
    import os
    import subprocess
    media = tmp_path / "media"
    (media / "shows" / "s01").mkdir(parents=True)
    for i in range(3):
        (media / "shows" / "s01" / f"e{i}.mkv").write_bytes(os.urandom(100_000 + i))
    os.link(media / "shows" / "s01" / "e0.mkv", media / "hardlink.mkv")  # counted once
    outside = tmp_path / "outside.bin"
    outside.write_bytes(os.urandom(500_000))
    os.symlink(outside, media / "link-out")  # never followed
    missing = tmp_path / "not-there"
    s = server_factory(["--telemetry-interval", "1s", "--docker-host", docker_engine.host, "--storage-interval", "2s",
                        "--storage-dir", f"media={media}", "--storage-dir", f"gone={missing}"])
    with s.ws() as c:
        c.request("subscribe", channel="storage")
        snap = _until(c, lambda d: d["directories"][0]["size"] is not None and d["directories"][1]["error"] is not None
                      and d["docker"] is not None and d["filesystems"], timeout=15, channel="storage")
    media_entry, gone = snap["directories"]
    assert media_entry["name"] == "media" and media_entry["path"] == str(media)
    du = int(subprocess.run(["du", "-s", "--block-size=1", str(media)], capture_output=True, text=True).stdout.split()[0])
    size = media_entry["size"]
    assert size["disk_bytes"] == du
    assert size["files"] == 4 and size["directories"] == 3 and size["errors"] == 0  # 3 episodes + the symlink
    assert 300_003 <= size["apparent_bytes"] < 300_003 + 100_000  # the hard link once; the link's target never
    assert gone["size"] is None and "not-there" in gone["error"]
    assert any(f["mount"] == "/" for f in snap["filesystems"])
    assert snap["docker"]["images_bytes"] > 0 and isinstance(snap["docker"]["volumes"], list)


def test_bad_storage_dir_is_a_usage_error(server_factory):
    s = server_factory(["--storage-dir", "media"], start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 2 and "--storage-dir" in s.stderr


def test_history_keeps_samples_with_rollups(engine_server, docker_engine):
    name = _name("hist")
    docker_engine.run(name, "sh", "-c", "while :; do :; done", options=["--cpus", "0.5"])
    s = engine_server

    def raw():
        r = s.http("GET", f"/api/v1/history?kind=container&subject={name}&metric=cpu_percent&resolution=raw")
        assert r.status == 200, r.body
        return r.json()["result"]["points"]

    assert wait_until(lambda: len(raw()) >= 3, 20)
    points = raw()
    assert all(35 <= p["avg"] <= 65 and p["min"] == p["avg"] == p["max"] and p["samples"] == 1 for p in points[1:]), points
    assert [p["t"] for p in points] == sorted(p["t"] for p in points)
    five = s.http("GET", f"/api/v1/history?kind=container&subject={name}&metric=cpu_percent&resolution=5m").json()["result"]
    assert five["resolution"] == "5m" and sum(p["samples"] for p in five["points"]) >= len(points)
    assert all(p["t"] % 300_000 == 0 and p["min"] <= p["avg"] <= p["max"] for p in five["points"])
    auto = s.http("GET", f"/api/v1/history?kind=container&subject={name}&metric=memory_bytes").json()["result"]
    assert auto["resolution"] == "raw" and auto["points"] and auto["points"][-1]["avg"] > 0

    series = s.http("GET", "/api/v1/history/series").json()["result"]["series"]
    kinds = {(x["kind"], x["metric"]) for x in series}
    assert ("host", "cpu_percent") in kinds and ("filesystem", "used_percent") in kinds and ("container", "cpu_percent") in kinds
    for bad in ("?kind=container&subject=x", "?kind=container&subject=x&metric=y&resolution=1d",
                "?kind=container&subject=x&metric=y&from=yesterday", "?kind=host&subject=host&metric=cpu_percent&from=2&to=1"):
        assert s.http("GET", "/api/v1/history" + bad).status == 400, bad
    assert s.http("GET", "/api/v1/history/series", key=None).status == 401
    docker_engine.docker("rm", "-f", name)
