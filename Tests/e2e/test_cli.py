"""The `nebula serve` command line: validation (exit 2), generated API key, env vars, startup line."""

import os
import re
import subprocess
import time

import pytest

from e2e_lib import BIN, HOST, REPO, free_port, http_request, wait_until


def _run_invalid(args, env_extra=None, tmp_path=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEBULA_")}
    env["NEBULA_API_KEY"] = "k"
    env.update(env_extra or {})
    base = [BIN, "serve", "--data-dir", str(tmp_path / "data")]
    if not any(a == "--port" for a in args) and "NEBULA_PORT" not in (env_extra or {}):
        base += ["--port", str(free_port())]
    try:
        p = subprocess.run(base + args, env=env, cwd=str(REPO), capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{args} {env_extra}: server kept running instead of rejecting the value")
    return p


INVALID = [
    (["--port", "abc"], None),
    (["--port", "70000"], None),
    (["--port", "-1"], None),
    (["--telemetry-interval", "-1s"], None),
    (["--telemetry-interval=-1s"], None),
    (["--ping-interval=-2s"], None),
    (["--max-queue-bytes=-5"], None),
    (["--telemetry-interval", "soon"], None),
    (["--ping-interval", "abc"], None),
    (["--max-queue-bytes", "lots"], None),
    (["--no-such-flag"], None),
    (["--port"], None),
    (["--trusted-proxy", "caddy"], None),
    (["--trusted-proxy", "10.0.0.0/33"], None),
    ([], {"NEBULA_TRUSTED_PROXY": "127.0.0.1,not-an-ip"}),
    ([], {"NEBULA_PORT": "abc"}),
    ([], {"NEBULA_TELEMETRY_INTERVAL": "-1s"}),
    ([], {"NEBULA_PING_INTERVAL": "abc"}),
    (["--cache-dir", "plex=relative/cache"], None),
    (["--log-dir", "/var/log/app"], None),
    ([], {"NEBULA_CACHE_DIR": "plex"}),
    (["--maintenance-interval", "sometimes"], None),
    (["--maintenance-interval", "0"], None),
    (["--maintenance-log-size", "big"], None),
    (["--maintenance-build-cache", "0"], None),
    (["--maintenance-dangling-images", "-1GiB"], None),
    (["--maintenance-log-size", "MiB"], None),
    ([], {"NEBULA_MAINTENANCE_LOG_SIZE": "5 parsecs"}),
]


@pytest.mark.parametrize("args,env", INVALID, ids=[" ".join(a) or " ".join(f"{k}={v}" for k, v in e.items())
                                                   for a, e in INVALID])
def test_invalid_values_exit_2_with_one_line(tmp_path, args, env):
    p = _run_invalid(args, env, tmp_path)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 2, (p.returncode, err, p.stdout[-500:])
    assert err.strip(), "no message on stderr"
    assert len(err.strip().splitlines()) == 1, f"stderr is not one line:\n{err}"


@pytest.mark.parametrize("value", ["1GiB", "500MB", "1g", "1.5m", "1048576"])
def test_size_formats_accepted(server_factory, value):
    s = server_factory(["--maintenance-build-cache", value, "--maintenance-dangling-images", value, "--maintenance-log-size", value])
    assert s.alive()


@pytest.mark.parametrize("value", ["500ms", "2m", "30s", "5"])
def test_interval_formats_accepted(server_factory, value):
    s = server_factory(["--telemetry-interval", value, "--ping-interval", value])
    assert s.alive()
    assert s.http("GET", "/healthz", key=None).status in (200, 503)


def test_plain_number_interval_is_seconds(server_factory):
    s = server_factory(["--telemetry-interval", "1"])

    def offset():
        chans = s.http("GET", "/api/v1/channels").json()["channels"]
        return next((c["offset"] for c in chans if c["name"] == "telemetry.host"), 0)

    time.sleep(0.3)
    o1 = offset()
    time.sleep(2.2)
    o2 = offset()
    assert 1 <= o2 - o1 <= 3, (o1, o2)  # ~2 samples in 2.2 s at 1 s; not 2000 (ms) nor 0 (minutes)


def test_startup_line_has_url(server_factory):
    s = server_factory(["--telemetry-interval", "30s"])
    url = f"http://{HOST}:{s.port}"
    assert wait_until(lambda: url in s.stdout, 5), f"stdout lacks {url!r} (is stdout flushed?): {s.stdout!r}"


def test_env_vars_override_defaults(server_factory):
    port = free_port()
    s = server_factory(pass_port=False, env={"NEBULA_PORT": str(port), "NEBULA_HOST": HOST,
                                             "NEBULA_TELEMETRY_INTERVAL": "200ms"}, start=False)
    s.port = port
    s.start()
    assert http_request(port, "GET", "/healthz").status in (200, 503)
    # NEBULA_TELEMETRY_INTERVAL took effect: several samples within a second
    time.sleep(0.3)
    with s.ws() as c:
        o1 = c.result("subscribe", channel="telemetry.host")["offset"]
        time.sleep(1.0)
        o2 = c.result("history", channel="telemetry.host")["offset"]
    assert o2 - o1 >= 3, (o1, o2)


def test_env_echo_endpoint(server_factory):
    s = server_factory(["--telemetry-interval", "30s"], env={"NEBULA_ECHO_ENDPOINT": "true"})
    with s.ws(path="/ws/echo") as c:
        c.ws.send("hi")
        assert c.ws.recv(timeout=5) == "hi"


def _key_lines(text):
    return [line for line in text.splitlines() if "API key:" in line]


def _extract_key(text):
    lines = _key_lines(text)
    if not lines:
        return None
    rest = lines[0].split("API key:", 1)[1].strip()
    return rest.split()[0] if rest else None


def _files_contain(root, needle: bytes):
    hits = []
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            try:
                with open(p, "rb") as fh:
                    if needle in fh.read():
                        hits.append(p)
            except OSError:
                pass
    return hits


def test_generated_key_printed_once_hashed_and_reused(server_factory, tmp_path):
    data = tmp_path / "data"
    s = server_factory(["--telemetry-interval", "30s"], api_key=None, data_dir=data)
    assert wait_until(lambda: _extract_key(s.stdout), 5), f"no 'API key:' line on stdout (flushed?): {s.stdout!r}"
    key = _extract_key(s.stdout)
    assert len(key) >= 16, key
    # shown on this first start only: the key line and the ready-to-open URL carrying it
    assert len(_key_lines(s.stdout)) == 1, "more than one 'API key:' line"
    assert key not in s.stderr
    # the key works, a wrong one does not
    assert s.http("GET", "/api/v1/channels", key=key).status == 200
    assert s.http("GET", "/api/v1/channels", key=key + "x").status == 401
    s.key = key
    with s.ws() as c:
        assert c.request("ping")["result"] == {}
    # only a hash is stored
    assert any(os.scandir(data)), "nothing stored in the data dir"
    assert not _files_contain(data, key.encode()), "the key is stored in plain text"
    assert s.stop() == 0
    assert not _files_contain(data, key.encode()), "the key is stored in plain text (after shutdown)"

    # second start with the same data dir: no key printed, the first key still works
    s2 = server_factory(["--telemetry-interval", "30s"], api_key=None, data_dir=data)
    time.sleep(0.5)
    assert not _key_lines(s2.stdout), f"a key was printed again: {s2.stdout!r}"
    assert key not in s2.stdout
    assert s2.http("GET", "/api/v1/channels", key=key).status == 200
    assert s2.http("GET", "/api/v1/channels", key="not-the-key").status == 401
    assert s2.stop() == 0
    assert key not in s2.stdout
    assert not _key_lines(s2.stdout)


def test_env_api_key_is_not_written_to_data_dir(server_factory, tmp_path):
    data = tmp_path / "data"
    s = server_factory(["--telemetry-interval", "30s"], data_dir=data)
    s.stop()
    assert s.api_key not in s.stdout
    assert not _files_contain(data, s.api_key.encode())
