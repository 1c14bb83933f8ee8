#!/usr/bin/env python3
"""A small stand-in for the Nebula server, for dashboard work and browser tests.

Serves web/ and speaks enough of protocol v1 (docs/protocol.md):

* GET /ws (key via ``?token=`` or ``Authorization: Bearer``; 401 before the
  upgrade otherwise, 426 without upgrade headers)
* ops: ping, subscribe (with ``since`` recovery), unsubscribe, history, publish
  (``app.*`` only; ``telemetry.host`` is forbidden)
* ``telemetry.host`` (latest-value, history 1) with a fresh, plausible fake
  snapshot every ``--interval`` seconds
* GET /api/v1/channels (needs the key), GET /healthz

Usage::

    python Tests/browser/mock_server.py --port 8765 --key dev-key
    # then open http://127.0.0.1:8765/#token=dev-key

``--kick-every N`` closes every socket with 1001 every N seconds, to watch
reconnect and recovery.

Needs ``websockets`` >= 14 (the new asyncio API with ``process_request``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import mimetypes
import os
import random
import re
import secrets
import signal
import time
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHANNEL_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
RESERVED = ["telemetry.*", "storage", "alerts", "jobs.*", "jarvis.*", "overlay.*", "logs.*", "bots.*"]
MAX_APP_HISTORY = 100

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("text/css", ".css")


# ---- fake telemetry ---------------------------------------------------------------


class FakeHost:
    """Random-walk telemetry that looks like a small homelab box."""

    GiB = 1024**3

    def __init__(self, hostname: str = "nebula-mock", cores: int = 8) -> None:
        self.hostname = hostname
        self.cores = cores
        self.boot = time.time() - (3 * 86400 + 4 * 3600 + 17 * 60)
        self.core_load = [random.uniform(5, 30) for _ in range(cores)]
        self.mem_total = 31.3 * self.GiB
        self.mem_used = 11.8 * self.GiB
        self.swap_total = 4 * self.GiB
        self.swap_used = 0.35 * self.GiB
        self.load = [1.2, 1.0, 0.9]
        self.t = 0
        self.net = {
            "lo": [0, 0],
            "eth0": [0, 0],
            "wlan0": [0, 0],
            "docker0": [0, 0],
            "br-5f2c9a1e07d4": [0, 0],
            "veth9c1d2e3": [0, 0],
        }
        self.disks = {"nvme0n1": [0, 0], "sda": [0, 0], "sdb": [0, 0]}
        self.filesystems = [
            ("/", "/dev/nvme0n1p2", "ext4", 468 * self.GiB, 0.52),
            ("/boot/efi", "/dev/nvme0n1p1", "vfat", 0.5 * self.GiB, 0.06),
            ("/srv/docker", "/dev/nvme0n1p3", "xfs", 256 * self.GiB, 0.71),
            ("/mnt/media", "/dev/sda1", "ext4", 7452 * self.GiB, 0.86),
            ("/mnt/backup", "/dev/sdb1", "btrfs", 3726 * self.GiB, 0.934),
        ]

    @staticmethod
    def _walk(v: float, step: float, lo: float, hi: float) -> float:
        return min(hi, max(lo, v + random.uniform(-step, step)))

    def snapshot(self) -> dict:
        self.t += 1
        wave = 18 * (1 + math.sin(self.t / 9))
        self.core_load = [self._walk(c, 9, 0.5, 96) for c in self.core_load]
        per_core = [round(min(100, max(0, c * 0.7 + wave * random.uniform(0.4, 1))), 1) for c in self.core_load]
        total = round(sum(per_core) / len(per_core), 1)
        self.mem_used = self._walk(self.mem_used, 0.25 * self.GiB, 6 * self.GiB, 26 * self.GiB)
        self.swap_used = self._walk(self.swap_used, 0.01 * self.GiB, 0.1 * self.GiB, 1.2 * self.GiB)
        target = total / 100 * self.cores
        self.load[0] = max(0.0, self.load[0] + (target - self.load[0]) * 0.3)
        self.load[1] = self.load[1] + (self.load[0] - self.load[1]) * 0.08
        self.load[2] = self.load[2] + (self.load[0] - self.load[2]) * 0.03
        cached = 7.4 * self.GiB
        buffers = 0.42 * self.GiB
        free = max(0, self.mem_total - self.mem_used - cached - buffers)
        available = free + cached * 0.9 + buffers

        network = []
        base = {
            "lo": (40e3, 40e3),
            "eth0": (2.4e6 + 1.8e6 * math.sin(self.t / 7), 0.6e6),
            "wlan0": (18e3, 6e3),
            "docker0": (120e3, 340e3),
            "br-5f2c9a1e07d4": (60e3, 45e3),
            "veth9c1d2e3": (12e3, 9e3),
        }
        for name, (rx, tx) in base.items():
            rx = max(0.0, rx * random.uniform(0.5, 1.6))
            tx = max(0.0, tx * random.uniform(0.4, 1.8))
            self.net[name][0] += int(rx)
            self.net[name][1] += int(tx)
            network.append(
                {
                    "interface": name,
                    "rx_bytes_per_sec": round(rx, 1),
                    "tx_bytes_per_sec": round(tx, 1),
                    "rx_bytes_total": self.net[name][0],
                    "tx_bytes_total": self.net[name][1],
                }
            )
        disks = []
        for name, (r, w) in {"nvme0n1": (3.1e6, 1.2e6), "sda": (14e6, 0.2e6), "sdb": (0, 4.5e6)}.items():
            r = r * random.uniform(0, 1.5) if random.random() > 0.2 else 0.0
            w = w * random.uniform(0, 1.5) if random.random() > 0.3 else 0.0
            self.disks[name][0] += int(r)
            self.disks[name][1] += int(w)
            disks.append(
                {
                    "device": name,
                    "read_bytes_per_sec": round(r, 1),
                    "write_bytes_per_sec": round(w, 1),
                    "read_bytes_total": self.disks[name][0],
                    "write_bytes_total": self.disks[name][1],
                }
            )
        filesystems = []
        for mount, dev, fstype, total_b, frac in self.filesystems:
            used = int(total_b * frac + random.uniform(-1, 1) * 0.0005 * total_b)
            filesystems.append(
                {
                    "mount": mount,
                    "device": dev,
                    "fs_type": fstype,
                    "total_bytes": int(total_b),
                    "used_bytes": used,
                    "available_bytes": int(total_b - used),
                    "used_percent": round(used / total_b * 100, 1),
                }
            )
        now = time.time()
        return {
            "timestamp_ms": int(now * 1000),
            "hostname": self.hostname,
            "uptime_seconds": round(now - self.boot, 1),
            "cpu": {"total_percent": total, "per_core_percent": per_core, "cores": self.cores},
            "load": {"one": round(self.load[0], 2), "five": round(self.load[1], 2), "fifteen": round(self.load[2], 2)},
            "memory": {
                "total_bytes": int(self.mem_total),
                "available_bytes": int(available),
                "used_bytes": int(self.mem_used),
                "free_bytes": int(free),
                "buffers_bytes": int(buffers),
                "cached_bytes": int(cached),
                "used_percent": round(self.mem_used / self.mem_total * 100, 1),
            },
            "swap": {
                "total_bytes": int(self.swap_total),
                "used_bytes": int(self.swap_used),
                "free_bytes": int(self.swap_total - self.swap_used),
                "used_percent": round(self.swap_used / self.swap_total * 100, 1),
            },
            "network": network,
            "disks": disks,
            "filesystems": filesystems,
        }


# ---- broker -------------------------------------------------------------------------


class Channel:
    def __init__(self, name: str, latest: bool) -> None:
        self.name = name
        self.latest = latest
        self.epoch = secrets.token_hex(6)
        self.offset = 0
        self.history: list[tuple[float, dict]] = []  # (time, publication)
        self.subscribers: set[ServerConnection] = set()

    def _trim(self) -> None:
        if self.latest:
            self.history = self.history[-1:]
        else:
            cutoff = time.time() - 600
            self.history = [h for h in self.history if h[0] >= cutoff][-MAX_APP_HISTORY:]

    def publish(self, data) -> dict:
        self.offset += 1
        pub = {"channel": self.name, "offset": self.offset, "data": data}
        self.history.append((time.time(), pub))
        self._trim()
        frame = json.dumps(pub)
        for ws in list(self.subscribers):
            asyncio.ensure_future(_send_quietly(ws, frame))
        return pub

    def kept(self) -> list[dict]:
        self._trim()
        return [p for _, p in self.history]


async def _send_quietly(ws: ServerConnection, frame: str) -> None:
    try:
        await ws.send(frame)
    except Exception:  # noqa: BLE001 - a closed peer is not our problem here
        pass


class Broker:
    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {"telemetry.host": Channel("telemetry.host", latest=True)}

    def family(self, name: str) -> str | None:
        if not CHANNEL_RE.match(name):
            return None
        if name == "telemetry.host":
            return "telemetry.host"
        if name.startswith("app.") and len(name) > 4:
            return "app.*"
        return None

    def get(self, name: str) -> Channel:
        ch = self.channels.get(name)
        if ch is None:
            ch = self.channels[name] = Channel(name, latest=False)
        return ch


# ---- server ---------------------------------------------------------------------------


class MockServer:
    def __init__(self, key: str, interval: float, kick_every: float | None) -> None:
        self.key = key
        self.interval = interval
        self.kick_every = kick_every
        self.broker = Broker()
        self.host = FakeHost()
        self.started = time.time()
        self.connections: set[ServerConnection] = set()
        # one sample straight away so a latest-value subscribe has something to hand over
        self.broker.get("telemetry.host").publish(self.host.snapshot())

    # -- HTTP -------------------------------------------------------------------------

    @staticmethod
    def _response(status: int, body: bytes, content_type: str, extra: dict | None = None) -> Response:
        headers = Headers()
        headers["Content-Type"] = content_type
        headers["Content-Length"] = str(len(body))
        headers["Cache-Control"] = "no-store"
        headers["X-Content-Type-Options"] = "nosniff"
        for k, v in (extra or {}).items():
            headers[k] = v
        return Response(status, HTTPStatus(status).phrase, headers, body)

    def _json(self, status: int, obj) -> Response:
        return self._response(status, json.dumps(obj).encode(), "application/json")

    def _error(self, status: int, code: str, message: str) -> Response:
        return self._json(status, {"error": {"code": code, "message": message}})

    def _key_from(self, request: Request, allow_query: bool) -> str | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return auth[len("Bearer ") :]
        if allow_query:
            tokens = parse_qs(urlsplit(request.path).query).get("token")
            if tokens:
                return tokens[0]
        return None

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == "/ws":
            if self._key_from(request, allow_query=True) != self.key:
                return self._error(401, "unauthorized", "missing or wrong API key")
            if "websocket" not in request.headers.get("Upgrade", "").lower():
                return self._error(426, "upgrade_required", "use a WebSocket")
            return None  # go on with the handshake
        if path == "/healthz":
            return self._json(
                200,
                {
                    "status": "ok",
                    "version": "0.0.0-mock",
                    "uptime_seconds": round(time.time() - self.started, 1),
                    "components": {
                        "broker": {"status": "ok", "kind": "in-process"},
                        "telemetry": {"status": "ok", "last_sample_age_seconds": 0.5},
                        "websocket": {"status": "ok", "connections": len(self.connections)},
                    },
                },
            )
        if path == "/api/v1/channels":
            if self._key_from(request, allow_query=False) != self.key:
                return self._error(401, "unauthorized", "missing or wrong API key")
            return self._json(
                200,
                {
                    "families": [
                        {
                            "pattern": "telemetry.host",
                            "delivery": "latest",
                            "history_size": 1,
                            "history_ttl_seconds": None,
                            "subscribe": "read",
                            "publish": "server",
                        },
                        {
                            "pattern": "app.*",
                            "delivery": "ordered",
                            "history_size": MAX_APP_HISTORY,
                            "history_ttl_seconds": 600,
                            "subscribe": "read",
                            "publish": "publish",
                        },
                    ],
                    "reserved": RESERVED,
                    "channels": [
                        {"name": c.name, "epoch": c.epoch, "offset": c.offset, "subscribers": len(c.subscribers)}
                        for c in self.broker.channels.values()
                    ],
                },
            )
        if path.startswith("/api/"):
            return self._error(404, "not_found", "no such endpoint")
        return self._static(path)

    def _static(self, path: str) -> Response:
        rel = path.lstrip("/") or "index.html"
        if rel.endswith("/"):
            rel += "index.html"
        target = (WEB / rel).resolve()
        if WEB.resolve() not in target.parents and target != WEB.resolve():
            return self._error(404, "not_found", "not found")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return self._error(404, "not_found", "not found")
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/json", "image/svg+xml"):
            ctype += "; charset=utf-8"
        extra = {}
        if target.name == "index.html":
            extra["Content-Security-Policy"] = (
                "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
                "style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'"
            )
        return self._response(200, target.read_bytes(), ctype, extra)

    # -- WebSocket ----------------------------------------------------------------------

    async def handler(self, ws: ServerConnection) -> None:
        self.connections.add(ws)
        subs: set[str] = set()
        try:
            async for raw in ws:
                reply = self._command(ws, raw, subs)
                if reply is not None:
                    await ws.send(json.dumps(reply))
        except Exception:  # noqa: BLE001 - connection errors end the session
            pass
        finally:
            self.connections.discard(ws)
            for name in subs:
                self.broker.get(name).subscribers.discard(ws)

    def _command(self, ws: ServerConnection, raw, subs: set[str]) -> dict | None:
        def err(id_, code, message):
            return {"id": id_, "error": {"code": code, "message": message}}

        try:
            msg = json.loads(raw)
        except (TypeError, ValueError):
            return err(None, "bad_request", "frame is not JSON")
        if not isinstance(msg, dict):
            return err(None, "bad_request", "frame is not an object")
        id_ = msg.get("id")
        if not isinstance(id_, int) or isinstance(id_, bool):
            return err(None, "bad_request", "missing or mistyped id")
        op = msg.get("op")
        if not isinstance(op, str):
            return err(id_, "bad_request", "missing op")
        if op == "ping":
            return {"id": id_, "result": {}}
        if op not in ("subscribe", "unsubscribe", "history", "publish"):
            return err(id_, "unknown_op", f"unknown op {op!r}")
        name = msg.get("channel")
        if not isinstance(name, str):
            return err(id_, "bad_request", "missing channel")
        family = self.broker.family(name)
        if family is None:
            return err(id_, "unknown_channel", f"no family for {name!r}")
        ch = self.broker.get(name)

        if op == "publish":
            if "data" not in msg:
                return err(id_, "bad_request", "missing data")
            if family != "app.*":
                return err(id_, "forbidden", "this key may not publish here")
            pub = ch.publish(msg["data"])
            return {"id": id_, "result": {"channel": name, "epoch": ch.epoch, "offset": pub["offset"]}}

        if op == "history":
            limit = msg.get("limit")
            kept = ch.kept()
            if limit is not None:
                if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                    return err(id_, "bad_request", "limit must be a non-negative integer")
                kept = kept[-limit:] if limit else []
            return {"id": id_, "result": {"channel": name, "epoch": ch.epoch, "offset": ch.offset, "publications": kept}}

        if op == "unsubscribe":
            if name not in subs:
                return err(id_, "not_subscribed", f"not subscribed to {name}")
            subs.discard(name)
            ch.subscribers.discard(ws)
            return {"id": id_, "result": {}}

        # subscribe
        if name in subs:
            return err(id_, "already_subscribed", f"already subscribed to {name}")
        since = msg.get("since")
        if since is not None and (
            not isinstance(since, dict)
            or not isinstance(since.get("epoch"), str)
            or not isinstance(since.get("offset"), int)
        ):
            return err(id_, "bad_request", "since must be {epoch, offset}")
        result = {
            "channel": name,
            "epoch": ch.epoch,
            "offset": ch.offset,
            "delivery": "latest" if ch.latest else "ordered",
        }
        kept = ch.kept()
        if ch.latest and kept:
            result["publication"] = kept[-1]
        if since is not None:
            missed = [p for p in kept if p["offset"] > since["offset"]]
            first_kept = kept[0]["offset"] if kept else ch.offset + 1
            ok = since["epoch"] == ch.epoch and since["offset"] <= ch.offset and (
                since["offset"] >= first_kept - 1
            )
            result["recovered"] = ok
            result["publications"] = missed if ok else []
        subs.add(name)
        ch.subscribers.add(ws)
        return {"id": id_, "result": result}

    # -- loops ---------------------------------------------------------------------------

    async def telemetry_loop(self) -> None:
        ch = self.broker.get("telemetry.host")
        while True:
            await asyncio.sleep(self.interval)
            ch.publish(self.host.snapshot())

    async def kick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.kick_every)
            for ws in list(self.connections):
                await ws.close(1001, "server shutting down")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", default=os.environ.get("NEBULA_KEY", "dev-key"))
    parser.add_argument("--interval", type=float, default=1.0, help="telemetry interval, seconds")
    parser.add_argument("--kick-every", type=float, default=None, help="close all sockets every N seconds")
    args = parser.parse_args()

    mock = MockServer(args.key, args.interval, args.kick_every)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    async with serve(
        mock.handler,
        args.host,
        args.port,
        process_request=mock.process_request,
        max_size=64 * 1024,
        ping_interval=25,
        ping_timeout=50,
        server_header="nebula-mock",
    ) as server:
        tasks = [asyncio.create_task(mock.telemetry_loop())]
        if args.kick_every:
            tasks.append(asyncio.create_task(mock.kick_loop()))
        print(f"nebula mock listening on http://{args.host}:{args.port}/#token={args.key}", flush=True)
        await stop
        for ws in list(mock.connections):
            await ws.close(1001, "server shutting down")
        for t in tasks:
            t.cancel()
        server.close()


if __name__ == "__main__":
    asyncio.run(main())
