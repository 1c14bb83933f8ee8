#!/usr/bin/env python3
"""Collector cost with many running containers (issue 4): starts a private dockerd, runs N idle busybox
containers, runs a release `nebula serve` against it at the default 30-s interval for a while, and reports
the server's CPU seconds and peak RSS over that time (from /proc), plus how long one collection took.

    NEBULA_BIN=.build-release/release/nebula python3 loadtest/containers_bench.py --containers 50 --minutes 10
    # how long one collection takes, 1 vs 50 containers, each source:
    python3 loadtest/containers_bench.py --containers 1 --minutes 2 --interval 5s [--container-stats engine]

Needs root (dockerd) and Debian's docker.io and busybox-static. Appends a JSON line to
loadtest/results/containers.jsonl.
"""

import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Tests" / "e2e"))
from docker_engine import DockerEngine  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kib(pid, key="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--interval", default="30s")
    parser.add_argument("--container-stats", default="auto", choices=["auto", "engine"],
                        help="the server's --container-stats: cgroup files where readable, or always the Engine API")
    args = parser.parse_args()
    binary = os.environ.get("NEBULA_BIN", str(HERE.parent / ".build-release" / "release" / "nebula"))
    engine = DockerEngine().start().import_busybox()
    server = None
    try:
        for i in range(args.containers):
            engine.run(f"bench-{i}", "sleep", "86400")
        data = tempfile.mkdtemp(prefix="nebula-bench-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", data, "--docker-host", engine.host,
                                   "--telemetry-interval", args.interval, "--container-stats", args.container_stats], env={**os.environ, "NEBULA_API_KEY": "bench"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/containers", headers={"Authorization": "Bearer bench"})
        for _ in range(300):
            try:
                snap = json.load(urllib.request.urlopen(req))["result"]
                if len(snap["containers"]) >= args.containers:
                    break
            except Exception:
                pass
            time.sleep(0.2)
        time.sleep(5)  # start-up done
        start_cpu, start = cpu_seconds(server.pid), time.monotonic()
        peak = 0
        durations = []
        sources = set()
        while time.monotonic() - start < args.minutes * 60:
            time.sleep(5)
            peak = max(peak, rss_kib(server.pid))
            snap = json.load(urllib.request.urlopen(req))["result"]
            durations.append(snap["duration_ms"])
            sources.update(c["stats_source"] for c in snap["containers"] if c.get("stats_source"))
        elapsed = time.monotonic() - start
        used = cpu_seconds(server.pid) - start_cpu
        result = {
            "date": time.strftime("%Y-%m-%d"), "containers": args.containers, "interval": args.interval,
            "container_stats": args.container_stats, "stats_sources": sorted(sources),
            "seconds": round(elapsed, 1), "cpu_seconds": round(used, 2), "core_percent": round(used / elapsed * 100, 3),
            "peak_rss_mib": round(peak / 1024, 1), "collection_ms_max": max(durations), "collection_ms_median": sorted(durations)[len(durations) // 2],
        }
        print(json.dumps(result))
        (HERE / "results").mkdir(exist_ok=True)
        with open(HERE / "results" / "containers.jsonl", "a") as f:
            f.write(json.dumps(result) + "\n")
    finally:
        if server:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                print("the server ignored SIGTERM for 10 s; killed", file=sys.stderr)
                server.kill()
                server.wait()
        for cid in engine.docker("ps", "-aq", check=False).split():
            engine.docker("rm", "-f", cid, check=False)
        engine.stop()


if __name__ == "__main__":
    main()
