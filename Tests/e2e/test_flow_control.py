"""Slow consumers: closed with 4008 on ordered channels without hurting anyone else; conflated (never
closed) on latest-value channels."""

import json
import threading
import time

from e2e_lib import OP_TEXT, RawWS, wait_until

N_FLOOD = 3000
PAD = "x" * 4000  # ~4 KiB per publication


def test_slow_consumer_closed_4008_healthy_client_gets_everything(server_factory):
    s = server_factory(["--max-queue-bytes", "65536", "--telemetry-interval", "30s"])
    ch = "app.flood"

    slow = RawWS(s.port, rcvbuf=4096, mss=1460).connect()
    slow.send_json({"id": 1, "op": "subscribe", "channel": ch})
    reply = slow.recv_json()
    assert reply["id"] == 1 and reply["result"]["offset"] == 0, reply
    # from here on the slow client reads nothing

    healthy = s.ws(max_queue=4096)
    assert healthy.result("subscribe", channel=ch)["offset"] == 0
    received = []
    failure = []

    def reader():
        try:
            while len(received) < N_FLOOD:
                m = healthy.recv_json(timeout=30)
                if "id" not in m:
                    received.append((m["offset"], m["data"]["n"]))
        except Exception as e:
            failure.append(e)

    t = threading.Thread(target=reader, daemon=True)
    t.start()

    t0 = time.monotonic()
    with s.ws() as pub:
        # Small batches, and never more than ~2 batches (64 KiB) ahead of the healthy client: so the healthy
        # client is never legitimately behind by more than its queue; if it falls behind anyway, the server
        # is delaying it (e.g. because of the stalled one) and the wait below fails.
        batch = 8
        for start in range(0, N_FLOOD, batch):
            ok = wait_until(lambda: failure or len(received) >= start - batch, timeout=20, interval=0.001)
            assert ok and not failure, (f"healthy client stuck at {len(received)} of {start} published", failure)
            ids = [pub.command("publish", channel=ch, data={"n": n, "pad": PAD})
                   for n in range(start + 1, start + batch + 1)]
            for cid in ids:
                r = pub.wait_reply(cid, timeout=20)
                assert "result" in r, r
    publish_secs = time.monotonic() - t0
    t.join(60)
    healthy.close()
    assert not failure, failure
    assert len(received) == N_FLOOD, len(received)
    assert [o for o, _ in received] == list(range(1, N_FLOOD + 1))
    assert [n for _, n in received] == list(range(1, N_FLOOD + 1))

    # Now read the slow client's socket: whatever it got must be a gap-free prefix, then the close.
    info = slow.wait_close(timeout=20)
    slow.close()
    offsets = []
    for op, payload in info.messages:
        assert op == OP_TEXT
        m = json.loads(payload)
        offsets.append(m["offset"])
    assert offsets == list(range(1, len(offsets) + 1)), "slow consumer saw a gap before being closed"
    assert len(offsets) < N_FLOOD, "the slow consumer was never cut off"
    assert info.got_close_frame or info.error == "eof" or (info.error or "").startswith("oserror"), info.error
    if info.got_close_frame:
        assert info.code == 4008, (info.code, info.reason)
        assert info.reason == "slow consumer"

    m = s.metrics()
    assert m.get("nebula_slow_consumer_closes_total") == 1, m.get("nebula_slow_consumer_closes_total")
    # the server is fine afterwards
    with s.ws() as c:
        assert c.request("ping")["result"] == {}
    print(f"published {N_FLOOD} in {publish_secs:.1f}s; slow client got {len(offsets)} before close "
          f"(close frame: {info.got_close_frame}, code {info.code})")


def test_latest_value_conflates_instead_of_closing(server_factory):
    s = server_factory(["--telemetry-interval", "50ms", "--max-queue-bytes", "65536"])
    time.sleep(0.3)
    before = s.metrics().get("nebula_messages_conflated_total")
    assert before is not None, "nebula_messages_conflated_total missing from /metrics"

    stalled = RawWS(s.port, rcvbuf=4096, mss=1460).connect()
    stalled.send_json({"id": 1, "op": "subscribe", "channel": "telemetry.host"})
    # it reads nothing from now on; a sample every 50 ms soon fills the kernel buffers and its queue
    after = wait_until(lambda: (lambda v: v if v > before else None)(
        s.metrics().get("nebula_messages_conflated_total", 0)), timeout=12, interval=0.5)
    assert after, (before, s.metrics().get("nebula_messages_conflated_total"))
    assert s.metrics().get("nebula_slow_consumer_closes_total", 0) == 0

    # still open: a ping op is answered (a reply may overtake queued publications, so read on)
    stalled.send_json({"id": 2, "op": "ping"})
    offsets, got_pong, target = [], False, None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        m = stalled.recv_json(timeout=5)  # raises Closed if the server closed us
        if m.get("id") == 1:
            assert m["result"]["delivery"] == "latest"
        elif m.get("id") == 2:
            assert m == {"id": 2, "result": {}}
            got_pong = True
            # every sample up to the channel's current offset was either delivered or conflated away
            chans = s.http("GET", "/api/v1/channels").json()["channels"]
            target = next(c["offset"] for c in chans if c["name"] == "telemetry.host")
        else:
            assert m["channel"] == "telemetry.host"
            offsets.append(m["offset"])
        if got_pong and offsets and offsets[-1] >= target:
            break
    assert got_pong
    assert offsets and offsets[-1] >= target, (target, offsets[-5:])
    assert all(b > a for a, b in zip(offsets, offsets[1:])), offsets
    # conflation means it did not get every sample: offsets jump somewhere
    assert offsets[-1] - offsets[0] + 1 > len(offsets), offsets
    stalled.close()
