"""Issue 5: several replicas sharing a real redis-server. Publications made on any replica reach
subscribers on every replica in offset order, once; recovery with `since` works on any replica;
Redis faults (restart, pause, a silent subscription) lose nothing that history still holds and say
`recovered: false` honestly otherwise."""

from __future__ import annotations

import json
import threading
import time

import pytest

from e2e_lib import API_KEY, Client, free_port
from redis_server import FreezingProxy, Monitor, RedisServer
from replicas_lib import Caddy, collect, offsets, publish, replica, wait_health


@pytest.fixture
def redis():
    server = RedisServer().start()
    yield server
    server.stop()


def test_publications_on_one_replica_reach_the_others_in_order_once(server_factory, redis):
    a, b, c = (replica(server_factory, redis.url, name) for name in ("a", "b", "c"))
    subscribers = [s.ws() for s in (a, b, c)]
    for client in subscribers:
        assert client.result("subscribe", channel="app.fanout")["offset"] == 0
    with a.ws() as on_a, b.ws() as on_b:
        for i in range(1, 151):
            # Two replicas publish into one sequence.
            reply = publish(on_a if i % 2 else on_b, "app.fanout", {"n": i})
            assert reply["result"]["offset"] == i
    for client in subscribers:
        got = collect(client, "app.fanout", 150)
        assert offsets(got, "app.fanout") == list(range(1, 151))
        assert [p["data"]["n"] for p in got] == list(range(1, 151))
        assert collect(client, "app.fanout", 1, timeout=0.5) == []  # nothing twice
        client.close()
    # The HTTP API publishes into the same sequence.
    assert c.http("POST", "/api/v1/publish", {"channel": "app.fanout", "data": 151}).json()["result"]["offset"] == 151


def test_a_client_moving_to_another_replica_recovers_without_a_gap(server_factory, redis):
    a, b = replica(server_factory, redis.url, "a"), replica(server_factory, redis.url, "b")
    with a.ws() as publisher, a.ws() as moving:
        start = moving.result("subscribe", channel="app.move")
        for i in range(1, 21):
            publish(publisher, "app.move", i)
        seen = collect(moving, "app.move", 20)
        assert offsets(seen, "app.move") == list(range(1, 21))
        last = seen[-1]["offset"]
    with b.ws() as publisher:
        for i in range(21, 41):
            publish(publisher, "app.move", i)
        with b.ws() as moved:
            result = moved.result("subscribe", channel="app.move", since={"epoch": start["epoch"], "offset": last})
            assert result["recovered"] is True and result["epoch"] == start["epoch"]
            assert [p["offset"] for p in result["publications"]] == list(range(21, 41))
            publish(publisher, "app.move", 41)
            assert offsets(collect(moved, "app.move", 1), "app.move") == [41]


def test_healthz_names_the_redis_broker_and_the_replica(server_factory, redis):
    a = replica(server_factory, redis.url, "replica-a")
    body = wait_health(a, True)
    broker = body["components"]["broker"]
    assert broker["kind"] == "redis" and broker["replica"] == "replica-a"
    assert "password" not in str(broker) and broker["redis"] == f"redis://127.0.0.1:{redis.port}/0"


def test_each_publication_is_one_redis_round_trip(server_factory, redis):
    a = replica(server_factory, redis.url, "a")
    with a.ws() as client:
        publish(client, "app.trips", 0)  # loads the script once
        monitor = Monitor(redis)
        for i in range(200):
            assert "result" in publish(client, "app.trips", i)
        lines = monitor.stop()
    # Every command that names the channel, outside the script's own calls (MONITOR shows those as
    # "[0 lua]"): one EVALSHA per publication, nothing else.
    touching = [line for line in lines if "app.trips" in line and "lua]" not in line]
    assert len(touching) == 200 and all('"EVALSHA"' in line.upper() for line in touching), touching[:3]
    inside = [line for line in lines if "app.trips" in line and "lua]" in line]
    assert len(inside) >= 200 * 3  # HINCRBY, XADD, XTRIM, PUBLISH … all inside the one call


def test_only_channels_with_local_subscribers_are_subscribed_in_redis(server_factory, redis):
    a = replica(server_factory, redis.url, "a")
    wait_health(a, True)
    assert redis.cli("PUBSUB", "CHANNELS", "nebula:pub:*") == ""
    before = redis.commandstats().get("subscribe", 0)
    # A burst: 20 connections (a dashboard reconnecting after a deploy) subscribing at once.
    clients = [a.ws() for _ in range(20)]
    pending = []
    for n, c in enumerate(clients):
        pending += [(c, c.command("subscribe", channel=f"app.burst{n * 15 + i}")) for i in range(15)]
    for c, cid in pending:
        assert "result" in c.wait_reply(cid)
    channels = set(redis.cli("PUBSUB", "CHANNELS", "nebula:pub:*").split())
    assert channels == {f"nebula:pub:app.burst{i}" for i in range(300)}
    # Batched: changes that arrive while one SUBSCRIBE is in flight go out together in the next.
    batches = redis.commandstats().get("subscribe", 0) - before
    assert 1 <= batches < 150, batches
    for c in clients[1:]:
        c.close()
    with clients[0] as client:
        assert "result" in client.request("unsubscribe", channel="app.burst0")
        deadline = time.monotonic() + 5
        while "nebula:pub:app.burst0" in redis.cli("PUBSUB", "CHANNELS", "nebula:pub:*").split():
            assert time.monotonic() < deadline, "UNSUBSCRIBE never sent"
            time.sleep(0.05)
    deadline = time.monotonic() + 5
    while redis.cli("PUBSUB", "CHANNELS", "nebula:pub:*") != "":
        assert time.monotonic() < deadline, "channels stay subscribed after the client left"
        time.sleep(0.05)


def test_redis_restart_with_persistence_loses_nothing(server_factory, tmp_path):
    redis = RedisServer(extra_args=["--appendonly", "yes", "--appendfsync", "always"]).start()
    try:
        a, b = replica(server_factory, redis.url, "a"), replica(server_factory, redis.url, "b")
        watcher = a.ws()
        start = watcher.result("subscribe", channel="app.restart")
        mover = a.ws()
        mover.result("subscribe", channel="app.restart")
        with b.ws() as publisher:
            for i in range(1, 26):
                publish(publisher, "app.restart", i)
            assert offsets(collect(mover, "app.restart", 25), "app.restart") == list(range(1, 26))
            mover.close()  # this client goes away during the outage and comes back elsewhere
            redis.kill()
            wait_health(a, False)
            wait_health(b, False)
            # While Redis is away, publishing fails with a clear error; local clients stay connected.
            failed = publish(publisher, "app.restart", "lost")
            assert failed["error"]["code"] == "internal" and "redis" in failed["error"]["message"].lower()
            redis.start()
            wait_health(b, True)
            for i in range(26, 51):
                publish(publisher, "app.restart", i)
        got = collect(watcher, "app.restart", 50)
        assert offsets(got, "app.restart") == list(range(1, 51)), "a subscriber that stayed connected got everything once, in order"
        with b.ws() as returning:
            result = returning.result("subscribe", channel="app.restart", since={"epoch": start["epoch"], "offset": 25})
            assert result["recovered"] is True and [p["offset"] for p in result["publications"]] == list(range(26, 51))
        wait_health(a, True)
        watcher.close()
    finally:
        redis.stop()


def test_redis_restart_without_history_says_recovered_false(server_factory, redis):
    a, b = replica(server_factory, redis.url, "a"), replica(server_factory, redis.url, "b")
    staying = a.ws()
    start = staying.result("subscribe", channel="app.wiped")
    with b.ws() as publisher:
        for i in range(1, 11):
            publish(publisher, "app.wiped", i)
        assert offsets(collect(staying, "app.wiped", 10), "app.wiped") == list(range(1, 11))
        port = redis.port
        redis.kill()
        wait_health(b, False)
        redis.__init__(port=port)
        redis.start()
        wait_health(b, True)
        wait_health(a, True)
        reply = publish(publisher, "app.wiped", "after")
        assert reply["result"]["epoch"] != start["epoch"] and reply["result"]["offset"] == 1
    # The client that stayed connected is told its subscription ended, never silently continued.
    deadline = time.monotonic() + 10
    notice = None
    while notice is None and time.monotonic() < deadline:
        m = staying.recv_json(deadline - time.monotonic())
        if m.get("unsubscribed"):
            notice = m
    assert notice == {"channel": "app.wiped", "unsubscribed": {"code": "history_lost", "message": notice["unsubscribed"]["message"]}}
    # Subscribing again with `since` says honestly that the gap cannot be filled.
    result = staying.result("subscribe", channel="app.wiped", since={"epoch": start["epoch"], "offset": 10})
    assert result["recovered"] is False and result["offset"] == 1 and result["epoch"] == reply["result"]["epoch"]
    staying.close()
    # So does a client reconnecting to any replica.
    with b.ws() as late:
        assert late.result("subscribe", channel="app.wiped", since={"epoch": start["epoch"], "offset": 10})["recovered"] is False


@pytest.mark.parametrize("pause", [["DEBUG", "SLEEP", "2"], ["CLIENT", "PAUSE", "2000", "ALL"]], ids=["debug-sleep", "client-pause"])
def test_a_paused_redis_delays_but_loses_nothing(server_factory, redis, pause):
    redis.cli("CONFIG", "SET", "enable-debug-command", "yes") if pause[0] == "DEBUG" else None
    a, b = replica(server_factory, redis.url, "a"), replica(server_factory, redis.url, "b")
    watcher = a.ws()
    watcher.result("subscribe", channel="app.pause")
    results: list[dict] = []
    durations: list[float] = []

    def publish_steadily():
        with b.ws() as publisher:
            for i in range(60):
                started = time.monotonic()
                results.append(publish(publisher, "app.pause", i))
                durations.append(time.monotonic() - started)
                time.sleep(0.05)

    thread = threading.Thread(target=publish_steadily)
    thread.start()
    time.sleep(0.5)
    redis.cli(*pause)
    thread.join(60)
    assert not thread.is_alive()
    assert a.alive() and b.alive()
    accepted = [r["result"]["offset"] for r in results if "result" in r]
    # Every publication was answered, none waited beyond the pause plus a margin.
    assert len(results) == 60 and max(durations) < 4.5, max(durations)
    assert accepted == list(range(1, len(accepted) + 1)) and len(accepted) >= 55
    got = collect(watcher, "app.pause", len(accepted))
    assert offsets(got, "app.pause") == accepted
    wait_health(a, True)
    watcher.close()


def test_a_silent_subscription_is_detected_by_the_probe_and_replayed(server_factory, redis):
    proxy = FreezingProxy(redis.port)
    try:
        a = replica(server_factory, proxy.url, "a")
        b = replica(server_factory, redis.url, "b")
        wait_health(a, True)
        watcher = a.ws()
        watcher.result("subscribe", channel="app.silent")
        with b.ws() as publisher:
            publish(publisher, "app.silent", 0)
            assert offsets(collect(watcher, "app.silent", 1), "app.silent") == [1]
            assert proxy.freeze_subscribers() == 1
            for i in range(2, 22):
                publish(publisher, "app.silent", i)
        got = collect(watcher, "app.silent", 20, timeout=10)
        assert offsets(got, "app.silent") == list(range(2, 22))
        assert "stuck" in a.stderr
        wait_health(a, True)
        watcher.close()
    finally:
        proxy.close()


def test_caddy_in_front_spreads_clients_and_a_killed_replica_s_clients_recover_elsewhere(server_factory, redis):
    import signal

    a, b = replica(server_factory, redis.url, "a"), replica(server_factory, redis.url, "b")
    wait_health(a, True)
    wait_health(b, True)
    caddy = Caddy([a.port, b.port])
    time.sleep(1.2)  # two health checks: both replicas in rotation
    try:
        clients = [Client(_connect(caddy.ws_url(API_KEY))) for _ in range(6)]
        starts = [c.result("subscribe", channel="app.caddy") for c in clients]
        assert a.metrics().get("nebula_ws_connections", 0) >= 1 and b.metrics().get("nebula_ws_connections", 0) >= 1
        with b.ws() as publisher:
            for i in range(1, 11):
                publish(publisher, "app.caddy", i)
            for c in clients:
                assert offsets(collect(c, "app.caddy", 10), "app.caddy") == list(range(1, 11))
            a.send_signal(signal.SIGKILL)
            a.proc.wait(10)
            for i in range(11, 21):
                publish(publisher, "app.caddy", i)
            # Every client, wherever it was, reconnects through Caddy and recovers from offset 10.
            for c, start in zip(clients, starts):
                c.close()
                with Client(_connect(caddy.ws_url(API_KEY))) as again:
                    result = again.result("subscribe", channel="app.caddy", since={"epoch": start["epoch"], "offset": 10})
                    assert result["recovered"] is True
                    assert [p["offset"] for p in result["publications"]] == list(range(11, 21))
    finally:
        caddy.stop()


def _connect(url: str):
    from websockets.sync.client import connect
    return connect(url, open_timeout=10, close_timeout=3, ping_interval=None).__enter__()


def _telemetry_offsets(client, seconds: float) -> list[int]:
    got = collect(client, "telemetry.host", 10_000, timeout=seconds)
    return offsets(got, "telemetry.host")


def test_one_replica_publishes_the_cluster_s_telemetry_and_another_takes_over_when_it_dies(server_factory, redis):
    import signal

    a = replica(server_factory, redis.url, "a", "--telemetry-interval", "200ms")
    b = replica(server_factory, redis.url, "b", "--telemetry-interval", "200ms")
    wait_health(a, True)
    wait_health(b, True)
    deadline = time.monotonic() + 10
    while not redis.cli("GET", "nebula:lease:producers") and time.monotonic() < deadline:
        time.sleep(0.1)
    leader = redis.cli("GET", "nebula:lease:producers")
    assert leader in ("a", "b")
    follower = b if leader == "a" else a
    with follower.ws() as watcher:
        watcher.result("subscribe", channel="telemetry.host")
        seen = _telemetry_offsets(watcher, 3.0)
        # One sample per 200 ms for the cluster, not one per replica (≈15 in 3 s, not ≈30).
        assert 8 <= len(seen) <= 20, seen
        assert seen == sorted(seen) and len(set(seen)) == len(seen)
        # Metric history is written once, too: nothing to check per row here, but the alert
        # evaluator and history writer share the same lease.
        (a if leader == "a" else b).send_signal(signal.SIGKILL)
        (a if leader == "a" else b).proc.wait(10)
        # The lease runs out (3 s) and the survivor takes over: samples resume on its own channel.
        time.sleep(0.5)
        watcher.pubs.clear()
        resumed = _telemetry_offsets(watcher, 6.0)
        assert len(resumed) >= 5, resumed
        assert redis.cli("GET", "nebula:lease:producers") == follower.args[follower.args.index("--replica-id") + 1]


def test_a_replica_stopping_hands_the_lease_over_at_once(server_factory, redis):
    a = replica(server_factory, redis.url, "a")
    wait_health(a, True)
    deadline = time.monotonic() + 10
    while redis.cli("GET", "nebula:lease:producers") != "a":
        assert time.monotonic() < deadline, "a never took the producer lease"
        time.sleep(0.1)
    b = replica(server_factory, redis.url, "b")
    wait_health(b, True)
    assert redis.cli("GET", "nebula:lease:producers") == "a"
    a.stop()
    # Released on SIGTERM, so b does not wait for the lease to expire.
    deadline = time.monotonic() + 2.5
    while redis.cli("GET", "nebula:lease:producers") != "b":
        assert time.monotonic() < deadline, redis.cli("GET", "nebula:lease:producers")
        time.sleep(0.05)


def _outs(pubs) -> list[int]:
    return [int(line["text"].split()[1]) for p in pubs for line in p["data"].get("lines", []) if line["text"].startswith("out")]


def test_a_container_log_is_followed_once_for_the_cluster_and_resumes_without_repeats_after_failover(server_factory, redis, docker_engine):
    import signal
    import uuid

    name = f"nebula-e2e-replogs-{uuid.uuid4().hex[:8]}"
    docker_engine.run(name, "sh", "-c", "i=0; while :; do i=$((i+1)); echo out $i; sleep 0.1; done")
    try:
        a = replica(server_factory, redis.url, "a", "--docker-host", docker_engine.host)
        b = replica(server_factory, redis.url, "b", "--docker-host", docker_engine.host)
        wait_health(a, True)
        wait_health(b, True)
        channel = f"logs.{name}"
        on_a, on_b = a.ws(), b.ws()
        on_a.result("subscribe", channel=channel)
        on_b.result("subscribe", channel=channel)
        time.sleep(3)
        seen_a, seen_b = collect(on_a, channel, 10_000, timeout=0.5), collect(on_b, channel, 10_000, timeout=0.5)
        # Two replicas with watchers, one tail: the same publications on both, every line once.
        first, second = sorted([offsets(seen_a, channel), offsets(seen_b, channel)], key=len)
        assert second[: len(first)] == first and first == list(range(1, len(first) + 1)) and len(first) >= 3
        outs = _outs(seen_a)
        assert outs == list(range(outs[0], outs[0] + len(outs))) and len(outs) >= 20, outs
        leader = redis.cli("GET", "nebula:lease:producers")
        dead, survivor, watcher, earlier = (a, b, on_b, seen_b) if leader == "a" else (b, a, on_a, seen_a)
        outs = _outs(earlier)
        dead.send_signal(signal.SIGKILL)
        dead.proc.wait(10)
        time.sleep(6)  # the lease runs out (3 s); the survivor resumes after the last line in history
        later = collect(watcher, channel, 10_000, timeout=1.0)
        more = _outs(later)
        assert more, "the survivor never took the tail over"
        assert more == list(range(outs[-1] + 1, outs[-1] + 1 + len(more))), (outs[-3:], more[:5])
        on_a.close()
        on_b.close()
    finally:
        docker_engine.docker("rm", "-f", name, check=False)


@pytest.mark.parametrize("attempt", range(3))
def test_replicas_starting_together_on_a_fresh_database_both_come_up(server_factory, redis, postgres, attempt):
    url = postgres.create_database(f"together_{attempt}_{int(time.time() * 1000) % 100000}")
    import base64
    import os as _os

    # Replicas sharing a database share the key sealing its secrets (docs/configuration.md).
    shared = {"NEBULA_SECRET_KEY": base64.b64encode(_os.urandom(32)).decode()}
    servers = [server_factory(["--redis-url", redis.url, "--replica-id", name, "--database-url", url], env=shared, start=False)
               for name in "abc"]
    for s in servers:
        s.start(wait=False)  # all at once: their schema migrations race
    for s in servers:
        s.wait_ready(30)
    for s in servers:
        assert s.alive(), s.stderr[-2000:]
        assert s.http("GET", "/healthz", key=None).json()["components"]["store"]["status"] == "ok"
    assert postgres.query(url.rsplit("/", 1)[1], "SELECT count(*) FROM schema_migrations") != "0"


def test_redis_with_a_password_and_a_wrong_password(server_factory):
    redis = RedisServer(extra_args=["--requirepass", "hunter2-redis"]).start_with_password("hunter2-redis")
    try:
        good = replica(server_factory, f"redis://:hunter2-redis@127.0.0.1:{redis.port}/2", "good")
        body = wait_health(good, True)
        assert "hunter2" not in json.dumps(body) and "hunter2" not in good.stderr
        with good.ws() as client:
            client.result("subscribe", channel="app.auth")
            assert publish(client, "app.auth", 1)["result"]["offset"] == 1
            assert offsets(collect(client, "app.auth", 1), "app.auth") == [1]
        # Database 2 holds the channel, not database 0.
        assert redis.cli("-a", "hunter2-redis", "-n", "2", "EXISTS", "nebula:{app.auth}:meta").endswith("1")
        bad = replica(server_factory, f"redis://:wrong@127.0.0.1:{redis.port}/0", "bad")
        body = wait_health(bad, False)
        error = body["components"]["broker"]["error"]
        assert "WRONGPASS" in error or "invalid" in error.lower(), error
        assert "wrong@" not in json.dumps(body)
    finally:
        redis.stop()


def test_rediss_tls_with_a_private_ca(server_factory, tmp_path):
    import subprocess

    ca_key, ca, key, cert = (tmp_path / n for n in ("ca.key", "ca.pem", "redis.key", "redis.pem"))
    run = lambda *a: subprocess.run(list(map(str, a)), check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=nebula-test-ca", "-keyout", ca_key, "-out", ca)
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", tmp_path / "redis.csr")
    (tmp_path / "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", tmp_path / "redis.csr", "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
        "-extfile", tmp_path / "ext", "-out", cert)
    tls_port = free_port()
    redis = RedisServer(extra_args=["--tls-port", str(tls_port), "--tls-cert-file", cert, "--tls-key-file", key,
                                    "--tls-ca-cert-file", ca, "--tls-auth-clients", "no"]).start()
    try:
        a = replica(server_factory, f"rediss://localhost:{tls_port}/0?ca={ca}", "tls-a")
        b = replica(server_factory, redis.url, "plain-b")  # same server, plain port: one shared state
        assert wait_health(a, True)["components"]["broker"]["redis"] == f"rediss://localhost:{tls_port}/0"
        with a.ws() as watcher, b.ws() as publisher:
            watcher.result("subscribe", channel="app.tls")
            for i in range(1, 6):
                publish(publisher, "app.tls", i)
            assert offsets(collect(watcher, "app.tls", 5), "app.tls") == [1, 2, 3, 4, 5]
        # Without the CA the certificate is not trusted: no connection, and /healthz says why.
        untrusting = replica(server_factory, f"rediss://localhost:{tls_port}/0", "tls-untrusting")
        error = wait_health(untrusting, False)["components"]["broker"]["error"]
        assert "certificate" in error.lower() or "tls" in error.lower() or "handshake" in error.lower(), error
    finally:
        redis.stop()
