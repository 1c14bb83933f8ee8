"""permessage-deflate (RFC 7692) is negotiated when offered and a compressed session works end to end."""

import json

from e2e_lib import RawWS


def test_deflate_negotiated_when_offered(shared_server):
    with RawWS(shared_server.port, offer_deflate=True).connect() as raw:
        ext = raw.response.header("sec-websocket-extensions", "")
        assert "permessage-deflate" in ext, raw.response.headers


def test_no_extension_when_not_offered(shared_server):
    with RawWS(shared_server.port, offer_deflate=False).connect() as raw:
        assert "permessage-deflate" not in raw.response.header("sec-websocket-extensions", ""), raw.response.headers
        raw.send_json({"id": 1, "op": "ping"})
        assert raw.recv_json() == {"id": 1, "result": {}}


def test_compressed_session_end_to_end(shared_server):
    with shared_server.ws(compression="deflate") as sub, shared_server.ws(compression="deflate") as pub:
        for c in (sub, pub):
            assert "permessage-deflate" in c.ws.response.headers.get("Sec-WebSocket-Extensions", "")
        r = sub.result("subscribe", channel="app.compressed")
        assert r["offset"] == 0 and r["delivery"] == "ordered"
        big = {"text": "nebula " * 6000, "n": 1}  # ~42 KB, compresses well
        small = {"n": 2}
        assert pub.result("publish", channel="app.compressed", data=big)["offset"] == 1
        assert pub.result("publish", channel="app.compressed", data=small)["offset"] == 2
        p1, p2 = sub.next_pub(), sub.next_pub()
        assert p1 == {"channel": "app.compressed", "offset": 1, "data": big}
        assert p2 == {"channel": "app.compressed", "offset": 2, "data": small}
        h = sub.result("history", channel="app.compressed")
        assert [p["offset"] for p in h["publications"]] == [1, 2]
        assert sub.request("ping") == {"id": sub.next_id - 1, "result": {}}


def test_highly_compressible_message_under_limit(shared_server):
    """A 40 KiB text that deflates to almost nothing round-trips intact."""
    with shared_server.ws(compression="deflate") as c:
        data = "a" * (40 * 1024)
        r = c.result("publish", channel="app.compressed2", data=data)
        assert r["offset"] == 1
        h = c.result("history", channel="app.compressed2")
        assert h["publications"][0]["data"] == data


def test_pushes_to_a_compressed_session_are_deflated(server_factory):
    """The server really compresses what it sends: a telemetry snapshot (well over the 256-byte
    threshold) arrives with RSV1 set and inflates (RFC 7692 §7.2.2) to the documented JSON."""
    import zlib

    s = server_factory(["--telemetry-interval", "200ms"])
    with RawWS(s.port, offer_deflate=True).connect() as raw:
        assert "permessage-deflate" in raw.response.header("sec-websocket-extensions", "")
        raw.send_frame(0x1, json.dumps({"id": 1, "op": "subscribe", "channel": "telemetry.host"}).encode())
        inflater = zlib.decompressobj(-11)  # the negotiated window: server_max_window_bits=11 or larger
        compressed_seen = 0
        for _ in range(6):
            frame = raw.recv_frame(timeout=5)
            assert frame.opcode == 0x1, frame
            if frame.rsv & 0x4:
                compressed_seen += 1
                text = inflater.decompress(frame.payload + b"\x00\x00\xff\xff")
            else:
                text = frame.payload
            message = json.loads(text)
            if "id" in message:
                assert message["result"]["delivery"] == "latest"
                if "publication" not in message["result"]:  # no sample taken yet
                    continue
                data = message["result"]["publication"]["data"]
            else:
                data = message["data"]
            assert {"cpu", "memory", "filesystems", "network"} <= set(data)
        assert compressed_seen >= 5, compressed_seen
