#!/usr/bin/env python3
"""A small stand-in for the Nebula server, for dashboard work and browser tests.

Serves web/ and speaks enough of docs/protocol.md to drive the dashboard:

* GET /ws (API key via ``?token=`` or ``Authorization: Bearer``, or the
  session cookie with a same-origin ``Origin``; 401 before the upgrade
  otherwise, 426 without upgrade headers)
* ops: ping, subscribe (with ``since`` recovery), unsubscribe, history, publish
* channels: ``telemetry.host`` (latest-value, a plausible fake snapshot every
  ``--interval`` seconds), ``app.*``, ``audit`` (admins only)
* accounts, all in memory: ``/api/v1/setup``, ``/api/v1/auth/*`` (sessions in
  a cookie, CSRF token, TOTP, recovery codes, a lock-out after 5 failures),
  ``/api/v1/account/*``, ``/api/v1/users``, ``/api/v1/keys``, ``/api/v1/audit``,
  ``POST /api/v1/publish``; withdrawn credentials close their sockets with 4003
* GET /api/v1/channels, GET /healthz
* Jarvis conversations without a provider: ``/api/v1/jarvis/conversations``
  (list, create, show, rename, delete; asking answers 503) and their
  ``jarvis.<id>`` channels, so the Jarvis page has something to show

Usage::

    python Tests/browser/mock_server.py --port 8765 --key dev-key
    # open the printed setup link, or http://127.0.0.1:8765/#token=dev-key

``--kick-every N`` closes every socket with 1001 every N seconds, to watch
reconnect and recovery. ``serve --port N --data-dir D --telemetry-interval 1s``
is accepted too (the data dir is ignored), so the mock can stand in for the
``nebula`` binary while the real one is being built; the API key then comes
from ``NEBULA_API_KEY``.

It is a development aid, not a reference: docs/protocol.md and the Swift
server are the contract. The HTTP layer is hand-rolled because the websockets
library's handshake parser refuses request bodies; WebSockets use its sans-I/O
protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import mimetypes
import os
import random
import re
import secrets
import signal
import struct
import time
from http import HTTPStatus
from urllib.parse import parse_qs, quote, urlsplit

from pathlib import Path

from websockets.datastructures import Headers
from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHANNEL_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9._@\-]{1,64}$")
RESERVED = ["telemetry.*", "storage", "alerts", "jobs.*", "overlay.*", "logs.*", "bots.*"]
MAX_APP_HISTORY = 100
SESSION_COOKIE = "nebula_session"
ROLES = ("admin", "operator", "viewer")
SCOPE_RE = re.compile(r"^(read|containers|jobs|admin|publish:[A-Za-z0-9._*\-]+)$")

mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("text/css", ".css")


def now_iso(t: float | None = None) -> str:
    t = time.time() if t is None else t
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> float | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (ValueError, AttributeError):
        return None


def totp_code(secret: str, at: float | None = None, step: int = 30) -> str:
    """RFC 6238 with SHA-1 and 6 digits."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def totp_ok(secret: str, code: str) -> bool:
    return any(hmac.compare_digest(totp_code(secret, time.time() + d * 30), code) for d in (-1, 0, 1))


class APIError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


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

    @staticmethod
    def _counters(totals: dict, key: str, name: str, *rates: tuple[str, float]) -> dict:
        """An interface's or a disk's entry: each rate now, and the running total it adds to."""
        entry = {key: name}
        for i, (what, rate) in enumerate(rates):
            totals[name][i] += int(rate)
            entry[f"{what}_bytes_per_sec"] = round(rate, 1)
        for i, (what, _) in enumerate(rates):
            entry[f"{what}_bytes_total"] = totals[name][i]
        return entry

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
            network.append(self._counters(self.net, "interface", name, ("rx", rx), ("tx", tx)))
        disks = []
        for name, (r, w) in {"nvme0n1": (3.1e6, 1.2e6), "sda": (14e6, 0.2e6), "sdb": (0, 4.5e6)}.items():
            r = r * random.uniform(0, 1.5) if random.random() > 0.2 else 0.0
            w = w * random.uniform(0, 1.5) if random.random() > 0.3 else 0.0
            disks.append(self._counters(self.disks, "device", name, ("read", r), ("write", w)))
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
        self.subscribers: set[Peer] = set()

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


async def _send_quietly(ws: Peer, frame: str) -> None:
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
        if name in ("telemetry.host", "audit"):
            return name
        if name.startswith("app.") and len(name) > 4:
            return "app.*"
        if name.startswith("jarvis.") and len(name) > 7:
            return "jarvis.*"
        return None

    def get(self, name: str) -> Channel:
        ch = self.channels.get(name)
        if ch is None:
            ch = self.channels[name] = Channel(name, latest=False)
        return ch


# ---- accounts ----------------------------------------------------------------------------


class Principal:
    """Who a request or socket acts as."""

    def __init__(self, id_: str, name: str, *, role: str | None = None, scopes: set[str] | None = None,
                 user_id: int | None = None, session: str | None = None, key_id: int | None = None,
                 kind: str = "api") -> None:
        self.id = id_
        self.name = name
        self.role = role
        self.scopes = scopes or set()
        self.user_id = user_id
        self.session = session
        self.key_id = key_id
        self.kind = kind

    @property
    def is_admin(self) -> bool:
        return self.role == "admin" or "admin" in self.scopes

    def may_publish(self, family: str) -> bool:
        if self.role is not None:
            return self.role in ("admin", "operator")
        if self.kind == "overlay":
            return False
        return "admin" in self.scopes or f"publish:{family.rstrip('.*')}" in self.scopes

    def may_subscribe(self, family: str) -> bool:
        if family == "audit":
            return self.is_admin
        if self.kind == "overlay":
            return False
        return self.role is not None or bool({"read", "admin"} & self.scopes)


class Accounts:
    def __init__(self, admin_key: str | None) -> None:
        self.admin_key = admin_key
        self.users: dict[int, dict] = {}
        self.sessions: dict[str, dict] = {}  # token -> {user_id, csrf}
        self.keys: dict[int, dict] = {}
        self.audit_log: list[dict] = []
        self.failures: dict[str, list[float]] = {}
        self.locked_until: dict[str, float] = {}
        self.setup_token = secrets.token_urlsafe(24)
        self.next_user = 1
        self.next_key = 1
        self.on_audit = lambda entry: None
        self.on_withdrawn = lambda predicate, reason: None

    # -- users --

    @staticmethod
    def public(user: dict) -> dict:
        return {
            "id": user["id"],
            "username": user["username"],
            "role": user["role"],
            "totp_enabled": user["totp_secret"] is not None,
            "disabled": user["disabled"],
            "created_at": user["created_at"],
        }

    def by_name(self, username: str) -> dict | None:
        return next((u for u in self.users.values() if u["username"] == username), None)

    def create_user(self, username: str, password: str, role: str) -> dict:
        if not USERNAME_RE.match(username or ""):
            raise APIError(400, "bad_request", "username: 1-64 letters, digits, . _ - @")
        if role not in ROLES:
            raise APIError(400, "bad_request", "role must be admin, operator or viewer")
        if len(password or "") < 10:
            raise APIError(400, "weak_password", "the password needs at least 10 characters")
        if self.by_name(username):
            raise APIError(409, "conflict", f"the username {username} is taken")
        user = {
            "id": self.next_user,
            "username": username,
            "role": role,
            "password": password,
            "totp_secret": None,
            "recovery": set(),
            "disabled": False,
            "created_at": now_iso(),
        }
        self.next_user += 1
        self.users[user["id"]] = user
        return user

    def enabled_admins(self) -> list[dict]:
        return [u for u in self.users.values() if u["role"] == "admin" and not u["disabled"]]

    def end_sessions(self, user_id: int, keep: str | None = None) -> None:
        for token in [t for t, s in self.sessions.items() if s["user_id"] == user_id and t != keep]:
            del self.sessions[token]
        self.on_withdrawn(lambda p: p.user_id == user_id and p.session != keep, "session ended")

    def new_session(self, user: dict) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        self.sessions[token] = {"user_id": user["id"], "csrf": csrf}
        return token, csrf

    @staticmethod
    def new_recovery_codes() -> list[str]:
        alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
        return ["-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)) for _ in range(10)]

    # -- keys --

    def key_public(self, key: dict, with_secret: bool = False) -> dict:
        out = {k: key[k] for k in ("id", "name", "kind", "scopes", "created_at", "expires_at", "revoked_at")}
        if with_secret:
            out["key"] = key["key"]
        return out

    def key_principal(self, secret: str) -> Principal | None:
        if self.admin_key and hmac.compare_digest(secret, self.admin_key):
            return Principal("admin-key", "admin-key", scopes={"admin"})
        for key in self.keys.values():
            if hmac.compare_digest(secret, key["key"]):
                expired = key["expires_at"] and (parse_iso(key["expires_at"]) or 0) <= time.time()
                if key["revoked_at"] or expired:
                    return None
                return Principal(f"key:{key['id']}", f"key:{key['name']}", scopes=set(key["scopes"]),
                                 key_id=key["id"], kind=key["kind"])
        return None

    def session_principal(self, token: str) -> tuple[Principal, dict] | None:
        s = self.sessions.get(token)
        if not s:
            return None
        user = self.users.get(s["user_id"])
        if not user or user["disabled"]:
            return None
        p = Principal(f"user:{user['id']}", user["username"], role=user["role"], user_id=user["id"], session=token)
        return p, s

    # -- audit --

    def audit(self, actor: str, action: str, target: str | None, address: str, outcome: str,
              details: str | None = None) -> None:
        entry = {
            "id": len(self.audit_log) + 1,
            "at": now_iso(),
            "actor": actor,
            "action": action,
            "target": target,
            "client_address": address,
            "outcome": outcome,
            "details": details,
        }
        self.audit_log.append(entry)
        self.on_audit(entry)

    # -- throttling --

    def check_lock(self, username: str) -> None:
        until = self.locked_until.get(username, 0)
        if until > time.time():
            wait = math.ceil(until - time.time())
            raise APIError(429, "locked_out", f"too many failed attempts; try again in {wait} s", retry_after=wait)

    def failed(self, username: str) -> None:
        recent = [t for t in self.failures.get(username, []) if t > time.time() - 300] + [time.time()]
        self.failures[username] = recent
        if len(recent) >= 5:
            self.locked_until[username] = time.time() + 30
            self.failures[username] = []


# ---- WebSocket peers ------------------------------------------------------------------------


class Peer:
    """One WebSocket connection on the sans-I/O protocol."""

    def __init__(self, proto: ServerProtocol, writer: asyncio.StreamWriter, principal: Principal) -> None:
        self.proto = proto
        self.writer = writer
        self.principal = principal
        self.subs: set[str] = set()

    def flush(self) -> None:
        for data in self.proto.data_to_send():
            if data:
                self.writer.write(data)
            elif self.writer.can_write_eof():
                try:
                    self.writer.write_eof()
                except OSError:
                    pass

    async def send(self, text: str) -> None:
        if self.proto.state is not State.OPEN:
            return
        self.proto.send_text(text.encode())
        self.flush()

    async def close(self, code: int, reason: str) -> None:
        if self.proto.state is not State.OPEN:
            return
        self.proto.send_close(code, reason)
        self.flush()


# ---- server ------------------------------------------------------------------------------------


class MockServer:
    def __init__(self, key: str | None, interval: float, kick_every: float | None, announce: str) -> None:
        self.key = key
        self.interval = interval
        self.kick_every = kick_every
        self.announce = announce
        self.broker = Broker()
        self.host = FakeHost()
        self.started = time.time()
        self.peers: set[Peer] = set()
        self.accounts = Accounts(key)
        self.conversations: dict[str, dict] = {}  # Jarvis, id -> conversation (no messages: no provider)
        self.accounts.on_audit = lambda entry: self.broker.get("audit").publish(entry)
        self.accounts.on_withdrawn = self._withdraw
        # one sample straight away so a latest-value subscribe has something to hand over
        self.broker.get("telemetry.host").publish(self.host.snapshot())

    def _withdraw(self, predicate, reason: str) -> None:
        for peer in list(self.peers):
            if predicate(peer.principal):
                asyncio.ensure_future(peer.close(4003, reason))

    # -- HTTP plumbing ------------------------------------------------------------------

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = (writer.get_extra_info("peername") or ("?",))[0]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, _ = lines[0].split(" ", 2)
                except ValueError:
                    return
                headers = Headers()
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip()] = v.strip()
                length = int(headers.get("Content-Length", "0") or 0)
                body = await reader.readexactly(length) if length else b""
                path = urlsplit(target).path
                if path == "/ws" and "websocket" in headers.get("Upgrade", "").lower():
                    await self.websocket(reader, writer, head, method, target, headers, address)
                    return
                status, extra, payload = await self.http(method, target, headers, body, address)
                out = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
                extra.setdefault("Content-Type", "application/json")
                extra["Content-Length"] = str(len(payload))
                extra.setdefault("Cache-Control", "no-store")
                extra["X-Content-Type-Options"] = "nosniff"
                extra["Server"] = "nebula-mock"
                out += [f"{k}: {v}" for k, v in extra.items()]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
                if headers.get("Connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass

    @staticmethod
    def _json(status: int, obj, extra: dict | None = None) -> tuple[int, dict, bytes]:
        return status, dict(extra or {}), json.dumps(obj).encode()

    def _cookie_token(self, headers: Headers) -> str | None:
        for part in headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and value:
                return value
        return None

    def authenticate(self, method: str, target: str, headers: Headers, websocket: bool = False) -> Principal | None:
        """Header, then query (WebSocket only), then the cookie, as in docs/protocol.md."""
        auth = headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return self.accounts.key_principal(auth[len("Bearer "):])
        if websocket:
            tokens = parse_qs(urlsplit(target).query).get("token")
            if tokens:
                return self.accounts.key_principal(tokens[0])
        token = self._cookie_token(headers)
        if not token:
            return None
        found = self.accounts.session_principal(token)
        if not found:
            return None
        principal, session = found
        if websocket:
            origin = urlsplit(headers.get("Origin", "")).netloc
            if origin.lower() != headers.get("Host", "").lower():
                return None
        elif method not in ("GET", "HEAD") and not hmac.compare_digest(
            headers.get("X-CSRF-Token", ""), session["csrf"]
        ):
            return None
        return principal

    async def http(self, method: str, target: str, headers: Headers, body: bytes, address: str):
        path = urlsplit(target).path
        try:
            if path == "/healthz":
                return self._json(200, {
                    "status": "ok",
                    "version": "0.0.0-mock",
                    "uptime_seconds": round(time.time() - self.started, 1),
                    "components": {
                        "broker": {"status": "ok", "kind": "in-process"},
                        "telemetry": {"status": "ok", "last_sample_age_seconds": 0.5},
                        "websocket": {"status": "ok", "connections": len(self.peers)},
                    },
                })
            if path == "/ws":
                if not self.authenticate(method, target, headers, websocket=True):
                    raise APIError(401, "unauthorized", "missing or wrong credentials")
                raise APIError(426, "bad_request", "this endpoint speaks WebSocket")
            if path.startswith("/api/"):
                data = None
                if body:
                    try:
                        data = json.loads(body)
                    except ValueError:
                        raise APIError(400, "bad_request", "body is not valid JSON") from None
                return self.api(method, path, parse_qs(urlsplit(target).query), headers, data, address)
            return self._static(path)
        except APIError as e:
            extra = {"Retry-After": str(e.retry_after)} if e.retry_after else {}
            return self._json(e.status, {"error": {"code": e.code, "message": e.message}}, extra)

    def _static(self, path: str):
        rel = path.lstrip("/") or "index.html"
        if rel.endswith("/"):
            rel += "index.html"
        target = (WEB / rel).resolve()
        if WEB.resolve() not in target.parents and target != WEB.resolve():
            raise APIError(404, "not_found", "not found")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            raise APIError(404, "not_found", "not found")
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/json", "image/svg+xml"):
            ctype += "; charset=utf-8"
        extra = {"Content-Type": ctype}
        if target.name == "index.html":
            extra["Content-Security-Policy"] = (
                "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
                "style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'"
            )
        return 200, extra, target.read_bytes()

    # -- API ---------------------------------------------------------------------------------

    def api(self, method: str, path: str, query: dict, headers: Headers, data, address: str):
        acc = self.accounts
        route = (method, path)
        body = data if isinstance(data, dict) else {}

        def need(principal_required: bool = True) -> Principal:
            p = self.authenticate(method, path, headers)
            if p is None:
                raise APIError(401, "unauthorized", "missing or wrong credentials")
            return p

        def admin() -> Principal:
            p = need()
            if not p.is_admin:
                raise APIError(403, "forbidden", "this needs an admin")
            return p

        def account() -> tuple[Principal, dict]:
            p = need()
            if p.user_id is None:
                raise APIError(403, "forbidden", "API keys are not accounts")
            return p, acc.users[p.user_id]

        def logged_in(user: dict, status: int = 200):
            token, csrf = acc.new_session(user)
            cookie = f"{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000"
            return self._json(status, {"result": {"user": acc.public(user), "csrf_token": csrf}}, {"Set-Cookie": cookie})

        if route == ("GET", "/api/v1/channels"):
            need()
            return self._json(200, self._channels())

        if route == ("GET", "/api/v1/setup"):
            return self._json(200, {"result": {"needed": not acc.users}})
        if route == ("POST", "/api/v1/setup"):
            if acc.users:
                raise APIError(409, "setup_done", "an account exists already")
            if not isinstance(body.get("token"), str) or not hmac.compare_digest(body["token"], acc.setup_token):
                raise APIError(401, "unauthorized", "wrong setup token")
            user = acc.create_user(body.get("username", ""), body.get("password", ""), "admin")
            acc.audit(user["username"], "setup", f"user:{user['username']}", address, "ok")
            return logged_in(user, 201)

        if route == ("POST", "/api/v1/auth/login"):
            username, password = body.get("username"), body.get("password")
            if not isinstance(username, str) or not isinstance(password, str):
                raise APIError(400, "bad_request", 'send {"username": ..., "password": ...}')
            try:
                acc.check_lock(username)
            except APIError:
                acc.audit(username, "login", None, address, "denied, locked out")
                raise
            user = acc.by_name(username)
            if not user or user["disabled"] or not hmac.compare_digest(user["password"], password):
                acc.failed(username)
                acc.audit(username, "login", None, address, "denied")
                raise APIError(401, "unauthorized", "wrong username, password or code")
            if user["totp_secret"]:
                code = body.get("totp")
                if not code:
                    raise APIError(401, "totp_required", "enter the 6-digit code from your authenticator app")
                code = str(code).strip()
                if re.fullmatch(r"\d{6}", code) and totp_ok(user["totp_secret"], code):
                    pass
                elif code.lower() in user["recovery"]:
                    user["recovery"].discard(code.lower())
                else:
                    acc.failed(username)
                    acc.audit(username, "login", None, address, "denied")
                    raise APIError(401, "unauthorized", "wrong username, password or code")
            acc.audit(username, "login", None, address, "ok")
            return logged_in(user)

        if route == ("GET", "/api/v1/auth/me"):
            token = self._cookie_token(headers)
            found = acc.session_principal(token) if token else None
            if not found:
                raise APIError(401, "unauthorized", "not logged in")
            principal, session = found
            return self._json(200, {"result": {"user": acc.public(acc.users[principal.user_id]),
                                               "csrf_token": session["csrf"]}})

        if route in (("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/logout-all")):
            p = need()
            if p.session is None:
                raise APIError(400, "bad_request", "logout ends a browser session; API keys are revoked instead")
            if path.endswith("logout-all"):
                acc.end_sessions(p.user_id)
                acc.audit(p.name, "logout-all", None, address, "ok")
            else:
                acc.sessions.pop(p.session, None)
                self._withdraw(lambda q: q.session == p.session, "session ended")
                acc.audit(p.name, "logout", None, address, "ok")
            return self._json(200, {"result": {}},
                              {"Set-Cookie": f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"})

        if path.startswith("/api/v1/account/") and method == "POST":
            p, user = account()
            what = path[len("/api/v1/account/"):]
            if what == "password":
                if not hmac.compare_digest(str(body.get("current_password", "")), user["password"]):
                    raise APIError(403, "wrong_password", "the current password is wrong")
                new = body.get("new_password", "")
                if not isinstance(new, str) or len(new) < 10:
                    raise APIError(400, "weak_password", "the password needs at least 10 characters")
                user["password"] = new
                acc.end_sessions(user["id"], keep=p.session)
                acc.audit(p.name, "account.password", None, address, "ok")
                return self._json(200, {"result": {}})
            if what == "totp/setup":
                if user["totp_secret"]:
                    raise APIError(409, "totp_enabled", "two-factor authentication is on already")
                secret = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
                uri = f"otpauth://totp/Nebula%20Command:{quote(user['username'])}?secret={secret}&issuer=Nebula%20Command"
                return self._json(200, {"result": {"secret": secret, "otpauth_uri": uri}})
            if what == "totp/enable":
                if user["totp_secret"]:
                    raise APIError(409, "totp_enabled", "two-factor authentication is on already")
                secret, code = str(body.get("secret", "")), str(body.get("code", ""))
                try:
                    good = totp_ok(secret, code)
                except (ValueError, TypeError):
                    good = False
                if not good:
                    raise APIError(400, "invalid_code", "the code does not match the secret")
                user["totp_secret"] = secret
                codes = acc.new_recovery_codes()
                user["recovery"] = set(codes)
                acc.audit(p.name, "account.totp.enable", None, address, "ok")
                return self._json(200, {"result": {"recovery_codes": codes}})
            if what in ("totp/disable", "recovery-codes"):
                if not hmac.compare_digest(str(body.get("password", "")), user["password"]):
                    raise APIError(403, "wrong_password", "the password is wrong")
                if not user["totp_secret"]:
                    raise APIError(409, "totp_not_enabled", "two-factor authentication is off")
                if what == "totp/disable":
                    user["totp_secret"] = None
                    user["recovery"] = set()
                    acc.audit(p.name, "account.totp.disable", None, address, "ok")
                    return self._json(200, {"result": {}})
                codes = acc.new_recovery_codes()
                user["recovery"] = set(codes)
                acc.audit(p.name, "account.recovery-codes", None, address, "ok")
                return self._json(200, {"result": {"recovery_codes": codes}})
            raise APIError(404, "not_found", "no such endpoint")

        if route == ("GET", "/api/v1/users"):
            admin()
            return self._json(200, {"result": {"users": [acc.public(u) for u in acc.users.values()]}})
        if route == ("POST", "/api/v1/users"):
            p = admin()
            user = acc.create_user(body.get("username", ""), body.get("password", ""), body.get("role", ""))
            acc.audit(p.name, "user.create", f"user:{user['username']}", address, "ok")
            return self._json(201, {"result": {"user": acc.public(user)}})
        m = re.fullmatch(r"/api/v1/users/(\d+)", path)
        if m and method in ("PATCH", "DELETE"):
            p = admin()
            user = acc.users.get(int(m.group(1)))
            if not user:
                raise APIError(404, "not_found", "no such user")
            others = [u for u in acc.enabled_admins() if u["id"] != user["id"]]
            if method == "DELETE":
                if user["role"] == "admin" and not others:
                    raise APIError(409, "last_admin", "the last enabled admin cannot be deleted")
                del acc.users[user["id"]]
                acc.end_sessions(user["id"])
                acc.audit(p.name, "user.delete", f"user:{user['username']}", address, "ok")
                return self._json(200, {"result": {}})
            role, disabled = body.get("role"), body.get("disabled")
            if role is not None and role not in ROLES:
                raise APIError(400, "bad_request", "role must be admin, operator or viewer")
            if disabled is not None and not isinstance(disabled, bool):
                raise APIError(400, "bad_request", "disabled must be true or false")
            stays_admin = (role or user["role"]) == "admin" and not (disabled if disabled is not None else user["disabled"])
            if user["role"] == "admin" and not user["disabled"] and not stays_admin and not others:
                raise APIError(409, "last_admin", "the change would leave no enabled admin")
            if "password" in body and (not isinstance(body["password"], str) or len(body["password"]) < 10):
                raise APIError(400, "weak_password", "the password needs at least 10 characters")
            ends = False
            if role is not None and role != user["role"]:
                user["role"], ends = role, True
            if disabled is not None and disabled != user["disabled"]:
                user["disabled"] = disabled
                ends = ends or disabled
            if "password" in body:
                user["password"], ends = body["password"], True
            if body.get("totp_enabled") is False:
                user["totp_secret"], user["recovery"] = None, set()
            if ends:
                acc.end_sessions(user["id"])
            acc.audit(p.name, "user.update", f"user:{user['username']}", address, "ok",
                      ", ".join(sorted(k for k in body)))
            return self._json(200, {"result": {"user": acc.public(user)}})

        if route == ("GET", "/api/v1/keys"):
            admin()
            return self._json(200, {"result": {"keys": [acc.key_public(k) for k in acc.keys.values()]}})
        if route == ("POST", "/api/v1/keys"):
            p = admin()
            name, kind = body.get("name"), body.get("kind") or "api"
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                raise APIError(400, "bad_request", "field 'name' (1-100 characters) is required")
            if kind not in ("api", "overlay"):
                raise APIError(400, "bad_request", "field 'kind' must be \"api\" or \"overlay\"")
            scopes = body.get("scopes") or []
            if kind == "api" and not isinstance(body.get("scopes"), list):
                raise APIError(400, "bad_request", "field 'scopes' (an array) is required")
            bad = [s for s in scopes if not isinstance(s, str) or not SCOPE_RE.match(s)]
            if bad:
                raise APIError(400, "bad_request", f"unknown scope {bad[0]!r}")
            expires = body.get("expires_at")
            if expires is not None and (not isinstance(expires, str) or (parse_iso(expires) or 0) <= time.time()):
                raise APIError(400, "bad_request", "'expires_at' must be a future RFC 3339 time")
            key = {
                "id": acc.next_key, "name": name, "kind": kind, "scopes": list(scopes),
                "created_at": now_iso(), "expires_at": expires, "revoked_at": None,
                "key": "nbk_" + secrets.token_urlsafe(30),
            }
            acc.next_key += 1
            acc.keys[key["id"]] = key
            acc.audit(p.name, "key.create", f"key:{key['id']} {name}", address, "ok")
            return self._json(201, {"result": acc.key_public(key, with_secret=True)})
        m = re.fullmatch(r"/api/v1/keys/(\d+)", path)
        if m and method == "DELETE":
            p = admin()
            key = acc.keys.get(int(m.group(1)))
            if not key or key["revoked_at"]:
                raise APIError(404, "not_found", f"no active key with id {m.group(1)}")
            key["revoked_at"] = now_iso()
            self._withdraw(lambda q: q.key_id == key["id"], "key revoked or expired")
            acc.audit(p.name, "key.revoke", f"key:{key['id']}", address, "ok")
            return self._json(200, {"result": {}})

        if route == ("GET", "/api/v1/audit"):
            admin()
            q = {k: v[0] for k, v in query.items()}
            entries = list(reversed(acc.audit_log))
            if q.get("actor"):
                entries = [e for e in entries if e["actor"] == q["actor"]]
            if q.get("action"):
                a = q["action"]
                entries = [e for e in entries if (e["action"].startswith(a) if a.endswith(".") else e["action"] == a)]
            if q.get("outcome"):
                entries = [e for e in entries if e["outcome"].startswith(q["outcome"])]
            for name, keep in (("since", lambda t, b: t >= b), ("until", lambda t, b: t <= b)):
                if q.get(name):
                    bound = parse_iso(q[name])
                    if bound is None:
                        raise APIError(400, "bad_request", f"'{name}' must be an RFC 3339 time")
                    entries = [e for e in entries if keep(parse_iso(e["at"]), bound)]
            if q.get("before"):
                entries = [e for e in entries if e["id"] < int(q["before"])]
            limit = int(q.get("limit") or 100)
            if not 1 <= limit <= 1000:
                raise APIError(400, "bad_request", "limit is 1-1000")
            return self._json(200, {"result": {"entries": entries[:limit]}})

        if route == ("POST", "/api/v1/publish"):
            p = need()
            channel, payload = body.get("channel"), body.get("data", ...)
            if not isinstance(channel, str):
                raise APIError(400, "bad_request", "field 'channel' (a string) is required")
            if payload is ...:
                raise APIError(400, "bad_request", "field 'data' is required")
            family = self.broker.family(channel)
            if family is None:
                raise APIError(404, "unknown_channel", f"no family for {channel!r}")
            if family != "app.*" or not p.may_publish(family):
                raise APIError(403, "forbidden", f"{p.name} may not publish to {channel}")
            ch = self.broker.get(channel)
            pub = ch.publish(payload)
            return self._json(200, {"result": {"channel": channel, "epoch": ch.epoch, "offset": pub["offset"]}})

        if path.startswith("/api/v1/jarvis/"):
            return self._jarvis(method, path, body, need())

        raise APIError(404, "not_found", "no such endpoint")

    def _jarvis(self, method: str, path: str, body: dict, p: Principal):
        """Just enough of Jarvis for the page: conversations of their owner, and no provider to ask."""
        mine = {c["id"]: c for c in self.conversations.values() if c["owner"] == p.name or p.is_admin}
        if (method, path) == ("GET", "/api/v1/jarvis/conversations"):
            listed = sorted(mine.values(), key=lambda c: c["updated_at"], reverse=True)
            return self._json(200, {"result": {"conversations": listed}})
        if (method, path) == ("POST", "/api/v1/jarvis/conversations"):
            title = body.get("title") or "New conversation"
            cid = secrets.token_hex(16)
            c = {"id": cid, "title": title, "channel": f"jarvis.{cid}", "owner": p.name,
                 "created_at": now_iso(), "updated_at": now_iso()}
            self.conversations[cid] = c
            return self._json(201, {"result": c})
        m = re.fullmatch(r"/api/v1/jarvis/conversations/([0-9a-f]+)(/messages|/cancel)?", path)
        c = mine.get(m.group(1)) if m else None
        if c is None:
            raise APIError(404, "not_found", "no such conversation")
        if m.group(2) == "/messages" and method == "POST":
            raise APIError(503, "unavailable", "the mock server has no Jarvis provider")
        if m.group(2) == "/cancel" and method == "POST":
            return self._json(200, {"result": {"cancelled": False}})
        if m.group(2) is None and method == "GET":
            return self._json(200, {"result": {**c, "answering": False, "messages": []}})
        if m.group(2) is None and method == "PATCH":
            title = body.get("title")
            if not isinstance(title, str) or not 1 <= len(title) <= 200:
                raise APIError(400, "bad_request", "a title is 1-200 characters")
            c.update(title=title, updated_at=now_iso())
            return self._json(200, {"result": c})
        if m.group(2) is None and method == "DELETE":
            del self.conversations[c["id"]]
            return self._json(200, {"result": {}})
        raise APIError(405, "method_not_allowed", f"{method} is not allowed here")

    def _channels(self) -> dict:
        return {
            "families": [
                {"pattern": "telemetry.host", "delivery": "latest", "history_size": 1,
                 "history_ttl_seconds": None, "subscribe": "read", "publish": "server"},
                {"pattern": "audit", "delivery": "ordered", "history_size": 100,
                 "history_ttl_seconds": 3600, "subscribe": "admin", "publish": "server"},
                {"pattern": "app.*", "delivery": "ordered", "history_size": MAX_APP_HISTORY,
                 "history_ttl_seconds": 600, "subscribe": "read", "publish": "publish"},
            ],
            "reserved": RESERVED,
            "channels": [
                {"name": c.name, "epoch": c.epoch, "offset": c.offset, "subscribers": len(c.subscribers)}
                for c in self.broker.channels.values()
            ],
        }

    # -- WebSocket ---------------------------------------------------------------------------

    async def websocket(self, reader, writer, head: bytes, method: str, target: str, headers: Headers,
                        address: str) -> None:
        principal = self.authenticate(method, target, headers, websocket=True)
        if principal is None:
            status, extra, payload = self._json(401, {"error": {"code": "unauthorized",
                                                                 "message": "missing or wrong credentials"}})
            writer.write(
                f"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                f"Connection: close\r\n\r\n".encode() + payload
            )
            await writer.drain()
            return
        proto = ServerProtocol(max_size=64 * 1024)
        proto.receive_data(head)
        request = next(e for e in proto.events_received() if isinstance(e, Request))
        proto.send_response(proto.accept(request))
        peer = Peer(proto, writer, principal)
        peer.flush()
        self.peers.add(peer)
        try:
            while proto.state is not State.CLOSED:
                data = await reader.read(65536)
                if data:
                    proto.receive_data(data)
                else:
                    proto.receive_eof()
                for event in proto.events_received():
                    if event.opcode is Opcode.TEXT:
                        reply = self._command(peer, event.data.decode("utf-8", "replace"))
                        if reply is not None:
                            await peer.send(json.dumps(reply))
                    elif event.opcode is Opcode.BINARY:
                        await peer.send(json.dumps({"id": None, "error": {"code": "bad_request",
                                                                          "message": "binary frames are not part of v1"}}))
                peer.flush()
                await writer.drain()
                if not data:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.peers.discard(peer)
            for name in peer.subs:
                self.broker.get(name).subscribers.discard(peer)

    def _command(self, peer: Peer, raw: str) -> dict | None:
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
        subs = peer.subs

        if op == "publish":
            if "data" not in msg:
                return err(id_, "bad_request", "missing data")
            if family != "app.*" or not peer.principal.may_publish(family):
                return err(id_, "forbidden", "your key or role may not publish here")
            pub = ch.publish(msg["data"])
            return {"id": id_, "result": {"channel": name, "epoch": ch.epoch, "offset": pub["offset"]}}

        if not peer.principal.may_subscribe(family):
            return err(id_, "forbidden", f"{peer.principal.name} may not read {name}")

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
            ch.subscribers.discard(peer)
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
        ch.subscribers.add(peer)
        return {"id": id_, "result": result}

    # -- loops ---------------------------------------------------------------------------------

    async def telemetry_loop(self) -> None:
        ch = self.broker.get("telemetry.host")
        while True:
            await asyncio.sleep(self.interval)
            ch.publish(self.host.snapshot())

    async def kick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.kick_every)
            for peer in list(self.peers):
                await peer.close(1001, "server shutting down")


def _seconds(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)\s*(ms|s|m)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text}")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, None: 1}[m.group(2)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", choices=["serve"], help="accepted for command-line parity with nebula")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--key", default=os.environ.get("NEBULA_KEY") or os.environ.get("NEBULA_API_KEY"))
    parser.add_argument("--interval", "--telemetry-interval", type=_seconds, default=1.0,
                        help="telemetry interval, e.g. 1 or 1s or 500ms")
    parser.add_argument("--data-dir", help="ignored: the mock keeps everything in memory")
    parser.add_argument("--kick-every", type=float, default=None, help="close all sockets every N seconds")
    args = parser.parse_args()
    if args.command is None and args.key is None:
        args.key = "dev-key"

    base = f"http://{args.host}:{args.port}"
    mock = MockServer(args.key, args.interval, args.kick_every, base)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    server = await asyncio.start_server(mock.serve_client, args.host, args.port, limit=64 * 1024)
    tasks = [asyncio.create_task(mock.telemetry_loop())]
    if args.kick_every:
        tasks.append(asyncio.create_task(mock.kick_loop()))
    print(f"nebula mock listening on {base}/", flush=True)
    if args.key:
        print(f"API key login: {base}/#token={args.key}", flush=True)
    print(f"Create the admin account: {base}/#setup={mock.accounts.setup_token}", flush=True)
    await stop
    for peer in list(mock.peers):
        await peer.close(1001, "server shutting down")
    for t in tasks:
        t.cancel()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
