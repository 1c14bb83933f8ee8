#!/usr/bin/env bash
# Builds and runs the server with embedded defaults (in-process broker, state in ./data).
# Extra arguments go to `nebula serve`, e.g. scripts/serve.sh --port 9000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh run
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product nebula
exec .build/release/nebula serve "$@"
