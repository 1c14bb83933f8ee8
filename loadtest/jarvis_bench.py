#!/usr/bin/env python3
"""Jarvis overhead (issue 6): how much time Nebula adds to an answer's first token and to each token,
against the same provider read directly.

The provider is the tests' scripted OpenAI peer in a process of its own (loadtest/peers/
stamped_provider.py): every token carries the monotonic time it was written (`<t=NS>`), so each
token's delay is measured on one clock — directly (an SSE client reading
the peer) and through Nebula (POST /messages, the answer read from `jarvis.<id>` over WebSocket). First
token: from the request to the first token seen. Through Nebula the question is asked from a second
thread while the first reads the socket, as the page does (its fetch() runs beside the socket), and the
direct client sends exactly the request Nebula sent (the question with the tools' definitions). Nebula batches deltas (one publication per 40 ms at most),
so per-token delay through Nebula includes up to one batch interval by design; the first token is sent at
once. Direct and through-Nebula answers alternate, and the first-token overhead is also reported per pair
(Nebula's answer minus the direct one just before it), which cancels out most of the machine's noise.

Connections stay warm on both sides, as in production: the direct client reuses its connection to the
provider, the dashboard's browser reuses its connection to Nebula, and Nebula's HTTP client pools its
connections to the provider (OpenAI, Ollama and llama.cpp's server keep them alive; the stub then
streams with chunked encoding). `--cold` makes every request open a new connection on both sides (the
stub closes after each answer), which adds connection setup — ours and the provider's — to each side.
`--redis` runs Nebula with a real redis-server as its broker (each publication is then a round trip).

  NEBULA_BIN=.build-release/release/nebula python3 loadtest/jarvis_bench.py --answers 300 --tokens 20
"""

import argparse
import http.client
import json
import os
import pathlib
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Tests" / "e2e"))
from e2e_lib import free_port  # noqa: E402
from redis_server import RedisServer  # noqa: E402

STAMP = re.compile(r"<t=(\d+)>")


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


class Client:
    """HTTP/1.1 to one server: one connection reused (warm) or a new one per request (cold)."""

    def __init__(self, port, warm, headers=None):
        self.port, self.warm, self.headers = port, warm, dict(headers or {})
        self.connection = None

    def request(self, method, path, body):
        if self.connection is None or not self.warm:
            if self.connection is not None:
                self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port)
        headers = dict(self.headers, **({} if self.warm else {"Connection": "close"}))
        self.connection.request(method, path, body=body, headers=headers)
        return self.connection.getresponse()


class Provider:
    """loadtest/peers/stamped_provider.py, running until stop()."""

    def __init__(self, tokens, warm):
        command = [sys.executable, str(HERE / "peers" / "stamped_provider.py"), "--tokens", str(tokens)]
        self.proc = subprocess.Popen(command + ([] if warm else ["--cold"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def latest_request(self):
        self.proc.stdin.write("last\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip().encode()

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def direct(client, body, first, delays):
    """First-token time and per-token delays reading the provider's SSE ourselves."""
    started = time.monotonic_ns()
    got_first = False
    with client.request("POST", "/v1/chat/completions", body) as r:
        for raw in r:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            now = time.monotonic_ns()
            chunk = json.loads(line[6:])
            for choice in chunk.get("choices", []):
                content = (choice.get("delta") or {}).get("content") or ""
                for stamp in STAMP.findall(content):
                    if not got_first:
                        first.append((now - started) / 1e6)
                        got_first = True
                    delays.append((now - int(stamp)) / 1e6)


def interleaved(peer, answers, binary, data_dir, warm, redis_url, warmup=20):
    """Direct and through-Nebula answers alternate, so both see the same machine."""
    from websockets.sync.client import connect
    port = free_port()
    key = "bench-key"
    env = dict(os.environ, NEBULA_API_KEY=key)
    broker = ["--redis-url", redis_url] if redis_url else []
    proc = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", data_dir, "--telemetry-interval", "30s", *broker],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)

        nebula = Client(port, warm, {"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
        provider = Client(peer.port, warm, {"Content-Type": "application/json"})

        def http(method, path, body):
            with nebula.request(method, path, json.dumps(body).encode()) as r:
                if r.status >= 300:
                    raise RuntimeError(f"{method} {path}: {r.status} {r.read()[:200]!r}")
                return json.loads(r.read())

        http("PUT", "/api/v1/jarvis/providers", {"providers": [{"name": "stub", "base_url": peer.base_url, "model": "m"}]})
        asking, asked = queue.Queue(), queue.Queue()

        def asker():
            while (conversation_id := asking.get()) is not None:
                started = time.monotonic_ns()
                try:
                    asked.put((started, http("POST", f"/api/v1/jarvis/conversations/{conversation_id}/messages", {"content": "hi"})))
                except Exception as error:  # noqa: BLE001 - handed to the measuring thread
                    asked.put((started, error))

        threading.Thread(target=asker, daemon=True).start()
        d_first, d_delays, first, delays = [], [], [], []
        # Until Nebula has asked once, the direct client sends a bare question; from then on exactly
        # the request Nebula sends (the question with the tools' definitions), so the provider does the
        # same work on both paths. The first `warmup` answers of each path are not counted.
        body = json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
        with connect(f"ws://127.0.0.1:{port}/ws?token={key}") as ws:
            for n in range(warmup + answers):
                if n == warmup:
                    d_first, d_delays, first, delays = [], [], [], []
                # A fresh conversation each time: the provider gets one question, as in the direct case.
                conversation = http("POST", "/api/v1/jarvis/conversations", {})["result"]
                ws.send(json.dumps({"id": n + 1, "op": "subscribe", "channel": conversation["channel"]}))
                json.loads(ws.recv())
                direct(provider, body, d_first, d_delays)
                # The question is asked from another thread while this one reads the socket, as the
                # page does (fetch() runs beside the socket's messages): the first token counts when
                # it arrives, not when the POST's reply has been read.
                asking.put(conversation["id"])
                first_at = None
                answer = None
                while True:
                    message = json.loads(ws.recv(timeout=30))
                    now = time.monotonic_ns()
                    data = message.get("data", {})
                    if message.get("channel") != conversation["channel"] or not isinstance(data, dict):
                        continue
                    answer = data.get("answer", answer)
                    if data.get("type") == "answer.delta":
                        for stamp in STAMP.findall(data["text"]):
                            first_at = first_at or now
                            delays.append((now - int(stamp)) / 1e6)
                    elif data.get("type") == "answer.end":
                        break
                started, reply = asked.get(timeout=30)
                if isinstance(reply, Exception):
                    raise reply
                assert reply["result"]["answer"]["id"] == answer, "the deltas read belong to another answer"
                first.append((first_at - started) / 1e6)
                if n == 0:
                    body = peer.latest_request()
                ws.send(json.dumps({"id": 100_000 + n, "op": "unsubscribe", "channel": conversation["channel"]}))
        asking.put(None)
        return (d_first, d_delays), (first, delays)
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--cold", action="store_true", help="a new connection for every request, on both sides")
    parser.add_argument("--redis", action="store_true", help="Nebula with a real redis-server as its broker")
    parser.add_argument("--json-out", default=str(HERE / "results" / "jarvis.jsonl"))
    args = parser.parse_args()
    binary = os.environ.get("NEBULA_BIN", str(HERE.parent / ".build-release" / "release" / "nebula"))
    peer = Provider(args.tokens, warm=not args.cold)
    redis = RedisServer().start() if args.redis else None
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            (d_first, d_delays), (n_first, n_delays) = interleaved(
                peer, args.answers, binary, data_dir, warm=not args.cold, redis_url=redis.url if redis else None)
    finally:
        peer.stop()
        if redis:
            redis.stop()

    def summary(values):
        return {"p50": round(percentile(values, 50), 3), "p99": round(percentile(values, 99), 3), "count": len(values)}

    result = {
        "scenario": "jarvis-overhead", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "params": {"answers": args.answers, "tokens": args.tokens, "binary": binary,
                   "connections": "cold" if args.cold else "warm", "broker": "redis" if args.redis else "in-process"},
        "direct": {"first_token_ms": summary(d_first), "token_delay_ms": summary(d_delays)},
        "nebula": {"first_token_ms": summary(n_first), "token_delay_ms": summary(n_delays)},
    }
    # Per answer, Nebula's first token minus the direct one taken just before it (same conditions).
    paired = [n - d for d, n in zip(d_first, n_first)]
    result["added_paired_first_token_ms"] = summary(paired)
    result["load_average_1m"] = float(open("/proc/loadavg").read().split()[0])
    result["added"] = {
        "first_token_ms": {p: round(result["nebula"]["first_token_ms"][p] - result["direct"]["first_token_ms"][p], 3) for p in ("p50", "p99")},
        "token_delay_ms": {p: round(result["nebula"]["token_delay_ms"][p] - result["direct"]["token_delay_ms"][p], 3) for p in ("p50", "p99")},
    }
    print(json.dumps(result, indent=2))
    pathlib.Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.json_out, "a") as f:
        f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
