"""Shared helpers for the Nebula Command black-box end-to-end suite.

Everything here talks to the server only through its public surface (the CLI, HTTP and WebSocket), as
described in docs/protocol.md. Nothing imports or inspects the Swift sources.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import http.client
import json
import os
import pathlib
import re
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass, field

REPO = pathlib.Path(__file__).resolve().parents[2]
PROTOCOL_MD = REPO / "docs" / "protocol.md"
BIN = os.environ.get("NEBULA_BIN", str(REPO / ".build" / "debug" / "nebula"))
API_KEY = "e2e-test-key-5f3a9c71"
HOST = "127.0.0.1"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_FRAME = 64 * 1024


def free_port() -> int:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------------

@dataclass
class HttpResponse:
    status: int
    headers: dict  # lower-cased name -> value (repeated headers joined with ", ")
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name: str, default=None):
        return self.headers.get(name.lower(), default)


def http_request(port: int, method: str, path: str, body=None, headers=None, key: str | None = None,
                 timeout: float = 10.0) -> HttpResponse:
    """One HTTP/1.1 request; `path` is sent verbatim (no normalisation)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    hdrs = dict(headers or {})
    if key is not None:
        hdrs["Authorization"] = f"Bearer {key}"
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    try:
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        merged: dict = {}
        for k, v in resp.getheaders():
            k = k.lower()
            merged[k] = f"{merged[k]}, {v}" if k in merged else v
        return HttpResponse(resp.status, merged, data)
    finally:
        conn.close()


def raw_http(port: int, request: bytes, timeout: float = 5.0) -> HttpResponse:
    """Send bytes exactly as given and parse one HTTP response (for path-traversal probes)."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status, headers = _parse_head(head)
        length = int(headers.get("content-length", "0") or 0)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while not rest.endswith(b"0\r\n\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                rest += chunk
            rest = _dechunk(rest)
        else:
            while len(rest) < length:
                chunk = s.recv(65536)
                if not chunk:
                    break
                rest += chunk
        return HttpResponse(status, headers, rest)
    finally:
        s.close()


def _dechunk(data: bytes) -> bytes:
    out = b""
    while data:
        line, _, data = data.partition(b"\r\n")
        n = int(line.split(b";")[0] or b"0", 16)
        if n == 0:
            break
        out += data[:n]
        data = data[n + 2:]
    return out


def _parse_head(head: bytes):
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
    headers: dict = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            v = v.strip()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
    return status, headers


def parse_metrics(text: str) -> dict:
    """Prometheus text -> {metric name: sum of all its samples (over every label set)}."""
    out: dict = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        out[m.group(1)] = out.get(m.group(1), 0.0) + value
    return out


# --------------------------------------------------------------------------------------------------
# The server process
# --------------------------------------------------------------------------------------------------

class ServerStartError(RuntimeError):
    pass


class Server:
    """One `nebula serve` process with its own port, data dir and captured stdout/stderr."""

    def __init__(self, workdir: pathlib.Path, args=(), env=None, api_key: str | None = API_KEY,
                 data_dir: pathlib.Path | None = None, port: int | None = None, pass_port: bool = True,
                 pass_data_dir: bool = True, cwd: pathlib.Path = REPO):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.args = list(args)
        self.extra_env = dict(env or {})
        self.api_key = api_key
        self.key = api_key  # the key tests should use (set from stdout when generated)
        self.data_dir = pathlib.Path(data_dir) if data_dir else self.workdir / "data"
        self.port = port or free_port()
        self.pass_port = pass_port
        self.pass_data_dir = pass_data_dir
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self.killed = False
        self._n = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    def command(self):
        cmd = [BIN, "serve"]
        if self.pass_port:
            cmd += ["--host", HOST, "--port", str(self.port)]
        if self.pass_data_dir:
            cmd += ["--data-dir", str(self.data_dir)]
        return cmd + self.args

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEBULA_")}
        if self.api_key is not None:
            env["NEBULA_API_KEY"] = self.api_key
        env.update(self.extra_env)
        return env

    def start(self, wait: bool = True, timeout: float = 20.0) -> "Server":
        if not os.path.exists(BIN):
            raise ServerStartError(f"nebula binary not found at {BIN} (set NEBULA_BIN)")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._n += 1
        self.stdout_path = self.workdir / f"stdout.{self._n}.log"
        self.stderr_path = self.workdir / f"stderr.{self._n}.log"
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.returncode = None
        self.killed = False
        for attempt in range(50):
            try:
                self.proc = subprocess.Popen(self.command(), stdout=self._out, stderr=self._err,
                                             stdin=subprocess.DEVNULL, env=self.environment(), cwd=str(self.cwd))
                break
            except OSError as e:  # ETXTBSY while the binary is being relinked by a concurrent build
                if e.errno != errno.ETXTBSY or attempt == 49:
                    raise
                time.sleep(0.2)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"server exited with {self.proc.returncode} before answering /healthz\n"
                    f"cmd: {self.command()}\nstdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}")
            try:
                http_request(self.port, "GET", "/healthz", timeout=1.0)
                return
            except OSError as e:  # refused / reset / timeout
                last = e
            time.sleep(0.05)
        raise ServerStartError(f"/healthz did not answer within {timeout}s ({last!r}); "
                               f"stderr: {self.stderr[-2000:]}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.returncode = self.proc.returncode
        for f in (self._out, self._err):
            try:
                f.close()
            except Exception:
                pass
        return self.returncode

    # -- output --------------------------------------------------------------------------------------
    @property
    def stdout(self) -> str:
        try:
            return self.stdout_path.read_text(errors="replace")
        except (AttributeError, FileNotFoundError):
            return ""

    @property
    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except (AttributeError, FileNotFoundError):
            return ""

    # -- convenience ---------------------------------------------------------------------------------
    def http(self, method, path, body=None, headers=None, key="default", timeout=10.0) -> HttpResponse:
        if key == "default":
            key = self.key
        return http_request(self.port, method, path, body=body, headers=headers, key=key, timeout=timeout)

    def metrics(self) -> dict:
        r = self.http("GET", "/metrics", key=None)
        assert r.status == 200, r
        return parse_metrics(r.body.decode())

    def ws_url(self, path="/ws", token: str | None = None):
        url = f"ws://{HOST}:{self.port}{path}"
        if token is not None:
            url += f"?token={token}"
        return url

    def ws(self, path="/ws", key="default", compression=None, **kw):
        """A well-behaved client (PyPI `websockets`, sync API) wrapped in `Client`."""
        return Client(self.ws_raw(path, key=key, compression=compression, **kw))

    def ws_raw(self, path="/ws", key="default", compression=None, **kw):
        from websockets.sync.client import connect
        if key == "default":
            key = self.key
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        kw.setdefault("open_timeout", 10)
        kw.setdefault("close_timeout", 3)
        kw.setdefault("ping_interval", None)
        kw.setdefault("max_size", 16 * 1024 * 1024)
        conn = connect(self.ws_url(path), additional_headers=headers, compression=compression, **kw)
        # websockets >= 17 wants `with connect(...)`; entering the context manager is the same connection
        return conn.__enter__()

    def raw(self, path="/ws", key="default", **kw) -> "RawWS":
        if key == "default":
            key = self.key
        return RawWS(self.port, path=path, key=key, **kw).connect()


# --------------------------------------------------------------------------------------------------
# Well-behaved client wrapper (websockets)
# --------------------------------------------------------------------------------------------------

class Client:
    """Commands with ids, replies matched by id; publications seen while waiting are kept in `pubs`."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 1
        self.pubs: list = []
        self.replies: dict = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass

    def send(self, obj):
        self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    def recv_json(self, timeout=5.0):
        msg = self.ws.recv(timeout=timeout)
        assert isinstance(msg, str), f"expected a text frame, got {type(msg).__name__}: {msg!r:.200}"
        return json.loads(msg)

    def command(self, op, **fields) -> int:
        cid = self.next_id
        self.next_id += 1
        self.send({"id": cid, "op": op, **fields})
        return cid

    def wait_reply(self, cid, timeout=10.0):
        deadline = time.monotonic() + timeout
        while cid not in self.replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no reply to command {cid}")
            m = self.recv_json(remaining)
            self._file(m)
        return self.replies.pop(cid)

    def _file(self, m):
        if isinstance(m, dict) and "id" in m:
            self.replies[m["id"]] = m
        else:
            self.pubs.append(m)

    def request(self, op, timeout=10.0, **fields):
        return self.wait_reply(self.command(op, **fields), timeout)

    def result(self, op, timeout=10.0, **fields):
        r = self.request(op, timeout=timeout, **fields)
        assert "result" in r, f"{op} {fields} failed: {r}"
        return r["result"]

    def next_pub(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while not self.pubs:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no publication")
            self._file(self.recv_json(remaining))
        return self.pubs.pop(0)

    def pubs_until_quiet(self, quiet=0.5, limit=100000):
        """Drain publications until nothing arrives for `quiet` seconds."""
        out = list(self.pubs)
        self.pubs.clear()
        while len(out) < limit:
            try:
                m = self.recv_json(quiet)
            except TimeoutError:
                break
            if "id" in m:
                self.replies[m["id"]] = m
            else:
                out.append(m)
        return out


# --------------------------------------------------------------------------------------------------
# Raw WebSocket client (hand-built frames)
# --------------------------------------------------------------------------------------------------

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeRejected(Exception):
    def __init__(self, response: HttpResponse):
        super().__init__(f"handshake rejected: HTTP {response.status} {response.body[:200]!r}")
        self.response = response


def mask_bytes(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def build_frame(opcode: int, payload: bytes, fin=True, mask=True, rsv=0, length_override=None) -> bytes:
    b0 = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)
    n = len(payload) if length_override is None else length_override
    mbit = 0x80 if mask else 0
    if n < 126:
        head = bytes([b0, mbit | n])
    elif n < 65536:
        head = bytes([b0, mbit | 126]) + struct.pack("!H", n)
    else:
        head = bytes([b0, mbit | 127]) + struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        return head + key + mask_bytes(payload, key)
    return head + payload


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes


@dataclass
class CloseInfo:
    code: int | None  # None: connection ended without a close frame (EOF / reset)
    reason: str
    got_close_frame: bool
    messages: list = field(default_factory=list)  # data messages read before the close
    pings: int = 0
    error: str | None = None


class RawWS:
    def __init__(self, port, path="/ws", key: str | None = API_KEY, headers=None, rcvbuf: int | None = None,
                 host=HOST, timeout=5.0, offer_deflate=False, auth="bearer", mss: int | None = None):
        self.port, self.path, self.key, self.host = port, path, key, host
        self.extra_headers = dict(headers or {})
        self.rcvbuf = rcvbuf
        self.mss = mss
        self.timeout = timeout
        self.offer_deflate = offer_deflate
        self.auth = auth
        self.buf = b""
        self.sock: socket.socket | None = None
        self.response: HttpResponse | None = None
        self.pings = 0

    # -- handshake -----------------------------------------------------------------------------------
    def handshake(self) -> HttpResponse:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        if self.mss:
            # A small MSS keeps the *server's* kernel send buffer for this socket small (on loopback it
            # otherwise autotunes to ~3 MB), so a client that stops reading backs up into the server's own
            # outbound queue quickly, as it would over a real network.
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, self.mss)
        s.settimeout(self.timeout)
        s.connect((self.host, self.port))
        self.sock = s
        ws_key = base64.b64encode(os.urandom(16)).decode()
        self.ws_key = ws_key
        path = self.path
        headers = {
            "Host": f"{self.host}:{self.port}",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": ws_key,
            "Sec-WebSocket-Version": "13",
        }
        if self.key is not None:
            if self.auth == "bearer":
                headers["Authorization"] = f"Bearer {self.key}"
            elif self.auth == "query":
                path += ("&" if "?" in path else "?") + f"token={self.key}"
        if self.offer_deflate:
            headers["Sec-WebSocket-Extensions"] = "permessage-deflate; client_max_window_bits"
        headers.update(self.extra_headers)
        req = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        s.sendall(req.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status, hdrs = _parse_head(head)
        if status == 101:
            self.buf = rest
            self.response = HttpResponse(status, hdrs, b"")
            return self.response
        length = int(hdrs.get("content-length", "0") or 0)
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            try:
                while not rest.endswith(b"0\r\n\r\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
            except OSError:
                pass
            rest = _dechunk(rest)
        else:
            try:
                while len(rest) < length:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
            except OSError:
                pass
        self.response = HttpResponse(status, hdrs, rest)
        return self.response

    def connect(self) -> "RawWS":
        r = self.handshake()
        if r.status != 101:
            self.close()
            raise HandshakeRejected(r)
        expected = base64.b64encode(hashlib.sha1((self.ws_key + WS_GUID).encode()).digest()).decode()
        assert r.header("sec-websocket-accept") == expected, f"bad Sec-WebSocket-Accept: {r.headers}"
        return self

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- sending -------------------------------------------------------------------------------------
    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload: bytes, **kw):
        self.sock.sendall(build_frame(opcode, payload, **kw))

    def send_text(self, text: str):
        self.send_frame(OP_TEXT, text.encode("utf-8"))

    def send_json(self, obj):
        self.send_text(json.dumps(obj))

    # -- receiving -----------------------------------------------------------------------------------
    def _fill(self, n, deadline):
        while len(self.buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("timed out reading from server")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(262144)
            except socket.timeout:
                raise TimeoutError("timed out reading from server")
            if not chunk:
                raise EOFError("server closed the TCP connection")
            self.buf += chunk

    def recv_frame(self, timeout=5.0) -> Frame:
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n = b1 & 0x7F
        pos = 2
        if n == 126:
            self._fill(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            pos = 4
        elif n == 127:
            self._fill(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            pos = 10
        masked = bool(b1 & 0x80)
        key = b""
        if masked:
            self._fill(pos + 4, deadline)
            key = self.buf[pos:pos + 4]
            pos += 4
        self._fill(pos + n, deadline)
        payload = self.buf[pos:pos + n]
        self.buf = self.buf[pos + n:]
        if masked:
            payload = mask_bytes(payload, key)
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 0x7, b0 & 0x0F, payload)

    def recv_message(self, timeout=5.0, auto_pong=True):
        """Next data message as (opcode, payload); control frames handled. A close frame raises Closed."""
        deadline = time.monotonic() + timeout
        parts, first_op = [], None
        while True:
            f = self.recv_frame(max(0.001, deadline - time.monotonic()))
            if f.opcode == OP_PING:
                self.pings += 1
                if auto_pong:
                    try:
                        self.send_frame(OP_PONG, f.payload)
                    except OSError:
                        pass
                continue
            if f.opcode == OP_PONG:
                continue
            if f.opcode == OP_CLOSE:
                code, reason = parse_close(f.payload)
                raise Closed(code, reason)
            if f.opcode != OP_CONT:
                first_op = f.opcode
            parts.append(f.payload)
            if f.fin:
                return first_op, b"".join(parts)

    def recv_json(self, timeout=5.0):
        op, payload = self.recv_message(timeout)
        assert op == OP_TEXT, f"expected text frame, got opcode {op}"
        return json.loads(payload.decode("utf-8"))

    def wait_close(self, timeout=10.0, auto_pong=True, keep_messages=True) -> CloseInfo:
        """Read (and keep) data messages until a close frame or the end of the TCP stream."""
        deadline = time.monotonic() + timeout
        info = CloseInfo(None, "", False)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    info.error = "timeout"
                    break
                try:
                    op, payload = self.recv_message(remaining, auto_pong=auto_pong)
                except Closed as c:
                    info.code, info.reason, info.got_close_frame = c.code, c.reason, True
                    try:  # complete the closing handshake
                        self.send_frame(OP_CLOSE, struct.pack("!H", c.code) if c.code else b"")
                    except OSError:
                        pass
                    break
                if keep_messages:
                    info.messages.append((op, payload))
        except TimeoutError:
            info.error = "timeout"
        except EOFError:
            info.error = "eof"
        except OSError as e:
            info.error = f"oserror: {e!r}"
        info.pings = self.pings
        return info


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"close frame {code} {reason!r}")
        self.code, self.reason = code, reason


def parse_close(payload: bytes):
    if len(payload) >= 2:
        return struct.unpack("!H", payload[:2])[0], payload[2:].decode("utf-8", errors="replace")
    return 1005, ""


def closed_after(sock_client: RawWS, timeout=3.0) -> bool:
    """True if the TCP stream reaches EOF (or reset) within `timeout`, reading past remaining frames."""
    info = sock_client.wait_close(timeout)
    return info.got_close_frame or info.error in ("eof",) or (info.error or "").startswith("oserror")


# --------------------------------------------------------------------------------------------------
# ws-example blocks
# --------------------------------------------------------------------------------------------------

@dataclass
class Example:
    index: int
    heading: str
    line: int
    steps: list  # [("send", text) | ("expect", obj)]


def load_examples(path=PROTOCOL_MD) -> list:
    text = pathlib.Path(path).read_text()
    examples = []
    heading = ""
    in_block = False
    steps: list = []
    start = 0
    for lineno, line in enumerate(text.splitlines(), 1):
        if not in_block:
            if line.startswith("#"):
                heading = line.lstrip("#").strip().strip("`")
            if line.strip() == "```ws-example":
                in_block, steps, start = True, [], lineno
            continue
        if line.strip() == "```":
            examples.append(Example(len(examples), heading, start, steps))
            in_block = False
            continue
        if line.startswith("> "):
            steps.append(("send", line[2:]))
        elif line.startswith("< "):
            steps.append(("expect", json.loads(line[2:])))
        elif line.strip():
            raise ValueError(f"protocol.md:{lineno}: unrecognised ws-example line {line!r}")
    return examples


class Mismatch(AssertionError):
    pass


def match(expected, actual, bindings: dict, path="$"):
    """Structural match: "*" = anything, "$name" = bound variable; objects need the same key set."""
    if expected == "*":
        return
    if isinstance(expected, str) and expected.startswith("$") and len(expected) > 1:
        if expected in bindings:
            if bindings[expected] != actual:
                raise Mismatch(f"{path}: {expected} was bound to {bindings[expected]!r}, now {actual!r}")
        else:
            bindings[expected] = actual
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            raise Mismatch(f"{path}: expected an object, got {actual!r}")
        if set(expected) != set(actual):
            raise Mismatch(f"{path}: keys differ: missing {sorted(set(expected) - set(actual))}, "
                           f"unexpected {sorted(set(actual) - set(expected))} (actual {actual!r})")
        for k in expected:
            match(expected[k], actual[k], bindings, f"{path}.{k}")
        return
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            raise Mismatch(f"{path}: expected a list of {len(expected)}, got {actual!r}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            match(e, a, bindings, f"{path}[{i}]")
        return
    if type(expected) is not type(actual) and not (
            isinstance(expected, (int, float)) and isinstance(actual, (int, float))
            and not isinstance(expected, bool) and not isinstance(actual, bool)):
        raise Mismatch(f"{path}: expected {expected!r}, got {actual!r}")
    if isinstance(expected, int) and not isinstance(expected, bool) and isinstance(actual, float):
        raise Mismatch(f"{path}: expected integer {expected!r}, got float {actual!r}")
    if expected != actual:
        raise Mismatch(f"{path}: expected {expected!r}, got {actual!r}")


def wait_until(pred, timeout=5.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return v
        time.sleep(interval)
