"""Recovery with `since`: no gaps, no duplicates; over-history and epoch changes say `recovered: false`."""

import threading
import time

from e2e_lib import free_port


def _publish_many(client, channel, datas):
    """Pipelined publishes; returns the offsets in the order of `datas`."""
    ids = [client.command("publish", channel=channel, data=d) for d in datas]
    offsets = []
    for cid in ids:
        r = client.wait_reply(cid)
        assert "result" in r, r
        offsets.append(r["result"]["offset"])
    return offsets


def test_recover_exactly_the_missed_50_then_live(server):
    ch = "app.recovery"
    with server.ws() as pub:
        with server.ws() as a:
            sub = a.result("subscribe", channel=ch)
            assert sub["offset"] == 0 and sub["delivery"] == "ordered"
            epoch = sub["epoch"]
            assert _publish_many(pub, ch, [{"n": i} for i in range(1, 6)]) == [1, 2, 3, 4, 5]
            seen = [a.next_pub() for _ in range(5)]
            assert [p["offset"] for p in seen] == [1, 2, 3, 4, 5]
            assert [p["data"]["n"] for p in seen] == [1, 2, 3, 4, 5]
            last = seen[-1]["offset"]
        # A is gone; 50 are published meanwhile
        assert _publish_many(pub, ch, [{"n": i} for i in range(6, 56)]) == list(range(6, 56))
        with server.ws() as a2:
            r = a2.result("subscribe", channel=ch, since={"epoch": epoch, "offset": last})
            assert r["recovered"] is True, r
            assert r["epoch"] == epoch
            assert r["offset"] == 55
            assert r["delivery"] == "ordered"
            pubs = r["publications"]
            assert [p["offset"] for p in pubs] == list(range(6, 56))
            assert [p["data"] for p in pubs] == [{"n": i} for i in range(6, 56)]
            assert all(p["channel"] == ch and set(p) == {"channel", "offset", "data"} for p in pubs)
            # live ones continue, no duplicate
            assert _publish_many(pub, ch, [{"n": i} for i in range(56, 66)]) == list(range(56, 66))
            live = a2.pubs_until_quiet(0.7)
            assert [p["offset"] for p in live] == list(range(56, 66)), live[:3]
            assert [p["data"]["n"] for p in live] == list(range(56, 66))


def test_recover_while_publisher_keeps_publishing(server):
    """The join between `publications` and the live stream has no gap and no duplicate even when
    publications race the resubscribe."""
    ch = "app.race"
    with server.ws() as pub:
        epoch = pub.result("publish", channel=ch, data={"n": 1})["epoch"]
        _publish_many(pub, ch, [{"n": i} for i in range(2, 21)])
        stop = threading.Event()
        errors = []

        def pump():
            try:
                with server.ws() as p2:
                    n = 21
                    while not stop.is_set() and n < 90:  # stays within the 100-deep history
                        _publish_many(p2, ch, [{"n": n}, {"n": n + 1}])
                        n += 2
                        time.sleep(0.005)
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        time.sleep(0.05)
        with server.ws() as a:
            r = a.result("subscribe", channel=ch, since={"epoch": epoch, "offset": 10})
            time.sleep(0.3)
            stop.set()
            t.join(10)
            assert not errors, errors
            assert r["recovered"] is True, r
            got = [p["offset"] for p in r["publications"]]
            assert got == list(range(11, r["offset"] + 1)), got
            live = [p["offset"] for p in a.pubs_until_quiet(0.7)]
            total = got + live
            assert total == list(range(11, 11 + len(total))), (got[-3:], live[:5])
            final = pub.result("history", channel=ch, limit=1)["offset"]
            assert total[-1] == final


def test_over_history_is_not_recovered(server):
    ch = "app.overflow"
    with server.ws() as c:
        offsets = _publish_many(c, ch, [{"n": i} for i in range(1, 151)])
        assert offsets == list(range(1, 151))
        epoch = c.result("history", channel=ch, limit=1)["epoch"]

        # missed 11..150 but the history keeps only 51..150 -> not recoverable
        r = c.result("subscribe", channel=ch, since={"epoch": epoch, "offset": 10})
        assert r["recovered"] is False, r
        assert r["publications"] == []
        assert r["epoch"] == epoch and r["offset"] == 150
        c.result("unsubscribe", channel=ch)

        # boundary: missed 50..150 -> 50 is gone
        r = c.result("subscribe", channel=ch, since={"epoch": epoch, "offset": 49})
        assert r["recovered"] is False and r["publications"] == [], r
        c.result("unsubscribe", channel=ch)

        # boundary: missed exactly 51..150 -> all still kept
        r = c.result("subscribe", channel=ch, since={"epoch": epoch, "offset": 50})
        assert r["recovered"] is True, r
        assert [p["offset"] for p in r["publications"]] == list(range(51, 151))
        c.result("unsubscribe", channel=ch)

        # up to date: recovered, nothing missed
        r = c.result("subscribe", channel=ch, since={"epoch": epoch, "offset": 150})
        assert r["recovered"] is True and r["publications"] == [], r
        c.result("unsubscribe", channel=ch)

        h = c.result("history", channel=ch)
        assert h["channel"] == ch and h["epoch"] == epoch and h["offset"] == 150
        offs = [p["offset"] for p in h["publications"]]
        assert offs == list(range(51, 151)), (offs[:3], offs[-3:], len(offs))
        assert [p["data"]["n"] for p in h["publications"]] == list(range(51, 151))

        h5 = c.result("history", channel=ch, limit=5)
        assert [p["offset"] for p in h5["publications"]] == [146, 147, 148, 149, 150]


def test_history_of_unknown_and_empty_channel(server):
    with server.ws() as c:
        h = c.result("history", channel="app.never-published")
        assert h["offset"] == 0 and h["publications"] == [], h
        r = c.request("history", channel="jobs.import")
        assert r["error"]["code"] == "unknown_channel", r


def test_epoch_changes_across_restart(server_factory, tmp_path):
    s = server_factory(["--telemetry-interval", "1s"], data_dir=tmp_path / "data")
    with s.ws() as c:
        r = c.result("publish", channel="app.epoch", data={"n": 1})
        old_epoch = r["epoch"]
        assert isinstance(old_epoch, str) and old_epoch
        assert c.result("publish", channel="app.epoch", data={"n": 2})["offset"] == 2
    assert s.stop() == 0
    s.port = free_port()  # a new port: the old one may sit in TIME_WAIT; not what this test is about
    s.start()
    with s.ws() as c:
        r = c.result("subscribe", channel="app.epoch", since={"epoch": old_epoch, "offset": 1})
        assert r["recovered"] is False, r
        assert r["publications"] == []
        assert r["epoch"] != old_epoch
        assert r["offset"] == 0  # the in-process history was lost with the restart
        p = c.result("publish", channel="app.epoch", data={"n": 3})
        assert p["offset"] == 1 and p["epoch"] == r["epoch"]
        assert c.next_pub() == {"channel": "app.epoch", "offset": 1, "data": {"n": 3}}
