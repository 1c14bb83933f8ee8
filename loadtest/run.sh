#!/usr/bin/env bash
# Runs the Nebula load scenarios against one server and appends JSON results to loadtest/results/<target>.jsonl.
#
#   loadtest/run.sh python [idle|broadcast|all]   # starts the Python websockets peer itself (port 8090)
#   loadtest/run.sh nebula [idle|broadcast|all]   # starts $NEBULA_BIN serve (port 8091)
#
# The server is pinned to core 0 and the client to core 1 (taskset), and each scenario gets a fresh server
# process so RSS deltas are not polluted by the previous scenario. Traffic goes to 127.0.0.1 only; every
# scenario is bounded in count and time.
#
# Knobs (environment): IDLE_CONNECTIONS=10000 IDLE_SETTLE=5 SUBSCRIBERS=5000 RATE=20 DURATION=30 WARMUP=5
#   DRAIN=2 PAYLOAD_BYTES=240 PUBLISHER=ws RAMP_PER_SEC=2000 CLIENT_THREADS=1 SCHED=rr|nice|none
#   NEBULA_BIN=.build/release/nebula (relative to the repo root) NEBULA_PORT=8091 PYTHON_PORT=8090
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
TARGET="${1:-}"
SCENARIO="${2:-all}"
case "$TARGET" in python | nebula) ;; *)
    echo "usage: $0 python|nebula [idle|broadcast|all]" >&2
    exit 2
    ;;
esac
case "$SCENARIO" in idle | broadcast | all) ;; *)
    echo "scenario must be idle, broadcast or all" >&2
    exit 2
    ;;
esac

IDLE_CONNECTIONS="${IDLE_CONNECTIONS:-10000}"
IDLE_SETTLE="${IDLE_SETTLE:-5}"
SUBSCRIBERS="${SUBSCRIBERS:-5000}"
RATE="${RATE:-20}"
DURATION="${DURATION:-30}"
WARMUP="${WARMUP:-5}"
DRAIN="${DRAIN:-2}"
PAYLOAD_BYTES="${PAYLOAD_BYTES:-240}"
PUBLISHER="${PUBLISHER:-ws}"
RAMP_PER_SEC="${RAMP_PER_SEC:-2000}"
CLIENT_THREADS="${CLIENT_THREADS:-1}"
NEBULA_BIN="${NEBULA_BIN:-.build/release/nebula}"
NEBULA_PORT="${NEBULA_PORT:-8091}"
PYTHON_PORT="${PYTHON_PORT:-8090}"
# Scheduling of server and client, so unrelated work on the box (builds, other tests) cannot steal the pinned
# cores and turn the benchmark into a measurement of contention:
#   SCHED=rr    (default as root) SCHED_RR priority 10 via chrt: the pinned processes always get their core;
#               the kernel's RT throttling still leaves 5 % of it to everything else; the run is bounded.
#   SCHED=nice  nice -n -10 (weak: with autogroup scheduling, other sessions still get an equal share)
#   SCHED=none  plain taskset.
# The tool reports the server's run-queue wait (runnable but not running) so a disturbed run is visible.
if [[ -z "${SCHED:-}" ]]; then
    if [[ $(id -u) == 0 ]] && chrt -r 10 true 2>/dev/null; then SCHED=rr; else SCHED=none; fi
fi
case "$SCHED" in
rr) PRIO=(chrt -r 10) ;;
nice) PRIO=(nice -n -10) ;;
none) PRIO=() ;;
*) echo "SCHED must be rr, nice or none" >&2; exit 2 ;;
esac
KEY="${NEBULA_LOAD_KEY:-loadtest-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')}"

RESULTS="$HERE/results"
mkdir -p "$RESULTS"

# ---- prerequisites ------------------------------------------------------------------------------
need_apt=()
command -v taskset >/dev/null || need_apt+=(util-linux)
command -v curl >/dev/null || need_apt+=(curl)
if ((${#need_apt[@]})); then
    apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi

if [[ "$TARGET" == python ]]; then
    if [[ ! -x "$HERE/.venv/bin/python" ]] || ! "$HERE/.venv/bin/python" -c 'import websockets' 2>/dev/null; then
        python3 -m venv "$HERE/.venv" || { apt-get update -qq && apt-get install -y -qq python3-venv && python3 -m venv "$HERE/.venv"; }
        "$HERE/.venv/bin/pip" install -q -r "$HERE/peers/requirements.txt"
    fi
fi

echo "== building nebula-load (release)" >&2
swift build -c release --package-path "$HERE" >&2
LOAD="$HERE/.build/release/nebula-load"

# One fd per connection on both sides (10,000 idle connections + slack): raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < IDLE_CONNECTIONS + 256)); then
    echo "warning: ulimit -n is $(ulimit -n), below $((IDLE_CONNECTIONS + 256)); raise the hard limit" >&2
fi

# ---- server lifecycle ---------------------------------------------------------------------------
SERVER_PID=""
DATA_DIR=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
    if [[ -n "$DATA_DIR" ]]; then rm -rf "$DATA_DIR"; DATA_DIR=""; fi
}
trap stop_server EXIT

start_server() {
    local log="$RESULTS/$TARGET-server.log"
    if [[ "$TARGET" == python ]]; then
        PORT="$PYTHON_PORT"
        LABEL="python-websockets-$("$HERE/.venv/bin/python" -c 'import websockets; print(websockets.__version__)')"
        "${PRIO[@]}" taskset -c 0 "$HERE/.venv/bin/python" "$HERE/peers/python_broadcast_server.py" \
            --host 127.0.0.1 --port "$PORT" --token "$KEY" >"$log" 2>&1 &
        SERVER_PID=$!
    else
        PORT="$NEBULA_PORT"
        local bin="$NEBULA_BIN"
        [[ "$bin" == /* ]] || bin="$ROOT/$bin"
        [[ -x "$bin" ]] || { echo "NEBULA_BIN $bin not found: build the server first" >&2; exit 1; }
        LABEL="nebula@$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        DATA_DIR="$(mktemp -d)"
        NEBULA_API_KEY="$KEY" "${PRIO[@]}" taskset -c 0 "$bin" serve --port "$PORT" --data-dir "$DATA_DIR" >"$log" 2>&1 &
        SERVER_PID=$!
    fi
    for _ in $(seq 150); do
        if curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
            echo "== $LABEL up (pid $SERVER_PID, port $PORT, sched $SCHED)" >&2
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited; see $log" >&2; tail -20 "$log" >&2; exit 1; }
        sleep 0.2
    done
    echo "server did not answer /healthz within 30 s; see $log" >&2
    exit 1
}

client() { timeout 600 "${PRIO[@]}" taskset -c 1 "$LOAD" "$@" --token "$KEY" --server-pid "$SERVER_PID" --label "$LABEL" \
    --threads "$CLIENT_THREADS" --ramp-per-sec "$RAMP_PER_SEC" --json-out "$RESULTS/$TARGET.jsonl"; }

# ---- scenarios ----------------------------------------------------------------------------------
if [[ "$SCENARIO" == idle || "$SCENARIO" == all ]]; then
    start_server
    echo "== idle: $IDLE_CONNECTIONS connections" >&2
    client idle --url "ws://127.0.0.1:$PORT/ws" --connections "$IDLE_CONNECTIONS" --settle "$IDLE_SETTLE"
    stop_server
    sleep 2
fi

if [[ "$SCENARIO" == broadcast || "$SCENARIO" == all ]]; then
    start_server
    echo "== broadcast: $SUBSCRIBERS subscribers × $RATE/s for $DURATION s (+$WARMUP s warmup)" >&2
    client broadcast --url "ws://127.0.0.1:$PORT/ws" --subscribers "$SUBSCRIBERS" --rate "$RATE" \
        --duration "$DURATION" --warmup "$WARMUP" --drain "$DRAIN" --payload-bytes "$PAYLOAD_BYTES" \
        --publisher "$PUBLISHER"
    stop_server
fi

echo "== results appended to $RESULTS/$TARGET.jsonl" >&2
