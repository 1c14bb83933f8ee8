#!/usr/bin/env python3
"""Reference WebSocket echo server for self-checking the Autobahn harness.

Uses the `websockets` package (PyPI; permessage-deflate on by default).
It mimics nebula's endpoint contract: it only accepts the upgrade on --path
and, with --token, only when the query string carries `token=<KEY>`, so a run
that passes proves the URL (path + query) reached the server intact.

    python3 reference_echo.py --port 9001 --token KEY
    python3 reference_echo.py --port 9002 --break text-as-binary   # must FAIL

--break modes deliberately violate the echo contract so the harness can be
seen to detect failures:
    text-as-binary   echo text messages back as binary frames (cases 1.1.x, 5.x... FAIL)

Known deviation of websockets itself (not of the harness): case 7.1.5 (close
frame in the middle of a fragmented message) FAILS: websockets answers 1002.
selftest.sh therefore excludes 7.1.5.
"""
import argparse
import asyncio
import os
import signal
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

# websockets >= 16 caps a fragmented message at 4096 frames (read at import
# time); Autobahn 9.3.x/9.4.x send 4 MiB in fragments as small as 64 bytes.
os.environ.setdefault("WEBSOCKETS_MAX_FRAGMENTS", str(1 << 20))

from websockets.asyncio.server import serve  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9001)
    ap.add_argument("--path", default="/ws/echo")
    ap.add_argument("--token", default=None, help="require ?token=TOKEN")
    ap.add_argument("--break", dest="breakage", choices=["text-as-binary"], default=None)
    args = ap.parse_args()

    def process_request(connection, request):
        parts = urlsplit(request.path)
        if parts.path != args.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "no such endpoint\n")
        if args.token is not None:
            if parse_qs(parts.query).get("token") != [args.token]:
                return connection.respond(HTTPStatus.UNAUTHORIZED, "bad or missing token\n")
        return None

    async def echo(ws):
        async for message in ws:
            if args.breakage == "text-as-binary" and isinstance(message, str):
                message = message.encode("utf-8")
            await ws.send(message)

    async def run():
        stop = asyncio.get_running_loop().create_future()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
        async with serve(
            echo,
            args.host,
            args.port,
            process_request=process_request,
            max_size=32 * 1024 * 1024,  # 9.x sends messages up to 16 MiB
            ping_interval=None,
        ):
            print(f"reference echo on ws://{args.host}:{args.port}{args.path}", flush=True)
            await stop

    asyncio.run(run())


if __name__ == "__main__":
    main()
