#!/usr/bin/env bash
# Install Autobahn|Testsuite's `wstest` (Python 2.7 only) into a dedicated
# location, only when it is missing. Idempotent; safe to run before every test.
#
#   scripts/autobahn/install.sh            # install if needed, print wstest path
#   NEBULA_AUTOBAHN_PREFIX=/some/dir scripts/autobahn/install.sh
#
# How (everything comes from Debian's package mirrors and PyPI only):
#   1. python2.7 + python2.7-dev come from Debian 11 (bullseye): bookworm has no
#      Python 2. A bullseye apt source is added beside bookworm's, on the same
#      mirror host, pinned at priority 100 so nothing else is taken from it
#      (only packages that exist nowhere else, i.e. python2.7 and its libs such
#      as libssl1.1/libffi7, are installed from it).
#   2. A small Python 3 venv (<prefix>/tools3) gets virtualenv 20.21.1, the last
#      virtualenv that can create Python 2.7 environments; it seeds the new env
#      with its bundled pip 20.3.4 / setuptools 44.1.1 / wheel 0.37.1 (the last
#      py2-compatible versions), so no get-pip download is needed.
#   3. virtualenv creates <prefix>/py2 from /usr/bin/python2.7, and its pip
#      installs requirements-py2.txt (every version pinned to a py2-capable
#      release; wsaccel is compiled, hence gcc + python2.7-dev).
#
# Progress goes to stderr; the last line on stdout is `wstest: <path>`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${NEBULA_AUTOBAHN_PREFIX:-/opt/nebula-autobahn}"
REQS="$HERE/requirements-py2.txt"
PY2ENV="$PREFIX/py2"
TOOLS3="$PREFIX/tools3"
WSTEST="$PY2ENV/bin/wstest"
STAMP="$PREFIX/.installed"
WANT_VERSION="AutobahnTestSuite 25.10.1"
# Bump when the install procedure changes in a way that needs a rebuild.
RECIPE=1

log() { echo "autobahn-install: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

stamp_value() {
    echo "recipe=$RECIPE reqs=$(sha256sum "$REQS" | cut -d' ' -f1)"
}

is_installed() {
    [[ -x "$WSTEST" && -f "$STAMP" ]] || return 1
    [[ "$(cat "$STAMP")" == "$(stamp_value)" ]] || return 1
    "$WSTEST" -a 2>/dev/null | grep -qx "$WANT_VERSION"
}

# ---- fast path ---------------------------------------------------------------
if is_installed; then
    log "already installed ($WANT_VERSION)"
    echo "wstest: $WSTEST"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "must run as root (or have sudo) to install packages"
    exec sudo NEBULA_AUTOBAHN_PREFIX="$PREFIX" "$0" "$@"
fi

mkdir -p "$PREFIX"
# Serialize concurrent installs (e.g. two test runs started at once).
exec 9>"$PREFIX/.lock"
flock 9
if is_installed; then   # someone else finished while we waited
    log "already installed ($WANT_VERSION)"
    echo "wstest: $WSTEST"
    exit 0
fi

START=$(date +%s)

# ---- 1. Debian packages ------------------------------------------------------
. /etc/os-release
CODENAME="${VERSION_CODENAME:-bookworm}"

# Mirror URI used for this system's own release (deb822 or one-line format).
mirror_uri() {
    local uri=""
    if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
        uri=$(awk -v cn="$CODENAME" '
            BEGIN { RS=""; FS="\n" }
            {
                uris=""; suites=""; types=""
                for (i = 1; i <= NF; i++) {
                    if ($i ~ /^URIs:/)   { uris = $i;   sub(/^URIs:[ \t]*/, "", uris) }
                    if ($i ~ /^Suites:/) { suites = $i; sub(/^Suites:[ \t]*/, "", suites) }
                    if ($i ~ /^Types:/)  { types = $i }
                }
                n = split(suites, s, /[ \t]+/)
                for (j = 1; j <= n; j++)
                    if (s[j] == cn && types ~ /(^|[ \t])deb([ \t]|$)/) { split(uris, u, /[ \t]+/); print u[1]; exit }
            }' /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
        uri=$(awk -v cn="$CODENAME" '
            $1 == "deb" {
                i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i+1) == cn) { print $i; exit }
            }' /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

need_pkgs=()
[[ -x /usr/bin/python2.7 ]] || need_pkgs+=(python2.7)
[[ -f /usr/include/python2.7/Python.h ]] || need_pkgs+=(python2.7-dev)
command -v gcc >/dev/null || need_pkgs+=(gcc libc6-dev)
/usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || need_pkgs+=(python3 python3-venv)

if ((${#need_pkgs[@]})); then
    log "installing Debian packages: ${need_pkgs[*]}"
    if [[ " ${need_pkgs[*]} " == *" python2.7"* ]] && [[ "$CODENAME" != "bullseye" ]]; then
        list=/etc/apt/sources.list.d/nebula-bullseye.list
        pref=/etc/apt/preferences.d/nebula-bullseye.pref
        uri=$(mirror_uri)
        signed=""
        [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
            signed="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
        want_list="deb ${signed}${uri} bullseye main"
        if [[ ! -f "$list" ]] || [[ "$(cat "$list")" != "$want_list" ]]; then
            log "adding apt source: $want_list (pinned at priority 100)"
            echo "$want_list" | tee "$list" >/dev/null
        fi
        printf 'Package: *\nPin: release n=bullseye\nPin-Priority: 100\n' | tee "$pref" >/dev/null
    fi
    # Refresh lists (needed on a fresh machine and after adding the source).
    apt-get update -q >&2 || log "warning: apt-get update reported errors; trying to install anyway"
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${need_pkgs[@]}" >&2
fi
/usr/bin/python2.7 -c 'import ssl, zlib' || die "python2.7 is broken"

# ---- 2. tool venv with virtualenv (py3) --------------------------------------
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_PYTHON_VERSION_WARNING=1 PIP_NO_INPUT=1
if ! "$TOOLS3/bin/python" -c 'import virtualenv, sys; sys.exit(virtualenv.__version__ != "20.21.1")' 2>/dev/null; then
    log "creating $TOOLS3 (python3 venv with virtualenv 20.21.1)"
    rm -rf "$TOOLS3"
    /usr/bin/python3 -m venv "$TOOLS3"
    "$TOOLS3/bin/pip" install -q --no-cache-dir \
        "virtualenv==20.21.1" "platformdirs<4" "filelock<4" "distlib<1" >&2
fi

# ---- 3. python2.7 env with wstest --------------------------------------------
log "creating $PY2ENV (python2.7 virtualenv)"
rm -rf "$PY2ENV" "$STAMP"
"$TOOLS3/bin/virtualenv" -q --no-periodic-update -p /usr/bin/python2.7 "$PY2ENV" >&2
log "installing wstest and pinned dependencies from $REQS"
"$PY2ENV/bin/pip" install --no-cache-dir -r "$REQS" >"$PREFIX/pip-install.log" 2>&1 || {
    tail -n 40 "$PREFIX/pip-install.log" >&2
    die "pip install into $PY2ENV failed (full log: $PREFIX/pip-install.log)"
}

"$WSTEST" -a 2>/dev/null | grep -qx "$WANT_VERSION" || die "wstest does not run after install"
mkdir -p "$PREFIX/bin"
ln -sfn "$WSTEST" "$PREFIX/bin/wstest"
stamp_value | tee "$STAMP" >/dev/null
log "installed $WANT_VERSION in $(( $(date +%s) - START ))s"
echo "wstest: $WSTEST"
