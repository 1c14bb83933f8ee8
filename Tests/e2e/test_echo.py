"""GET /ws/echo: only with --echo-endpoint; echoes text and binary; same auth, limits and compression."""

import json

import pytest

from e2e_lib import OP_BIN, OP_TEXT, RawWS


@pytest.fixture(scope="module")
def echo_server(tmp_path_factory):
    from conftest import ServerFactory
    f = ServerFactory(tmp_path_factory, "echo")
    s = f(["--echo-endpoint", "--telemetry-interval", "30s"])
    yield s
    f.stop_all()


def test_absent_without_flag(server_factory):
    s = server_factory(["--telemetry-interval", "30s"])
    with RawWS(s.port, path="/ws/echo") as raw:
        r = raw.handshake()
        assert r.status == 404, (r.status, r.body)


def test_echo_text_and_binary(echo_server):
    with echo_server.ws(path="/ws/echo") as c:
        for text in ["hello", "", "ünïcødé ✓", "x" * 60000, '{"id": 1, "op": "ping"}']:
            c.ws.send(text)
            assert c.ws.recv(timeout=5) == text
        for blob in [b"\x00\x01\xff", bytes(range(256)) * 100]:
            c.ws.send(blob)
            got = c.ws.recv(timeout=5)
            assert isinstance(got, bytes) and got == blob


def test_echo_raw_frames_keep_opcode(echo_server):
    with echo_server.raw(path="/ws/echo") as raw:
        raw.send_frame(OP_BIN, b"\xde\xad\xbe\xef")
        assert raw.recv_message() == (OP_BIN, b"\xde\xad\xbe\xef")
        raw.send_frame(OP_TEXT, "héllo".encode())
        assert raw.recv_message() == (OP_TEXT, "héllo".encode())


def test_echo_compressed(echo_server):
    with echo_server.ws(path="/ws/echo", compression="deflate") as c:
        assert "permessage-deflate" in c.ws.response.headers.get("Sec-WebSocket-Extensions", "")
        msg = "abc" * 10000
        c.ws.send(msg)
        assert c.ws.recv(timeout=5) == msg


@pytest.mark.parametrize("key", [None, "wrong"])
def test_echo_requires_key(echo_server, key):
    with RawWS(echo_server.port, path="/ws/echo", key=key) as raw:
        r = raw.handshake()
        assert r.status == 401, r.status
        assert json.loads(r.body)["error"]["code"] == "unauthorized"


def test_echo_query_token(echo_server):
    with RawWS(echo_server.port, path="/ws/echo", key=echo_server.key, auth="query").connect() as raw:
        raw.send_frame(OP_TEXT, b"q")
        assert raw.recv_message() == (OP_TEXT, b"q")


def test_echo_limits(echo_server):
    with echo_server.raw(path="/ws/echo") as raw:
        try:
            raw.send_frame(OP_BIN, b"\x00" * (64 * 1024 + 1))
        except OSError:
            pass
        info = raw.wait_close(5)
        assert info.got_close_frame and info.code == 1009, (info.code, info.error)
    with echo_server.raw(path="/ws/echo") as raw:
        raw.send_frame(OP_TEXT, b"\xff\xfe")
        info = raw.wait_close(5)
        assert info.got_close_frame and info.code == 1007, (info.code, info.error)
    with echo_server.ws(path="/ws/echo") as c:
        c.ws.send("still alive")
        assert c.ws.recv(timeout=5) == "still alive"
