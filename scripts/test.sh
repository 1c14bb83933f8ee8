#!/usr/bin/env bash
# Runs every test: Swift unit tests, the end-to-end protocol suite against the real binary, the
# dashboard in headless Chromium, and the Autobahn|Testsuite quick subset against /ws/echo.
# Prints one closing line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh test || exit 1
export PATH=/opt/swift/usr/bin:$PATH
ulimit -n 65536 2>/dev/null || true

passed=0
failed=0
failures=()
count_pytest() { # adds pytest's "N passed, M failed" from a log to the totals
  local log=$1 p f
  p=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
  f=$(grep -Eo '[0-9]+ (failed|error|errors)' "$log" | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
}
step() { echo; echo "=== $* ==="; }

step "build"
swift build --build-tests >/tmp/nebula-build.log 2>&1
if [[ ${PIPESTATUS[0]} -ne 0 ]] || ! grep -q 'Build complete' /tmp/nebula-build.log; then
  grep -E 'error' /tmp/nebula-build.log | head -30
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
tail -1 /tmp/nebula-build.log

step "swift unit tests"
swift test --skip-build >/tmp/nebula-swift-test.log 2>&1
swift_status=$?
grep -E '(✔|✘) Test run with|recorded an issue' /tmp/nebula-swift-test.log | tail -20
p=$(grep -Eo 'Test run with [0-9]+ tests? in [0-9]+ suites? passed' /tmp/nebula-swift-test.log | grep -Eo '[0-9]+' | head -1)
if ((swift_status != 0)) || [[ -z $p ]]; then
  tail -40 /tmp/nebula-swift-test.log
  failed=$((failed + 1)); failures+=("swift unit tests")
else
  passed=$((passed + p))
fi

step "end-to-end protocol tests (real binary, real sockets)"
NEBULA_BIN=$root/.build/debug/nebula python3 -m pytest Tests/e2e -q -p no:cacheprovider 2>&1 | tee /tmp/nebula-e2e.log | tail -15
count_pytest /tmp/nebula-e2e.log
grep -qE '[0-9]+ passed' /tmp/nebula-e2e.log && ! grep -qE '[0-9]+ (failed|error)' /tmp/nebula-e2e.log || failures+=("e2e")

step "dashboard in headless Chromium"
key=browser-test-key
datadir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
NEBULA_API_KEY=$key .build/debug/nebula serve --port "$port" --data-dir "$datadir" --telemetry-interval 1s >"$datadir/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# test_dashboard.py uses this server (API key); test_accounts.py starts its own from NEBULA_BIN.
NEBULA_URL=http://127.0.0.1:$port NEBULA_KEY=$key NEBULA_BIN=$root/.build/debug/nebula \
  python3 -m pytest Tests/browser -q -p no:cacheprovider 2>&1 | tee /tmp/nebula-browser.log | tail -8
count_pytest /tmp/nebula-browser.log
grep -qE '[0-9]+ passed' /tmp/nebula-browser.log && ! grep -qE '[0-9]+ (failed|error)' /tmp/nebula-browser.log || failures+=("browser")
kill -TERM $server 2>/dev/null; wait $server 2>/dev/null

step "RFC 6455 conformance: Autobahn|Testsuite quick subset against /ws/echo"
if scripts/autobahn/install.sh >/tmp/nebula-autobahn-install.log 2>&1; then
  datadir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  NEBULA_API_KEY=$key .build/debug/nebula serve --port "$port" --data-dir "$datadir" --echo-endpoint --max-message-bytes 16777216 >"$datadir/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  scripts/autobahn/run.sh "ws://127.0.0.1:$port/ws/echo?token=$key" 2>&1 | tee /tmp/nebula-autobahn.log | tail -15
  kill -TERM $server 2>/dev/null; wait $server 2>/dev/null
  line=$(grep -E '^autobahn: [0-9]+ passed, [0-9]+ failed' /tmp/nebula-autobahn.log | tail -1)
  if [[ -n $line ]]; then
    p=$(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+'); f=$(echo "$line" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+')
    passed=$((passed + p)); failed=$((failed + f)); ((f == 0)) || failures+=("autobahn")
  else
    failed=$((failed + 1)); failures+=("autobahn (no results)")
  fi
else
  tail -20 /tmp/nebula-autobahn-install.log
  failed=$((failed + 1)); failures+=("autobahn install")
fi

echo
((${#failures[@]})) && echo "failing steps: ${failures[*]}"
echo "$passed passed, $failed failed"
((failed == 0 && ${#failures[@]} == 0))
