#!/usr/bin/env python3
"""Jarvis overhead (issue 6): how much time Nebula adds to an answer's first token and to each token,
against the same provider read directly.

The provider is tests' scripted OpenAI stub, in this process: every token carries the monotonic time it
was written (`<t=NS>`), so each token's delay is measured on one clock — directly (an SSE client reading
the stub) and through Nebula (POST /messages, the answer read from `jarvis.<id>` over WebSocket). First
token: from the request to the first token seen. Nebula batches deltas (one publication per 40 ms at most),
so per-token delay through Nebula includes up to one batch interval by design; the first token is sent at
once. Direct and through-Nebula answers alternate, and the first-token overhead is also reported per pair
(Nebula's answer minus the direct one just before it), which cancels out most of the machine's noise.

  NEBULA_BIN=.build-release/release/nebula python3 loadtest/jarvis_bench.py --answers 200 --tokens 20
"""

import argparse
import json
import os
import pathlib
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Tests" / "e2e"))
from openai_stub import OpenAIStub, Script  # noqa: E402

STAMP = re.compile(r"<t=(\d+)>")


def stamped_tokens(n):
    class Token:
        def __str__(self):
            return f"<t={time.monotonic_ns()}>"
    return [Token() for _ in range(n)]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def direct(stub, answers, tokens, first, delays):
    """First-token time and per-token delays reading the stub's SSE ourselves."""
    body = json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
    for _ in range(answers):
        stub.scripts.append(Script(tokens=stamped_tokens(tokens), delay=0.002))
        started = time.monotonic_ns()
        req = urllib.request.Request(stub.base_url + "/chat/completions", data=body, headers={"Content-Type": "application/json"})
        got_first = False
        with urllib.request.urlopen(req) as r:
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


def interleaved(stub, answers, tokens, binary, data_dir):
    """Direct and through-Nebula answers alternate, so both see the same machine."""
    from websockets.sync.client import connect
    port = free_port()
    key = "bench-key"
    env = dict(os.environ, NEBULA_API_KEY=key)
    proc = subprocess.Popen([binary, "serve", "--port", str(port), "--data-dir", data_dir, "--telemetry-interval", "30s"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)

        def http(method, path, body):
            req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method=method,
                                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
            with urllib.request.urlopen(req) as r:
                return json.loads(r.read())

        http("PUT", "/api/v1/jarvis/providers", {"providers": [{"name": "stub", "base_url": stub.base_url, "model": "m"}]})
        d_first, d_delays, first, delays = [], [], [], []
        with connect(f"ws://127.0.0.1:{port}/ws?token={key}") as ws:
            for n in range(answers):
                # A fresh conversation each time: the provider gets one question, as in the direct case.
                conversation = http("POST", "/api/v1/jarvis/conversations", {})["result"]
                ws.send(json.dumps({"id": n + 1, "op": "subscribe", "channel": conversation["channel"]}))
                json.loads(ws.recv())
                direct(stub, 1, tokens, d_first, d_delays)
                stub.scripts.append(Script(tokens=stamped_tokens(tokens), delay=0.002))
                started = time.monotonic_ns()
                answer = http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/messages", {"content": f"q{n}"})["result"]["answer"]["id"]
                got_first = False
                while True:
                    message = json.loads(ws.recv(timeout=30))
                    now = time.monotonic_ns()
                    data = message.get("data", {})
                    if data.get("answer") != answer:
                        continue
                    if data.get("type") == "answer.delta":
                        for stamp in STAMP.findall(data["text"]):
                            if not got_first:
                                first.append((now - started) / 1e6)
                                got_first = True
                            delays.append((now - int(stamp)) / 1e6)
                    elif data.get("type") == "answer.end":
                        break
                ws.send(json.dumps({"id": 100_000 + n, "op": "unsubscribe", "channel": conversation["channel"]}))
        return (d_first, d_delays), (first, delays)
    finally:
        proc.terminate()
        proc.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--json-out", default=str(HERE / "results" / "jarvis.jsonl"))
    args = parser.parse_args()
    binary = os.environ.get("NEBULA_BIN", str(HERE.parent / ".build-release" / "release" / "nebula"))
    stub = OpenAIStub().start()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            (d_first, d_delays), (n_first, n_delays) = interleaved(stub, args.answers, args.tokens, binary, data_dir)
    finally:
        stub.stop()

    def summary(values):
        return {"p50": round(percentile(values, 50), 3), "p99": round(percentile(values, 99), 3), "count": len(values)}

    result = {
        "scenario": "jarvis-overhead", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "params": {"answers": args.answers, "tokens": args.tokens, "binary": binary},
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
