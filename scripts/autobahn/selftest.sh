#!/usr/bin/env bash
# Self-check of the Autobahn harness, independent of nebula:
#   1. a correct echo server (reference_echo.py, Python `websockets`) that
#      requires ?token= must pass the given cases (default: the quick CI subset,
#      minus 7.1.5 which websockets itself fails) -> run.sh must exit 0;
#   2. a deliberately broken echo server (text echoed back as binary) must be
#      caught: cases 1.1.* -> run.sh must exit 1 with 8 FAILED.
#
#   scripts/autobahn/selftest.sh [CASES]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${NEBULA_AUTOBAHN_PREFIX:-/opt/nebula-autobahn}"
CASES="${1:-1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*,12.1.*,13.1.*}"
WORK="$(mktemp -d /tmp/autobahn-selftest.XXXXXX)"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

"$HERE/install.sh" >&2
PY3="$PREFIX/tools3/bin/python"
"$PY3" -c 'import websockets, sys; sys.exit(websockets.__version__ != "17.4")' 2>/dev/null ||
    "$PREFIX/tools3/bin/pip" install -q --no-cache-dir websockets==17.4 >&2

free_port() { "$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_echo() { # port args...
    local port=$1; shift
    "$PY3" "$HERE/reference_echo.py" --port "$port" "$@" >"$WORK/echo-$port.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do
        grep -q "reference echo on" "$WORK/echo-$port.log" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "selftest: echo server on $port did not start" >&2; cat "$WORK/echo-$port.log" >&2; exit 1
}

ok=1
TOKEN='s3cr%t&x'   # needs percent-encoding: proves the query string arrives intact
GOOD=$(free_port); start_echo "$GOOD" --token "$TOKEN"
echo "selftest: [1/2] correct echo server, cases $CASES" >&2
if "$HERE/run.sh" --reports "$WORK/good" --exclude 7.1.5 \
        "ws://127.0.0.1:$GOOD/ws/echo?token=s3cr%25t%26x" "$CASES" | tee "$WORK/good.out"; then
    echo "selftest: [1/2] ok (exit 0)" >&2
else
    echo "selftest: [1/2] UNEXPECTED failure against the correct echo server" >&2; ok=0
fi

BAD=$(free_port); start_echo "$BAD" --break text-as-binary
echo "selftest: [2/2] broken echo server (text echoed as binary), cases 1.1.*" >&2
if "$HERE/run.sh" --reports "$WORK/bad" "ws://127.0.0.1:$BAD/ws/echo" "1.1.*" | tee "$WORK/bad.out"; then
    echo "selftest: [2/2] UNEXPECTED exit 0 against the broken echo server" >&2; ok=0
elif [[ "$(tail -n 1 "$WORK/bad.out")" == "autobahn: 0 passed, 8 failed" ]] &&
     [[ $(grep -c '^FAILED' "$WORK/bad.out") -eq 8 ]]; then
    echo "selftest: [2/2] ok (exit 1, 8 FAILED detected)" >&2
else
    echo "selftest: [2/2] wrong summary for the broken echo server" >&2; ok=0
fi

if ((ok)); then
    echo "selftest: OK (reports under $WORK)"
else
    echo "selftest: FAILED (reports under $WORK)"; exit 1
fi
