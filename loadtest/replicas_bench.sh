#!/usr/bin/env bash
# Cross-replica broadcast through Redis (issue 5): a real redis-server, two `nebula serve --redis-url`
# replicas, SUBSCRIBERS spread evenly over both, one publisher on replica A at RATE/s. Reports delivery
# latency (publish on A → frame at a subscriber of A or B), loss, duplicates, CPU of every process, and
# Redis commands per publication (INFO commandstats before/after). Appends JSON to results/replicas.jsonl.
#
#   loadtest/replicas_bench.sh                      # 10,000 subscribers, 10 publications/s, 30 s
#   SUBSCRIBERS=10 RATE=2000 loadtest/replicas_bench.sh   # throughput of publications through Redis
#
# Knobs: SUBSCRIBERS=10000 RATE=10 DURATION=30 WARMUP=5 PAYLOAD_BYTES=240 NEBULA_BIN=.build-release/release/nebula
#   CORES_SERVERS=0 (taskset list for redis + replicas) CORES_A, CORES_B (per replica, default CORES_SERVERS)
#   CORES_CLIENT=1 CLIENT_THREADS=1 RAMP_PER_SEC=2000 ENGINE=epoll (subscriber client: epoll | nio) POLL_US=0
#   REPLICA_THREADS (event loops per replica; default one per CPU it may use)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
SUBSCRIBERS="${SUBSCRIBERS:-10000}"
RATE="${RATE:-10}"
DURATION="${DURATION:-30}"
WARMUP="${WARMUP:-5}"
PAYLOAD_BYTES="${PAYLOAD_BYTES:-240}"
RAMP_PER_SEC="${RAMP_PER_SEC:-2000}"
CORES_SERVERS="${CORES_SERVERS:-0}"
CORES_CLIENT="${CORES_CLIENT:-1}"
NEBULA_BIN="${NEBULA_BIN:-.build-release/release/nebula}"
[[ "$NEBULA_BIN" == /* ]] || NEBULA_BIN="$ROOT/$NEBULA_BIN"
[[ -x "$NEBULA_BIN" ]] || { echo "NEBULA_BIN $NEBULA_BIN not found: swift build -c release --product nebula --scratch-path .build-release" >&2; exit 1; }
command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; }
KEY="loadtest-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
RESULTS="$HERE/results"
mkdir -p "$RESULTS"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building nebula-load (release)" >&2
swift build -c release --package-path "$HERE" >&2
LOAD="$HERE/.build/release/nebula-load"
ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port)
taskset -c "$CORES_SERVERS" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

start_replica() {  # name port cores
    mkdir -p "$WORK/$1"
    NEBULA_API_KEY="$KEY" taskset -c "$3" "$NEBULA_BIN" serve --port "$2" --data-dir "$WORK/$1" \
        --redis-url "redis://127.0.0.1:$REDIS_PORT/0" --replica-id "$1" ${REPLICA_THREADS:+--threads "$REPLICA_THREADS"} >"$RESULTS/replica-$1.log" 2>&1 &
    PIDS+=("$!")
    STARTED_PID=$!
}
PORT_A=$(free_port)
PORT_B=$(free_port)
start_replica a "$PORT_A" "${CORES_A:-$CORES_SERVERS}"
PID_A=$STARTED_PID
start_replica b "$PORT_B" "${CORES_B:-$CORES_SERVERS}"
PID_B=$STARTED_PID
for port in "$PORT_A" "$PORT_B"; do
    for _ in $(seq 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
done
LABEL="nebula@$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown) 2 replicas + redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"

stats() { redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' | awk -F'[:=,]' '/^cmdstat_/ {print $1, $3}'; }
# REPLICAS=1 puts every subscriber on replica A (the Redis broker's own cost, for comparison).
SPREAD=(--subscriber-url "ws://127.0.0.1:$PORT_B/ws")
[[ "${REPLICAS:-2}" == 1 ]] && SPREAD=()
stats >"$WORK/before"
echo "== $SUBSCRIBERS subscribers over 2 replicas, $RATE/s for $DURATION s (+$WARMUP s warmup)" >&2
# PUBLISHERS=N > 1: N-1 more load generators, each with its own channel, publisher and share of the
# subscribers, run alongside (aggregate publications/s through Redis from several connections).
EXTRA=()
for k in $(seq 2 "${PUBLISHERS:-1}"); do
    timeout 900 taskset -c "$CORES_CLIENT" "$LOAD" broadcast --url "ws://127.0.0.1:$PORT_A/ws" "${SPREAD[@]}" --token "$KEY" \
        --server-pid "$PID_A" --label "$LABEL" --subscribers "$SUBSCRIBERS" --rate "$RATE" --duration "$DURATION" \
        --warmup "$WARMUP" --payload-bytes "$PAYLOAD_BYTES" --channel "app.bench$k" --json-out "$WORK/extra$k.json" \
        >"$WORK/extra$k.log" 2>&1 &
    EXTRA+=("$!")
done
timeout 900 taskset -c "$CORES_CLIENT" "$LOAD" broadcast --url "ws://127.0.0.1:$PORT_A/ws" \
    "${SPREAD[@]}" --token "$KEY" --server-pid "$PID_A" --extra-pid "$PID_B" \
    --extra-pid "$REDIS_PID" --label "$LABEL" --subscribers "$SUBSCRIBERS" --rate "$RATE" --duration "$DURATION" \
    --warmup "$WARMUP" --payload-bytes "$PAYLOAD_BYTES" --ramp-per-sec "$RAMP_PER_SEC" --threads "${CLIENT_THREADS:-1}" \
    --engine "${ENGINE:-epoll}" --poll-interval "${POLL_US:-0}" --json-out "$WORK/result.json"
for pid in "${EXTRA[@]}"; do wait "$pid" || true; done
stats >"$WORK/after"

# Redis commands per publication: every command the replicas sent during the run, over the publications.
python3 - "$WORK" "$RESULTS/replicas.jsonl" <<'PY'
import json, sys
work, out = sys.argv[1], sys.argv[2]
def load(name):
    return {k: int(v) for k, v in (line.split() for line in open(f"{work}/{name}") if line.strip())}
before, after = load("before"), load("after")
delta = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
result = json.loads(open(f"{work}/result.json").read().strip().splitlines()[-1])
# Script calls are EVALSHA (EVAL only when Redis lacks the script). Each subscribe runs the read script
# once (one HSETNX inside it); each publication runs the publish script once (one HINCRBY inside it).
scripts = delta.get("cmdstat_evalsha", 0) + delta.get("cmdstat_eval", 0)
publications = delta.get("cmdstat_hincrby", 0)
reads = delta.get("cmdstat_hsetnx", 0)
result["redis_commands"] = delta
result["redis_publications"] = publications
result["redis_round_trips_per_publication"] = round((scripts - reads) / max(1, publications), 4)
import glob
extras = [json.loads(open(f).read().strip().splitlines()[-1]) for f in sorted(glob.glob(f"{work}/extra*.json"))]
if extras:
    everyone = [result] + extras
    seconds = result["params"]["duration_s"] + result["params"]["warmup_s"]
    result["publishers"] = len(everyone)
    result["all_publications_acked"] = sum(r["results"]["publications_acked"] for r in everyone)
    result["all_publications_sent"] = sum(r["results"]["publications_sent"] for r in everyone)
    result["acked_per_s"] = round(result["all_publications_acked"] / seconds, 1)
    print(f"{len(everyone)} publishers: {result['all_publications_acked']} of {result['all_publications_sent']} acknowledged, {result['acked_per_s']}/s")
result["scenario"] = "replicas-broadcast"
with open(out, "a") as f:
    f.write(json.dumps(result) + "\n")
print(f"redis commands during the run: {delta}")
print(f"publications through Redis: {publications}; script calls per publication: {result['redis_round_trips_per_publication']}")
PY
echo "== appended to $RESULTS/replicas.jsonl" >&2
