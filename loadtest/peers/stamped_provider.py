#!/usr/bin/env python3
"""The provider for loadtest/jarvis_bench.py, in a process of its own: the tests' scripted
OpenAI-compatible stub (Tests/e2e/openai_stub.py) answering every request with `--tokens` tokens,
`--delay` seconds apart, each token's text being the monotonic time at which it was written
(`<t=NS>`; CLOCK_MONOTONIC is the same clock in every process of the machine). Connections are kept
alive unless `--cold`. Prints its port, then serves until its stdin closes; a line `last` on stdin
prints the JSON body of the latest request (the bench replays it to the provider directly). Requests
are not kept beyond the latest: thousands of recorded bodies would make the collector's pauses part of
the measurement.

A process of its own because a provider in the bench's interpreter shares its lock with the client
threads: the provider's writes would then wait for the client's parsing, in both paths but more in the
one with more messages to parse."""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "e2e"))
from openai_stub import OpenAIStub, Script  # noqa: E402


class StampedToken:
    def __str__(self):
        return f"<t={time.monotonic_ns()}>"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.002)
    parser.add_argument("--cold", action="store_true", help="close the connection after every answer")
    args = parser.parse_args()
    script = Script(tokens=[StampedToken() for _ in range(args.tokens)], delay=args.delay)
    stub = OpenAIStub(default=script, keep_alive=not args.cold, keep_requests=1).start()
    print(stub.port, flush=True)
    for line in sys.stdin:
        if line.strip() == "last":
            with stub.lock:
                latest = stub.requests[-1]["body"] if stub.requests else None
            print(json.dumps(latest), flush=True)
    stub.stop()


if __name__ == "__main__":
    main()
