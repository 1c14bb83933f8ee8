#!/usr/bin/env bash
# Run Autobahn|Testsuite's fuzzingclient against a WebSocket echo endpoint and
# decide pass/fail.
#
#   scripts/autobahn/run.sh [options] URL [CASES]
#
#   URL    ws:// or wss:// URL of an echo endpoint, query string included,
#          e.g. 'ws://127.0.0.1:8080/ws/echo?token=KEY' (quote it in the shell).
#          The path and query are sent verbatim in the GET request line.
#   CASES  comma list of case patterns ('*' wildcards), or 'all' for every case.
#          Default (quick CI subset):
#          1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*,12.1.*,13.1.*
#
# Options (or the environment variable in brackets):
#   --reports DIR     report directory [AUTOBAHN_REPORTS, default /tmp/autobahn-reports]
#   --exclude LIST    comma list of case patterns to skip [AUTOBAHN_EXCLUDE, default none]
#   --agent NAME      name of the server in the reports [AUTOBAHN_AGENT, default nebula]
#   --timeout SECS    kill wstest after SECS [AUTOBAHN_TIMEOUT, default 3600]
#   --verbose         also list INFORMATIONAL/WRONG CODE cases in the summary
#
# Installs wstest first when missing (scripts/autobahn/install.sh).
# Prints one line per non-passing case and, last, `autobahn: N passed, M failed`.
# Exit status: 0 all passed; 1 any failure, missing results or no results; 2 usage.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${NEBULA_AUTOBAHN_PREFIX:-/opt/nebula-autobahn}"
DEFAULT_CASES="1.*,2.*,3.*,4.*,5.*,6.*,7.*,8.*,9.*,10.*,12.1.*,13.1.*"

REPORTS="${AUTOBAHN_REPORTS:-/tmp/autobahn-reports}"
EXCLUDE="${AUTOBAHN_EXCLUDE:-}"
AGENT="${AUTOBAHN_AGENT:-nebula}"
TIMEOUT="${AUTOBAHN_TIMEOUT:-3600}"
VERBOSE=""

usage() { sed -n '2,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

args=()
while (($#)); do
    case "$1" in
        --reports) REPORTS="$2"; shift 2 ;;
        --exclude) EXCLUDE="$2"; shift 2 ;;
        --agent) AGENT="$2"; shift 2 ;;
        --timeout) TIMEOUT="$2"; shift 2 ;;
        --verbose) VERBOSE="--verbose"; shift ;;
        -h|--help) usage ;;
        --) shift; args+=("$@"); break ;;
        -*) echo "run.sh: unknown option $1" >&2; usage ;;
        *) args+=("$1"); shift ;;
    esac
done
((${#args[@]} >= 1 && ${#args[@]} <= 2)) || usage
URL="${args[0]}"
CASES="${args[1]:-$DEFAULT_CASES}"
[[ "$CASES" == "all" ]] && CASES="*"
[[ "$URL" =~ ^wss?:// ]] || { echo "run.sh: URL must start with ws:// or wss://" >&2; exit 2; }

# ---- wstest ------------------------------------------------------------------
"$HERE/install.sh" >&2
WSTEST="$PREFIX/py2/bin/wstest"
PY3="$PREFIX/tools3/bin/python"

# ---- spec --------------------------------------------------------------------
mkdir -p "$REPORTS"
# Drop results of an earlier run so they can never be mistaken for this one's.
rm -f "$REPORTS"/index.json "$REPORTS"/index.html "$REPORTS"/*_case_*.json \
      "$REPORTS"/*_case_*.html "$REPORTS"/wstest.log "$REPORTS"/spec.json
REPORTS="$(cd "$REPORTS" && pwd)"
SPEC="$REPORTS/spec.json"
URL="$URL" AGENT="$AGENT" CASES="$CASES" EXCLUDE="$EXCLUDE" OUTDIR="$REPORTS" "$PY3" - >"$SPEC" <<'EOF'
import json, os
split = lambda s: [c.strip() for c in s.split(",") if c.strip()]
print(json.dumps({
    "outdir": os.environ["OUTDIR"],
    "servers": [{"agent": os.environ["AGENT"], "url": os.environ["URL"]}],
    "cases": split(os.environ["CASES"]),
    "exclude-cases": split(os.environ["EXCLUDE"]),
    "exclude-agent-cases": {},
}, indent=2))
EOF

echo "autobahn: cases=$CASES exclude=${EXCLUDE:-none} url=$URL reports=$REPORTS" >&2

# ---- run ---------------------------------------------------------------------
LOG="$REPORTS/wstest.log"
START=$(date +%s)
set +e
# Run from the report dir: wstest writes nothing else, but keep cwd harmless.
(cd "$REPORTS" && PYTHONUNBUFFERED=1 timeout --kill-after=30 "$TIMEOUT" \
    "$WSTEST" -m fuzzingclient -s "$SPEC") >"$LOG" 2>&1
rc=$?
set -e
ELAPSED=$(( $(date +%s) - START ))
echo "autobahn: wstest finished in ${ELAPSED}s (exit $rc, log $LOG)" >&2
if ((rc == 124 || rc == 137)); then
    echo "autobahn: wstest timed out after ${TIMEOUT}s" >&2
fi
grep -E "failed \(|Traceback|Error" "$LOG" | head -n 5 >&2 || true

EXPECTED=$(sed -n 's/^Ok, will run \([0-9]*\) test cases.*/\1/p' "$LOG" | head -n 1)
set +e
"$PY3" "$HERE/summarize.py" "$REPORTS" ${EXPECTED:+--expected "$EXPECTED"} $VERBOSE
status=$?
set -e
if ((rc != 0 && status == 0)); then
    echo "autobahn: wstest exited with $rc" >&2
    status=1
fi
exit "$status"
