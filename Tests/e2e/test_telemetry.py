"""`telemetry.host`: latest-value snapshot on subscribe, periodic pushes, values that agree with /proc."""

import os
import re
import socket
import time

import pytest

from e2e_lib import wait_until

SHARED_SERVER_ARGS = ["--telemetry-interval", "200ms"]

DOC_KEYS = {
    "timestamp_ms", "hostname", "uptime_seconds", "cpu", "load", "memory", "swap", "network", "disks",
    "filesystems",
}
CPU_KEYS = {"total_percent", "per_core_percent", "cores"}
LOAD_KEYS = {"one", "five", "fifteen"}
MEM_KEYS = {"total_bytes", "available_bytes", "used_bytes", "free_bytes", "buffers_bytes", "cached_bytes",
            "used_percent"}
SWAP_KEYS = {"total_bytes", "used_bytes", "free_bytes", "used_percent"}
NET_KEYS = {"interface", "rx_bytes_per_sec", "tx_bytes_per_sec", "rx_bytes_total", "tx_bytes_total"}
DISK_KEYS = {"device", "read_bytes_per_sec", "write_bytes_per_sec", "read_bytes_total", "write_bytes_total"}
FS_KEYS = {"mount", "device", "fs_type", "total_bytes", "used_bytes", "available_bytes", "used_percent"}


def _snapshot(server):
    # give the sampler a moment after start (interval 200 ms)
    time.sleep(0.5)
    with server.ws() as c:
        r = c.result("subscribe", channel="telemetry.host")
        return r


def _meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":", 1)
            out[k] = int(v.split()[0])
    return out


def _num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def test_subscribe_gives_latest_snapshot(shared_server):
    r = _snapshot(shared_server)
    assert r["channel"] == "telemetry.host"
    assert r["delivery"] == "latest", r
    assert isinstance(r["epoch"], str) and r["epoch"]
    assert isinstance(r["offset"], int) and r["offset"] >= 1, r
    pub = r["publication"]
    assert set(pub) == {"channel", "offset", "data"}, set(pub)
    assert pub["channel"] == "telemetry.host"
    assert pub["offset"] == r["offset"], (pub["offset"], r["offset"])
    data = pub["data"]
    assert DOC_KEYS <= set(data), DOC_KEYS - set(data)
    assert CPU_KEYS <= set(data["cpu"])
    assert LOAD_KEYS <= set(data["load"])
    assert MEM_KEYS <= set(data["memory"])
    assert SWAP_KEYS <= set(data["swap"])
    for item, keys in (("network", NET_KEYS), ("disks", DISK_KEYS), ("filesystems", FS_KEYS)):
        assert isinstance(data[item], list), data[item]
        for entry in data[item]:
            assert keys <= set(entry), (item, keys - set(entry))
    assert isinstance(data["timestamp_ms"], int)
    assert abs(data["timestamp_ms"] - time.time() * 1000) < 10_000
    assert all(_num(data["load"][k]) for k in LOAD_KEYS)
    assert 0 <= data["cpu"]["total_percent"] <= 100
    assert all(0 <= v <= 100 for v in data["cpu"]["per_core_percent"])


def test_pushes_have_increasing_offsets(shared_server):
    time.sleep(0.5)
    with shared_server.ws() as c:
        r = c.result("subscribe", channel="telemetry.host")
        start = r["offset"]
        pubs = [c.next_pub(timeout=3) for _ in range(4)]
        offs = [p["offset"] for p in pubs]
        assert all(p["channel"] == "telemetry.host" for p in pubs)
        assert offs[0] > start, (start, offs)
        assert all(b > a for a, b in zip(offs, offs[1:])), offs
        assert all(p["data"]["timestamp_ms"] >= pubs[0]["data"]["timestamp_ms"] for p in pubs)
        # a reading client gets every sample: consecutive offsets
        assert offs == list(range(offs[0], offs[0] + 4)), offs


def test_history_keeps_newest_one(shared_server):
    time.sleep(0.5)
    with shared_server.ws() as c:
        h = c.result("history", channel="telemetry.host")
        assert len(h["publications"]) == 1, h
        assert h["publications"][0]["offset"] == h["offset"]


def test_values_match_proc(shared_server):
    data = _snapshot(shared_server)["publication"]["data"]
    mem = _meminfo()
    assert data["memory"]["total_bytes"] == mem["MemTotal"] * 1024
    assert data["swap"]["total_bytes"] == mem.get("SwapTotal", 0) * 1024
    with open("/proc/stat") as f:
        ncpu = sum(1 for line in f if re.match(r"^cpu\d+\s", line))
    assert len(data["cpu"]["per_core_percent"]) == ncpu
    assert data["cpu"]["cores"] == ncpu
    roots = [fs for fs in data["filesystems"] if fs["mount"] == "/"]
    assert len(roots) == 1, [fs["mount"] for fs in data["filesystems"]]
    st = os.statvfs("/")
    assert roots[0]["total_bytes"] == st.f_blocks * st.f_frsize
    with open("/proc/uptime") as f:
        up = float(f.read().split()[0])
    assert abs(data["uptime_seconds"] - up) < 10
    assert data["hostname"] == socket.gethostname()
    # interfaces reported exist in /proc/net/dev
    with open("/proc/net/dev") as f:
        ifaces = {line.split(":")[0].strip() for line in f if ":" in line}
    assert {n["interface"] for n in data["network"]} <= ifaces


def test_publish_to_telemetry_host_forbidden(shared_server):
    r = shared_server.http("POST", "/api/v1/publish", body={"channel": "telemetry.host", "data": {"x": 1}})
    assert r.status == 403, (r.status, r.body)
    assert r.json()["error"]["code"] == "forbidden"


def test_healthz_reports_fresh_telemetry(shared_server):
    def ok():
        r = shared_server.http("GET", "/healthz", key=None)
        return r if r.status == 200 else None
    r = wait_until(ok, 5)
    assert r, "healthz never 200"
    t = r.json()["components"]["telemetry"]
    assert t["status"] == "ok"
    assert 0 <= t["last_sample_age_seconds"] < 2, t
