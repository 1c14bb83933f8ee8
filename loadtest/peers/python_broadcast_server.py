#!/usr/bin/env python3
"""Minimal Nebula-protocol-v1 broadcast peer on Python's `websockets` package.

It is the comparison point for `nebula-load`: it speaks exactly the subset the load tool uses and
nothing more.

* `GET /ws?token=K` or `Authorization: Bearer K` upgrade; anything else with a wrong/missing key -> 401.
* `GET /healthz` -> 200 (no credentials), so scripts can wait for readiness.
* Text frames, one JSON object each:
    {"id": N, "op": "subscribe", "channel": C} -> {"id": N, "result": {"channel": C, "epoch": E, "offset": last}}
    {"id": N, "op": "publish", "channel": C, "data": {...}} -> {"id": N, "result": {"offset": o}}
    {"id": N, "op": "ping"} -> {"id": N, "result": {}}
  and every subscriber of C gets {"channel": C, "offset": o, "data": {...}} (serialized once, sent with
  `websockets.broadcast`).
* Errors: {"id": N, "error": {"code": "...", "message": "..."}}.

Compression (permessage-deflate) is off unless `--compression` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import os
import resource
import secrets
import signal
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class Channel:
    __slots__ = ("name", "epoch", "offset", "subscribers")

    def __init__(self, name: str) -> None:
        self.name = name
        self.epoch = secrets.token_hex(6)
        self.offset = 0
        self.subscribers: set[ServerConnection] = set()


class Hub:
    def __init__(self, token: str) -> None:
        self.token = token.encode()
        self.channels: dict[str, Channel] = {}

    def channel(self, name: str) -> Channel:
        ch = self.channels.get(name)
        if ch is None:
            ch = self.channels[name] = Channel(name)
        return ch

    # -- HTTP side: auth before the upgrade -------------------------------------------------------
    def _authorized(self, request: Request) -> bool:
        candidates = []
        auth = request.headers.get("Authorization")
        if auth and auth.lower().startswith("bearer "):
            candidates.append(auth[7:].strip())
        query = parse_qs(urlsplit(request.path).query)
        candidates.extend(query.get("token", []))
        return any(hmac.compare_digest(c.encode(), self.token) for c in candidates)

    def process_request(self, connection: ServerConnection, request: Request):
        path = urlsplit(request.path).path
        if path == "/healthz":
            return connection.respond(HTTPStatus.OK, '{"status":"ok"}\n')
        if path != "/ws":
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        if not self._authorized(request):
            return connection.respond(
                HTTPStatus.UNAUTHORIZED,
                '{"error":{"code":"unauthorized","message":"missing or wrong key"}}\n',
            )
        return None

    # -- WebSocket side ---------------------------------------------------------------------------
    async def handler(self, ws: ServerConnection) -> None:
        subscribed: set[Channel] = set()
        try:
            async for message in ws:
                reply = self.handle(ws, subscribed, message)
                if reply is not None:
                    await ws.send(reply)
        finally:
            for ch in subscribed:
                ch.subscribers.discard(ws)

    def handle(self, ws: ServerConnection, subscribed: set[Channel], message) -> str | None:
        try:
            cmd = json.loads(message)
        except (ValueError, TypeError):
            return _error(None, "bad_request", "not JSON")
        if not isinstance(cmd, dict):
            return _error(None, "bad_request", "not an object")
        cid = cmd.get("id")
        if not isinstance(cid, int) or isinstance(cid, bool):
            return _error(None, "bad_request", "missing or mistyped id")
        op = cmd.get("op")
        if op == "ping":
            return _dumps({"id": cid, "result": {}})
        if op not in ("subscribe", "publish"):
            return _error(cid, "unknown_op", f"unknown op {op!r}")
        name = cmd.get("channel")
        if not isinstance(name, str) or not name:
            return _error(cid, "bad_request", "missing or mistyped channel")
        ch = self.channel(name)
        if op == "subscribe":
            if ch in subscribed:
                return _error(cid, "already_subscribed", f"already subscribed to {name}")
            subscribed.add(ch)
            ch.subscribers.add(ws)
            return _dumps({"id": cid, "result": {"channel": name, "epoch": ch.epoch, "offset": ch.offset}})
        # publish
        data = cmd.get("data")
        if not isinstance(data, dict):
            return _error(cid, "bad_request", "missing or mistyped data")
        ch.offset += 1
        # Serialize once, hand the same str to every subscriber.
        broadcast(ch.subscribers, _dumps({"channel": name, "offset": ch.offset, "data": data}))
        return _dumps({"id": cid, "result": {"offset": ch.offset}})


def _error(cid, code: str, message: str) -> str:
    return _dumps({"id": cid, "error": {"code": code, "message": message}})


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8090)
    ap.add_argument("--token", default=os.environ.get("NEBULA_API_KEY", ""))
    ap.add_argument("--compression", action="store_true", help="offer permessage-deflate (off by default)")
    ap.add_argument("--backlog", type=int, default=4096)
    args = ap.parse_args()
    if not args.token:
        ap.error("--token (or NEBULA_API_KEY) is required")
    _raise_nofile()

    hub = Hub(args.token)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    async with serve(
        hub.handler,
        args.host,
        args.port,
        process_request=hub.process_request,
        compression="deflate" if args.compression else None,
        max_size=64 * 1024,
        backlog=args.backlog,
    ):
        print(f"python peer listening on ws://{args.host}:{args.port}/ws pid={os.getpid()}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
