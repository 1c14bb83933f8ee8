"""Bad input gets an error reply and leaves the connection usable; protocol abuse closes with the RFC code
and leaves the server running."""

import json
import struct
import time

import pytest

from e2e_lib import OP_CONT, OP_TEXT, OP_BIN, RawWS, build_frame

LONGEST = "app." + "a" * 124  # 128 characters: the longest valid name

# (name, frame text, expected error code, expected id)
BAD = [
    ("malformed-json", '{"id": 1, "op": "ping"', "bad_request", None),
    ("not-json", "hello there", "bad_request", None),
    ("json-array", '[{"id": 1, "op": "ping"}]', "bad_request", None),
    ("json-string", '"ping"', "bad_request", None),
    ("json-number", "42", "bad_request", None),
    ("json-null", "null", "bad_request", None),
    ("empty-object", "{}", "bad_request", None),
    ("unknown-op", '{"id": 3, "op": "dance"}', "unknown_op", 3),
    ("missing-op", '{"id": 4}', "bad_request", 4),
    ("missing-id", '{"op": "ping"}', "bad_request", None),
    ("op-number", '{"id": 5, "op": 5}', "bad_request", 5),
    ("subscribe-missing-channel", '{"id": 6, "op": "subscribe"}', "bad_request", 6),
    ("publish-missing-data", '{"id": 7, "op": "publish", "channel": "app.x"}', "bad_request", 7),
    ("publish-missing-channel", '{"id": 8, "op": "publish", "data": 1}', "bad_request", 8),
    ("channel-number", '{"id": 9, "op": "subscribe", "channel": 12}', "bad_request", 9),
    ("channel-null", '{"id": 10, "op": "subscribe", "channel": null}', "bad_request", 10),
    ("since-string", '{"id": 11, "op": "subscribe", "channel": "app.x", "since": "yesterday"}', "bad_request", 11),
    ("since-offset-string",
     '{"id": 12, "op": "subscribe", "channel": "app.x", "since": {"epoch": "e", "offset": "1"}}', "bad_request", 12),
    ("limit-string", '{"id": 13, "op": "history", "channel": "app.x", "limit": "ten"}', "bad_request", 13),
    ("unsubscribe-missing-channel", '{"id": 14, "op": "unsubscribe"}', "bad_request", 14),
    ("unknown-channel", '{"id": 20, "op": "subscribe", "channel": "nope.nothing"}', "unknown_channel", 20),
    ("app-prefix-only", '{"id": 21, "op": "subscribe", "channel": "app."}', "unknown_channel", 21),
    ("bare-app", '{"id": 22, "op": "subscribe", "channel": "app"}', "unknown_channel", 22),
    ("bad-char-space", '{"id": 23, "op": "subscribe", "channel": "app.bad name"}', "unknown_channel", 23),
    ("bad-char-slash", '{"id": 24, "op": "subscribe", "channel": "app.a/b"}', "unknown_channel", 24),
    ("empty-name", '{"id": 25, "op": "subscribe", "channel": ""}', "unknown_channel", 25),
    ("too-long", json.dumps({"id": 26, "op": "subscribe", "channel": LONGEST + "a"}), "unknown_channel", 26),
    ("non-ascii", '{"id": 27, "op": "subscribe", "channel": "app.caf\u00e9"}', "unknown_channel", 27),
    ("reserved-telemetry", '{"id": 30, "op": "subscribe", "channel": "telemetry.disk"}', "unknown_channel", 30),
    ("reserved-jobs", '{"id": 33, "op": "subscribe", "channel": "jobs.import"}', "unknown_channel", 33),
    ("reserved-overlay", '{"id": 35, "op": "subscribe", "channel": "overlay.main"}', "unknown_channel", 35),
    ("reserved-bots", '{"id": 37, "op": "subscribe", "channel": "bots.discord"}', "unknown_channel", 37),
    ("publish-reserved", '{"id": 38, "op": "publish", "channel": "jobs.import", "data": 1}', "unknown_channel", 38),
    ("history-reserved", '{"id": 39, "op": "history", "channel": "jobs.backup"}', "unknown_channel", 39),
    ("forbidden-publish", '{"id": 40, "op": "publish", "channel": "telemetry.host", "data": {"fake": true}}',
     "forbidden", 40),
    ("not-subscribed", '{"id": 41, "op": "unsubscribe", "channel": "app.never"}', "not_subscribed", 41),
]


@pytest.mark.parametrize("name,text,code,cid", BAD, ids=[b[0] for b in BAD])
def test_bad_input_error_reply_then_usable(shared_server, name, text, code, cid):
    with shared_server.ws() as c:
        c.send(text)
        r = c.recv_json(timeout=5)
        assert set(r) == {"id", "error"}, r
        assert r["error"]["code"] == code, r
        assert isinstance(r["error"]["message"], str) and r["error"]["message"], r
        assert set(r["error"]) == {"code", "message"}, r
        assert r["id"] == cid, r
        c.send({"id": 99, "op": "ping"})
        assert c.recv_json(timeout=5) == {"id": 99, "result": {}}


def test_id_as_string(shared_server):
    """An `id` that is not an integer is a mistyped field: bad_request. The server cannot read an integer id,
    so it replies with `id: null` (echoing the string back is tolerated)."""
    with shared_server.ws() as c:
        c.send('{"id": "1", "op": "ping"}')
        r = c.recv_json()
        assert r["error"]["code"] == "bad_request", r
        assert r["id"] in (None, "1"), r
        c.send({"id": 2, "op": "ping"})
        assert c.recv_json() == {"id": 2, "result": {}}


@pytest.mark.parametrize("cid", ["1.5", "true", "[1]", "{}"])
def test_id_other_wrong_types(shared_server, cid):
    with shared_server.ws() as c:
        c.send(f'{{"id": {cid}, "op": "ping"}}')
        r = c.recv_json()
        assert "error" in r and r["error"]["code"] == "bad_request", r
        c.send({"id": 2, "op": "ping"})
        assert c.recv_json() == {"id": 2, "result": {}}


def test_longest_channel_name_and_charset_ok(shared_server):
    with shared_server.ws() as c:
        for ch in (LONGEST, "app.A-z_0:9.x"):
            r = c.result("subscribe", channel=ch)
            assert r["channel"] == ch and r["offset"] == 0


def test_already_subscribed(shared_server):
    with shared_server.ws() as c:
        c.result("subscribe", channel="app.twice")
        r = c.request("subscribe", channel="app.twice")
        assert r["error"]["code"] == "already_subscribed", r
        assert c.request("ping")["result"] == {}


def test_too_many_subscriptions(shared_server):
    with shared_server.ws() as c:
        ids = [c.command("subscribe", channel=f"app.many.{i}") for i in range(1024)]
        for cid in ids:
            assert "result" in c.wait_reply(cid), cid
        r = c.request("subscribe", channel="app.many.1024")
        assert r["error"]["code"] == "too_many_subscriptions", r
        assert c.request("ping")["result"] == {}


def test_bad_input_does_not_close_and_burst_gets_one_reply_each(shared_server):
    with shared_server.ws() as c:
        for i in range(1, 51):
            c.send({"id": i, "op": "dance"} if i % 2 else {"id": i, "op": "ping"})
        got = [c.recv_json() for _ in range(50)]
        assert sorted(r["id"] for r in got) == list(range(1, 51))
        for r in got:
            if r["id"] % 2:
                assert r["error"]["code"] == "unknown_op"
            else:
                assert r == {"id": r["id"], "result": {}}


# ---------------------------------------------------------------------------------------------------
# Protocol abuse (raw frames)
# ---------------------------------------------------------------------------------------------------

def _server_still_works(server):
    with server.ws() as c:
        assert c.request("ping")["result"] == {}


def _expect_close(raw, code):
    info = raw.wait_close(timeout=5)
    assert info.got_close_frame, f"no close frame (ended with {info.error}); messages {info.messages[:3]}"
    assert info.code == code, (info.code, info.reason)
    # and the TCP connection is then closed by the server
    raw.sock.settimeout(3)
    try:
        rest = raw.sock.recv(65536)
        assert rest == b"", rest
    except (ConnectionResetError, TimeoutError, OSError) as e:
        assert not isinstance(e, TimeoutError), "server kept the TCP connection open after closing"
    return info


def test_invalid_utf8_text_closes_1007(shared_server):
    with shared_server.raw() as raw:
        raw.send_frame(OP_TEXT, b'{"id": 1, "op": "ping", "x": "\xc3\x28"}')
        _expect_close(raw, 1007)
    _server_still_works(shared_server)


def test_invalid_utf8_split_across_fragments_closes_1007(shared_server):
    with shared_server.raw() as raw:
        raw.send_frame(OP_TEXT, b'{"id": 1, "op": "ping", "x": "\xff', fin=False)
        raw.send_frame(OP_CONT, b'"}', fin=True)
        _expect_close(raw, 1007)
    _server_still_works(shared_server)


def test_frame_over_64k_closes_1009(shared_server):
    with shared_server.raw() as raw:
        payload = json.dumps({"id": 1, "op": "publish", "channel": "app.big", "data": "x" * 65536}).encode()
        assert len(payload) > 65536
        try:
            raw.send_frame(OP_TEXT, payload)
        except OSError:
            pass  # the server may close before reading it all
        _expect_close(raw, 1009)
    _server_still_works(shared_server)


def test_frame_header_claiming_huge_length_closes_1009(shared_server):
    with shared_server.raw() as raw:
        raw.send_raw(build_frame(OP_TEXT, b"{}", length_override=10 * 1024 * 1024))
        _expect_close(raw, 1009)
    _server_still_works(shared_server)


def test_frame_of_exactly_64k_is_accepted(shared_server):
    with shared_server.raw() as raw:
        skeleton = json.dumps({"id": 1, "op": "publish", "channel": "app.exact", "data": ""})
        payload = json.dumps({"id": 1, "op": "publish", "channel": "app.exact",
                              "data": "y" * (65536 - len(skeleton))}).encode()
        assert len(payload) == 65536
        raw.send_frame(OP_TEXT, payload)
        r = raw.recv_json(timeout=5)
        assert r["id"] == 1 and r["result"]["offset"] == 1, r


def test_fragmented_message_over_64k_closes_1009(shared_server):
    with shared_server.raw() as raw:
        body = json.dumps({"id": 1, "op": "publish", "channel": "app.frag", "data": "z" * 90000}).encode()
        parts = [body[i:i + 30000] for i in range(0, len(body), 30000)]  # each frame well under 64 KiB
        try:
            for i, p in enumerate(parts):
                raw.send_frame(OP_TEXT if i == 0 else OP_CONT, p, fin=(i == len(parts) - 1))
        except OSError:
            pass
        _expect_close(raw, 1009)
    _server_still_works(shared_server)


def test_fragmented_message_under_limit_works(shared_server):
    with shared_server.raw() as raw:
        body = json.dumps({"id": 5, "op": "ping"}).encode()
        raw.send_frame(OP_TEXT, body[:4], fin=False)
        raw.send_frame(OP_CONT, body[4:10], fin=False)
        raw.send_frame(OP_CONT, body[10:], fin=True)
        assert raw.recv_json() == {"id": 5, "result": {}}


def test_ping_between_fragments_is_answered(shared_server):
    from e2e_lib import OP_PING, OP_PONG
    with shared_server.raw() as raw:
        body = json.dumps({"id": 6, "op": "ping"}).encode()
        raw.send_frame(OP_TEXT, body[:5], fin=False)
        raw.send_frame(OP_PING, b"hi")
        raw.send_frame(OP_CONT, body[5:], fin=True)
        frames = [raw.recv_frame(), raw.recv_frame()]
        assert any(f.opcode == OP_PONG and f.payload == b"hi" for f in frames), frames
        assert any(f.opcode == OP_TEXT and json.loads(f.payload) == {"id": 6, "result": {}} for f in frames)


def test_unmasked_client_frame_closes_1002(shared_server):
    with shared_server.raw() as raw:
        raw.send_frame(OP_TEXT, json.dumps({"id": 1, "op": "ping"}).encode(), mask=False)
        _expect_close(raw, 1002)
    _server_still_works(shared_server)


def test_continuation_without_start_closes_1002(shared_server):
    with shared_server.raw() as raw:
        raw.send_frame(OP_CONT, b'{"id": 1}', fin=True)
        _expect_close(raw, 1002)
    _server_still_works(shared_server)


def test_reserved_bits_close_1002(shared_server):
    with shared_server.raw() as raw:  # no extension negotiated: RSV bits must be 0
        raw.send_frame(OP_TEXT, b'{"id": 1, "op": "ping"}', rsv=0b010)
        _expect_close(raw, 1002)
    _server_still_works(shared_server)


def test_half_sent_frame_then_disconnect_does_not_hurt(shared_server):
    for _ in range(5):
        with shared_server.raw() as raw:
            frame = build_frame(OP_TEXT, json.dumps({"id": 1, "op": "ping"}).encode())
            raw.send_raw(frame[: len(frame) // 2])
    _server_still_works(shared_server)


def test_client_that_never_reads_replies_then_vanishes(shared_server):
    raws = []
    for _ in range(3):
        raw = shared_server.raw(rcvbuf=4096)
        for i in range(200):
            raw.send_json({"id": i, "op": "history", "channel": "telemetry.host"})
        raws.append(raw)
    time.sleep(0.3)
    for raw in raws:
        raw.close()
    _server_still_works(shared_server)
