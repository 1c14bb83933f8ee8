"""Liveness: the server pings every --ping-interval and drops a peer that stays silent for two intervals."""

import time

from e2e_lib import OP_PING, RawWS


def test_silent_peer_closed_and_polite_peer_kept(server_factory):
    s = server_factory(["--ping-interval", "1s", "--telemetry-interval", "30s"])
    polite = s.ws()  # websockets answers pings automatically; it sends no pings of its own
    raw = RawWS(s.port).connect()
    t0 = time.monotonic()
    info = raw.wait_close(timeout=6, auto_pong=False)  # reads, but never answers a ping
    elapsed = time.monotonic() - t0
    raw.close()
    assert info.pings >= 1, "the server never sent a WebSocket ping"
    assert info.got_close_frame, f"no close frame ({info.error}) after {elapsed:.1f}s"
    assert info.code == 1001 and info.reason == "heartbeat timeout", (info.code, info.reason)
    assert 1.5 <= elapsed <= 3.5, f"closed after {elapsed:.2f}s (interval 1s, two intervals of silence)"

    # the polite client has now been connected for > 2 intervals; keep it to 4 s and check it is alive
    time.sleep(max(0, 4.2 - (time.monotonic() - t0)))
    assert polite.request("ping", timeout=3)["result"] == {}
    polite.close()
