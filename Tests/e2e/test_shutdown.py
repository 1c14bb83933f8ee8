"""SIGTERM / SIGINT: every socket gets 1001 `server shutting down`, exit 0 within 10 s, then refused."""

import signal
import socket
import time

import pytest
from websockets.exceptions import ConnectionClosed

from e2e_lib import HOST, RawWS


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_shutdown(server_factory, sig):
    s = server_factory(["--telemetry-interval", "200ms"])
    a = s.ws()
    b = s.ws()
    assert a.result("subscribe", channel="app.shutdown")["offset"] == 0
    assert b.result("subscribe", channel="telemetry.host")["delivery"] == "latest"
    raw = RawWS(s.port).connect()
    raw.send_json({"id": 1, "op": "ping"})
    assert raw.recv_json() == {"id": 1, "result": {}}

    t0 = time.monotonic()
    s.send_signal(sig)
    info = raw.wait_close(timeout=10)
    assert info.got_close_frame, info.error
    assert (info.code, info.reason) == (1001, "server shutting down")
    for c in (a, b):
        with pytest.raises(ConnectionClosed) as ei:
            while True:
                c.ws.recv(timeout=10)
        rcvd = ei.value.rcvd
        assert rcvd is not None, "closed without a close frame"
        assert (rcvd.code, rcvd.reason) == (1001, "server shutting down")
    rc = s.wait_exit(10 - (time.monotonic() - t0))
    assert rc is not None, "server did not exit within 10 s"
    assert rc == 0, f"exit code {rc}; stderr: {s.stderr[-1000:]}"
    raw.close()

    with pytest.raises(OSError):
        socket.create_connection((HOST, s.port), timeout=2).close()


def test_shutdown_with_no_clients_is_quick(server_factory):
    s = server_factory(["--telemetry-interval", "1s"])
    t0 = time.monotonic()
    rc = s.stop(signal.SIGTERM, timeout=10)
    assert not s.killed, "needed SIGKILL"
    assert rc == 0
    assert time.monotonic() - t0 < 10
