"""Jarvis's tools (issue 6): the model's tool calls — in OpenAI's streaming `tool_calls` format, from the
scripted provider (the tiny local model cannot call tools reliably) — run at once when the policy says
auto, wait for a person with the right role otherwise, and their results flow back into the
conversation; forbidden and unknown tools are refused; every call is stored and audited. The tools
run against real state: this machine's resolver and, with a real dockerd, real containers."""

import contextlib
import json
import time
import uuid

import pytest

from accounts_lib import Session, create_user
from e2e_lib import RawWS, wait_until
from openai_stub import OpenAIStub, Script
from test_jarvis import JSON, answer_events, ask, new_conversation, put_providers, text_of


@pytest.fixture
def stub():
    s = OpenAIStub().start()
    yield s
    s.stop()


def calls(*pairs):
    return [{"id": f"call_{n}", "name": name, "arguments": arguments} for n, (name, arguments) in enumerate(pairs, 1)]


def put_policy(server, policy, key="default"):
    return server.http("PUT", "/api/v1/jarvis/tools/policy", body=json.dumps({"policy": policy}).encode(), headers=JSON, key=key)


@contextlib.contextmanager
def tool_policy(server, policy):
    """The policy set for the block's duration; every tool back to its default afterwards."""
    assert put_policy(server, policy).status == 200
    try:
        yield
    finally:
        put_policy(server, {})


def next_event(client, kind, timeout=20.0, where=lambda data: True):
    deadline = time.monotonic() + timeout
    while True:
        data = client.next_pub(timeout=max(0.1, deadline - time.monotonic()))["data"]
        if data["type"] == kind and where(data):
            return data


def tool_state(client, state, timeout=20.0):
    return next_event(client, "tool.call", timeout, lambda d: d["tool_call"]["state"] == state)["tool_call"]


def shown(server, conversation, key="default"):
    return server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}", key=key).json()["result"]


def audit_actions(server, target):
    entries = server.http("GET", "/api/v1/audit?limit=200").json()["result"]["entries"]
    return [(e["action"], e["outcome"]) for e in entries if e.get("target") == target]


def test_a_diagnose_tool_runs_at_once_and_the_next_answer_reads_its_result(server, stub):
    stub.scripts = [Script(tokens=["Let me check."], tool_calls=calls(("dns_resolve", '{"name": "localhost"}'))),
                    Script(tokens=["localhost ", "is ", "127.0.0.1."])]
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        first = ask(server, conversation, "What does localhost resolve to?")["answer"]["id"]
        ended = answer_events(c, first)[-1]["data"]
        assert ended["state"] == "complete" and ended["finish_reason"] == "tool_calls"
        assert ended["tool_calls"] == [{"id": "call_1", "name": "dns_resolve", "arguments": '{"name": "localhost"}'}]
        running = tool_state(c, "running")
        done = tool_state(c, "done")
        second = next_event(c, "answer.start")["answer"]
        rest = answer_events(c, second)
    assert second > first
    assert running["id"] == done["id"] and running["answer"] == first and running["policy"] == "auto" and running["tier"] == "diagnose"
    assert done["result"]["ok"] is True and "127.0.0.1" in done["result"]["result"]["addresses"]
    assert text_of(rest) == "localhost is 127.0.0.1." and rest[-1]["data"]["state"] == "complete"

    # The model was told about the tools, with OpenAI function schemas.
    offered = {t["function"]["name"]: t for t in stub.requests[0]["body"]["tools"]}
    assert {"host_metrics", "container_list", "container_logs", "disk_usage", "dns_resolve", "http_check",
            "tls_certificate", "restart_container"} <= set(offered)
    assert offered["dns_resolve"]["type"] == "function" and offered["dns_resolve"]["function"]["parameters"]["required"] == ["name"]
    # … and the second request carries the call and its result in OpenAI's message shapes.
    messages = stub.requests[1]["body"]["messages"]
    assistant, tool = messages[-2], messages[-1]
    assert assistant["role"] == "assistant" and assistant["content"] == "Let me check."
    assert assistant["tool_calls"] == [{"id": "call_1", "type": "function", "function": {"name": "dns_resolve", "arguments": '{"name": "localhost"}'}}]
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_1" and json.loads(tool["content"]) == done["result"]

    # Stored: both answers, the result, the call; audited under the conversation.
    assert wait_until(lambda: shown(server, conversation)["messages"][-1]["state"] == "complete", 5)
    stored = shown(server, conversation)
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert stored["messages"][2]["tool_call_id"] == "call_1" and stored["messages"][1]["tool_calls"][0]["name"] == "dns_resolve"
    assert [(t["name"], t["state"]) for t in stored["tool_calls"]] == [("dns_resolve", "done")]
    assert ("jarvis.tool.run", "ok") in audit_actions(server, conversation["id"])


def test_a_remediate_tool_waits_for_an_operator_and_the_answer_goes_on_after_approval(server_factory, stub, tmp_path):
    data = tmp_path / "data"
    create_user(data, "otto", "operator")
    create_user(data, "val", "viewer")
    server = server_factory(data_dir=data)
    stub.scripts = [Script(tokens=["I can restart it."], tool_calls=calls(("restart_container", '{"container": "web"}'))),
                    Script(tokens=["Done."])]
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    val, otto = Session.login(server, "val"), Session.login(server, "otto")
    created = val.http("POST", "/api/v1/jarvis/conversations", {"title": "web is down"})
    assert created.status == 201, created.body
    conversation = created.json()["result"]
    with server.ws() as c:  # the admin key watches everyone's conversations
        c.result("subscribe", channel=conversation["channel"])
        asked = val.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/messages", {"content": "web is down, fix it"})
        assert asked.status == 202, asked.body
        answer_events(c, asked.json()["result"]["answer"]["id"])
        pending = tool_state(c, "pending")
        assert pending["name"] == "restart_container" and pending["arguments"] == '{"container": "web"}'
        assert pending["required_role"] == "operator" and pending["requested_by"] == "val" and pending["tier"] == "remediate"
        assert pending["description"] and pending["result"] is None
        # Nothing runs and no answer starts while it waits.
        with pytest.raises(Exception):
            next_event(c, "answer.start", timeout=1.0)
        page = val.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]
        assert page["answering"] is False and page["tool_calls"][0]["state"] == "pending"

        # The owner is a viewer: not enough to approve a restart.
        path = f"/api/v1/jarvis/conversations/{conversation['id']}/tool-calls/{pending['id']}"
        refused = val.http("POST", f"{path}/approve")
        assert refused.status == 403 and refused.json()["error"]["code"] == "forbidden"
        assert "operator" in refused.json()["error"]["message"]
        # An operator who cannot see the conversation gets 404 (it is private to its owner and admins).
        assert otto.http("POST", f"{path}/approve").status == 404
        # An admin approves; the call runs (no Docker engine here: it fails, and says why), the answer goes on.
        approved = server.http("POST", f"{path}/approve", headers=JSON)
        assert approved.status == 202, approved.body
        assert approved.json()["result"]["tool_call"]["state"] == "running"
        assert approved.json()["result"]["tool_call"]["decided_by"]
        failed = tool_state(c, "failed")
        assert failed["id"] == pending["id"] and failed["result"]["ok"] is False and failed["result"]["error"]["code"] == "failed"
        second = next_event(c, "answer.start")["answer"]
        assert text_of(answer_events(c, second)) == "Done."
    # A second decision on the same call: it is no longer pending.
    again = server.http("POST", f"{path}/reject", headers=JSON)
    assert again.status == 409 and again.json()["error"]["code"] == "already_decided"
    assert json.loads(stub.requests[1]["body"]["messages"][-1]["content"])["error"]["code"] == "failed"
    actions = audit_actions(server, conversation["id"])
    for expected in [("jarvis.tool.request", "pending"), ("jarvis.tool.approve", "denied"), ("jarvis.tool.approve", "ok"),
                     ("jarvis.tool.run", "failed")]:
        assert expected in actions, (expected, actions)


@contextlib.contextmanager
def waiting_call(server, stub, then, tool=("dns_resolve", '{"name": "localhost"}'), question="resolve localhost"):
    """A conversation whose first answer asked for a tool that now waits for a person; yields the
    conversation, a client subscribed to its channel, and the pending call. `then` is what the model
    says in the answer after it."""
    stub.scripts = [Script(tool_calls=calls(tool)), Script(tokens=then)]
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        answer_events(c, ask(server, conversation, question)["answer"]["id"])
        yield conversation, c, tool_state(c, "pending")


def test_a_rejected_call_never_runs_and_the_model_hears_why(server, stub):
    with tool_policy(server, {"dns_resolve": "approval"}):
        with waiting_call(server, stub, then=["Understood."]) as (conversation, c, pending):
            r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/tool-calls/{pending['id']}/reject",
                            body=json.dumps({"reason": "not now"}).encode(), headers=JSON)
            assert r.status == 200, r.body
            rejected = r.json()["result"]["tool_call"]
            assert rejected["state"] == "rejected" and rejected["result"]["error"]["code"] == "rejected"
            assert "not now" in rejected["result"]["error"]["message"]
            assert tool_state(c, "rejected")["id"] == pending["id"]
            second = next_event(c, "answer.start")["answer"]
            assert text_of(answer_events(c, second)) == "Understood."
        told = stub.requests[1]["body"]["messages"][-1]
        assert told["role"] == "tool" and json.loads(told["content"])["error"]["code"] == "rejected"
        assert ("jarvis.tool.reject", "ok") in audit_actions(server, conversation["id"])


def test_forbidden_unknown_and_malformed_calls_are_refused_with_a_reason(server, stub):
    with tool_policy(server, {"http_check": "forbidden"}):
        stub.scripts = [
            Script(tool_calls=calls(("http_check", '{"url": "http://127.0.0.1:1/"}'), ("format_disk", "{}"), ("dns_resolve", '{"name": '))),
            Script(tokens=["Sorry."]),
        ]
        put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
        conversation = new_conversation(server)
        with server.ws() as c:
            c.result("subscribe", channel=conversation["channel"])
            answer_events(c, ask(server, conversation, "check things")["answer"]["id"])
            refused = [tool_state(c, "refused") for _ in range(3)]
            second = next_event(c, "answer.start")["answer"]
            answer_events(c, second)
        codes = {t["name"]: t["result"]["error"]["code"] for t in refused}
        assert codes == {"http_check": "forbidden", "format_disk": "unknown_tool", "dns_resolve": "bad_arguments"}
        # A forbidden tool is not even offered to the model.
        assert "http_check" not in {t["function"]["name"] for t in stub.requests[0]["body"]["tools"]}
        results = [m for m in stub.requests[1]["body"]["messages"] if m["role"] == "tool"]
        assert [m["tool_call_id"] for m in results] == ["call_1", "call_2", "call_3"]
        assert ("jarvis.tool.run", "denied") in audit_actions(server, conversation["id"])


def test_a_new_question_expires_calls_still_waiting(server, stub):
    with tool_policy(server, {"dns_resolve": "approval"}):
        with waiting_call(server, stub, then=["Something else, then."]) as (conversation, c, pending):
            answer = ask(server, conversation, "never mind, what time is it?")["answer"]["id"]
            expired = tool_state(c, "expired")
            assert text_of(answer_events(c, answer)) == "Something else, then."
        assert expired["id"] == pending["id"] and expired["result"]["error"]["code"] == "expired"
        roles = [m["role"] for m in stub.requests[1]["body"]["messages"]]
        assert roles[-3:] == ["assistant", "tool", "user"]
        late = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/tool-calls/{pending['id']}/approve", headers=JSON)
        assert late.status == 409


def test_a_question_ends_in_words_after_at_most_five_answers(server, stub):
    stub.default = Script(tool_calls=calls(("dns_resolve", '{"name": "localhost"}')))
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        ask(server, conversation, "loop forever")
        ends = [next_event(c, "answer.end") for _ in range(5)]
        with pytest.raises(Exception):
            next_event(c, "answer.start", timeout=1.5)
    assert len(stub.requests) == 5
    assert all("tools" in r["body"] for r in stub.requests[:4]) and "tools" not in stub.requests[4]["body"]
    assert all(e["state"] == "complete" for e in ends)


def test_a_question_stays_answering_between_its_answers_and_tools(server, stub):
    """GET's `answering` covers the whole question — answers, tools and the gaps between them — so a
    page that loads in one of those gaps still offers Stop rather than the question box."""
    import threading

    stub.default = Script(tool_calls=calls(("dns_resolve", '{"name": "localhost"}')))
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    seen, done = [], threading.Event()

    def poll():
        while not done.is_set():
            r = server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}")
            seen.append((r.json()["result"]["answering"], [m["state"] for m in r.json()["result"]["messages"]]))

    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        ask(server, conversation, "loop")
        poller = threading.Thread(target=poll)
        poller.start()
        try:
            for _ in range(4):
                next_event(c, "answer.end")
            last = next_event(c, "answer.start")["answer"]
            answer_events(c, last)
        finally:
            done.set()
            poller.join()
    after = server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]
    assert after["answering"] is False
    # The question, then four answers with their tool results, then the last answer: ten rows. Every
    # look taken before the last one was stored saw the question in progress.
    final = [m["state"] for m in after["messages"]]
    assert len(final) == 10 and final[-1] == "complete"
    wrong = [states for answering, states in seen if not answering and states != final]
    assert len(seen) >= 5 and not wrong, wrong[:3]


@contextlib.contextmanager
def slow_endpoint():
    """An HTTP endpoint that answers only after 20 s: http_check waits on it until stopped."""
    import http.server
    import threading

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(20)

        def log_message(self, *args):
            pass

    slow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    slow.daemon_threads = True
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{slow.server_address[1]}/"
    finally:
        slow.shutdown()


def test_stop_while_a_tool_runs_stops_the_tool_and_the_question(server, stub):
    with slow_endpoint() as url:
        stub.scripts = [Script(tool_calls=calls(("http_check", json.dumps({"url": url, "timeout_ms": 30000})))), Script(tokens=["never"])]
        put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
        conversation = new_conversation(server)
        with server.ws() as c:
            c.result("subscribe", channel=conversation["channel"])
            answer_events(c, ask(server, conversation, "is it up?")["answer"]["id"])
            tool_state(c, "running")
            assert shown(server, conversation)["answering"] is True
            started = time.monotonic()
            r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/cancel", headers=JSON)
            assert r.status == 200 and r.json()["result"]["cancelled"] is True
            stopped = tool_state(c, "failed", timeout=5)
            assert time.monotonic() - started < 2
            assert stopped["result"]["error"]["code"] == "cancelled"
            with pytest.raises(Exception):
                next_event(c, "answer.start", timeout=1.5)
        assert len(stub.requests) == 1
        assert wait_until(lambda: shown(server, conversation)["answering"] is False, 5)
        # The conversation goes on: the next question is answered, and the model hears the call was stopped.
        stub.scripts = [Script(tokens=["Fine."])]
        with server.ws() as c:
            c.result("subscribe", channel=conversation["channel"])
            assert text_of(answer_events(c, ask(server, conversation, "ok, never mind")["answer"]["id"])) == "Fine."
        told = [m for m in stub.requests[-1]["body"]["messages"] if m["role"] == "tool"]
        assert json.loads(told[0]["content"])["error"]["code"] == "cancelled"


def test_stop_reaches_a_tool_running_after_its_approval(server, stub):
    with tool_policy(server, {"http_check": "approval"}):
        with slow_endpoint() as url:
            tool = ("http_check", json.dumps({"url": url, "timeout_ms": 30000}))
            with waiting_call(server, stub, then=["never"], tool=tool, question="is it up?") as (conversation, c, pending):
                r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/tool-calls/{pending['id']}/approve", headers=JSON)
                assert r.status == 202, r.body
                tool_state(c, "running")
                r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/cancel", headers=JSON)
                assert r.status == 200 and r.json()["result"]["cancelled"] is True, r.body
                stopped = tool_state(c, "failed", timeout=5)
                assert stopped["result"]["error"]["code"] == "cancelled"
                with pytest.raises(Exception):
                    next_event(c, "answer.start", timeout=1.5)
            assert len(stub.requests) == 1


def test_stop_sent_to_another_replica_while_a_tool_runs(server_factory, postgres, stub):
    import base64
    import os

    from redis_server import RedisServer

    redis = RedisServer().start()
    try:
        url = postgres.create_database(f"jarvis_tools_{int(time.time() * 1000) % 10_000_000}")
        env = {"NEBULA_SECRET_KEY": base64.b64encode(os.urandom(32)).decode()}
        a, b = (server_factory(["--redis-url", redis.url, "--replica-id", r, "--database-url", url, "--telemetry-interval", "30s"], env=env)
                for r in ("a", "b"))
        with slow_endpoint() as slow:
            stub.scripts = [Script(tool_calls=calls(("http_check", json.dumps({"url": slow, "timeout_ms": 30000})))), Script(tokens=["never"])]
            put_providers(a, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
            conversation = new_conversation(a)
            with a.ws() as c:
                c.result("subscribe", channel=conversation["channel"])
                answer_events(c, ask(a, conversation, "is it up?")["answer"]["id"])
                tool_state(c, "running")
                assert b.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["answering"] is True
                started = time.monotonic()
                r = b.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/cancel", headers=JSON)
                assert r.status == 200 and r.json()["result"]["cancelled"] is True, r.body
                stopped = tool_state(c, "failed", timeout=5)
                assert time.monotonic() - started < 2 and stopped["result"]["error"]["code"] == "cancelled"
                with pytest.raises(Exception):
                    next_event(c, "answer.start", timeout=1.5)
        assert len(stub.requests) == 1
    finally:
        redis.stop()


def test_the_tool_catalog_and_its_policy(server):
    tools = {t["name"]: t for t in server.http("GET", "/api/v1/jarvis/tools").json()["result"]["tools"]}
    assert tools["restart_container"]["tier"] == "remediate" and tools["restart_container"]["decision"] == "approval"
    assert tools["restart_container"]["required_role"] == "operator"
    assert tools["container_logs"]["decision"] == "auto" and tools["container_logs"]["required_role"] is None
    assert tools["container_logs"]["parameters"]["required"] == ["container"]
    try:
        changed = put_policy(server, {"container_logs": "approval", "restart_container": "forbidden"})
        assert changed.status == 200, changed.body
        listed = {t["name"]: t for t in changed.json()["result"]["tools"]}
        assert listed["container_logs"]["decision"] == "approval" and listed["container_logs"]["default_decision"] == "auto"
        assert listed["restart_container"]["decision"] == "forbidden"
        for bad in ({"format_disk": "auto"}, {"container_logs": "sometimes"}, {"container_logs": 1}):
            r = put_policy(server, bad)
            assert r.status == 400 and r.json()["error"]["code"] == "bad_request", (bad, r.body)
        assert server.http("PUT", "/api/v1/jarvis/tools/policy", body=b"[]", headers=JSON).status == 400
        made = server.http("POST", "/api/v1/keys", body=json.dumps({"name": "reader", "scopes": ["read"]}).encode(), headers=JSON)
        assert made.status in (200, 201), made.body
        reader = made.json()["result"]["key"]
        assert put_policy(server, {}, key=reader).status == 403
        assert server.http("GET", "/api/v1/jarvis/tools", key=reader).status == 200
    finally:
        assert put_policy(server, {}).status == 200
    assert {t["name"]: t["decision"] for t in server.http("GET", "/api/v1/jarvis/tools").json()["result"]["tools"]}["restart_container"] == "approval"
    assert ("jarvis.tools.policy", "ok") in [(e["action"], e["outcome"]) for e in server.http("GET", "/api/v1/audit").json()["result"]["entries"]]


def test_clearing_a_configured_cache_runs_only_after_approval(server_factory, stub, tmp_path):
    cache = tmp_path / "transcode"
    (cache / "session-1").mkdir(parents=True)
    (cache / "session-1" / "segment.ts").write_bytes(b"x" * 4096)
    (cache / "thumb.jpg").write_bytes(b"y" * 1024)
    server = server_factory(["--cache-dir", f"plex={cache}"])
    stub.scripts = [Script(tool_calls=calls(("clear_cache", '{"cache": "plex"}'))), Script(tokens=["Freed 5 KiB."])]
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    offered = {t["name"]: t for t in server.http("GET", "/api/v1/jarvis/tools").json()["result"]["tools"]}
    assert offered["clear_cache"]["parameters"]["properties"]["cache"]["enum"] == ["plex"]
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        answer_events(c, ask(server, conversation, "the disk is full")["answer"]["id"])
        pending = tool_state(c, "pending")
        assert sorted(p.name for p in cache.iterdir()) == ["session-1", "thumb.jpg"], "ran before approval"
        r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/tool-calls/{pending['id']}/approve", headers=JSON)
        assert r.status == 202, r.body
        done = tool_state(c, "done")
        answer_events(c, next_event(c, "answer.start")["answer"])
    assert done["result"]["result"]["freed_bytes"] >= 5120 and done["result"]["result"]["removed_files"] == 2
    assert cache.is_dir() and list(cache.iterdir()) == []


# ---- against a real Docker engine ---------------------------------------------------------------


def test_container_tools_against_a_real_engine(server_factory, docker_engine, stub):
    name = f"jarvis-{uuid.uuid4().hex[:8]}"
    docker_engine.run(name, "sh", "-c", "echo booting; echo ready to serve; sleep 3600")
    server = server_factory(["--telemetry-interval", "1s", "--docker-host", docker_engine.host])
    stub.scripts = [
        Script(tool_calls=calls(("container_list", json.dumps({"name": name})), ("container_logs", json.dumps({"container": name, "lines": 5})))),
        Script(tool_calls=calls(("restart_container", json.dumps({"container": name})))),
        Script(tokens=["Restarted."]),
    ]
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    assert wait_until(lambda: any(c["name"] == name for c in (server.http("GET", "/api/v1/containers").json().get("result") or {}).get("containers", [])), 15)
    before = json.loads(docker_engine.docker("inspect", name))[0]["State"]["StartedAt"]
    conversation = new_conversation(server)
    try:
        with server.ws() as c:
            c.result("subscribe", channel=conversation["channel"])
            ask(server, conversation, f"why is {name} slow?")
            listed, logs = tool_state(c, "done"), tool_state(c, "done")
            pending = tool_state(c, "pending")
            r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/tool-calls/{pending['id']}/approve", headers=JSON)
            assert r.status == 202, r.body
            restarted = tool_state(c, "done", timeout=30)
            final = next_event(c, "answer.end", timeout=20, where=lambda d: d["finish_reason"] == "stop")
        assert final["state"] == "complete"
        entry = listed["result"]["result"]["containers"][0]
        assert entry["name"] == name and entry["state"] == "running" and entry["restart_count"] == 0
        assert [line["text"] for line in logs["result"]["result"]["lines"]] == ["booting", "ready to serve"]
        assert restarted["name"] == "restart_container" and restarted["result"]["result"]["state"] == "running"
        after = json.loads(docker_engine.docker("inspect", name))[0]["State"]["StartedAt"]
        assert after != before, "the container was not restarted"
    finally:
        docker_engine.docker("rm", "-f", name, check=False)


def test_maintenance_is_proposed_on_a_schedule_and_runs_only_once_approved(server_factory, docker_engine, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    for name, size in (("big.log", 6 << 20), ("medium.log", 4 << 20)):  # sizes as the file system sees them (sparse)
        with open(logs / name, "wb") as f:
            f.truncate(size)
    (logs / "small.log").write_text("fine\n")
    sick = f"sick-{uuid.uuid4().hex[:8]}"
    docker_engine.run(sick, "sleep", "3600", options=["--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1"])
    data = tmp_path / "data"
    create_user(data, "otto", "operator")
    create_user(data, "val", "viewer")
    server = server_factory(["--telemetry-interval", "1s", "--docker-host", docker_engine.host, "--maintenance-interval", "1s",
                             "--log-dir", f"app={logs}", "--maintenance-log-size", "5MiB"], data_dir=data)
    try:
        def pending():
            found = [c for c in server.http("GET", "/api/v1/jarvis/conversations").json()["result"]["conversations"] if c["id"] == "maintenance"]
            if not found:
                return []
            return [c for c in server.http("GET", "/api/v1/jarvis/conversations/maintenance").json()["result"]["tool_calls"] if c["state"] == "pending"]

        assert wait_until(lambda: {c["name"] for c in pending()} >= {"restart_container", "rotate_log"}, 30), pending()
        time.sleep(3)  # three more rounds: a proposal still waiting is not repeated
        waiting = pending()
        assert sorted((c["name"], c["arguments"]) for c in waiting) == [
            ("restart_container", json.dumps({"container": sick}, separators=(",", ":"))),
            ("rotate_log", json.dumps({"directory": "app", "file": "big.log"}, separators=(",", ":"))),
        ]
        shown_ = server.http("GET", "/api/v1/jarvis/conversations/maintenance").json()["result"]
        assert shown_["title"] == "Maintenance suggestions" and shown_["owner"] == "server"
        reasons = [m["content"] for m in shown_["messages"] if m["role"] == "assistant"]
        assert any(sick in r and "unhealthy" in r for r in reasons) and any("big.log" in r and "6.0 MiB" in r for r in reasons)
        assert all(c["tier"] == "remediate" and c["requested_by"] == "server" for c in waiting)

        # Shared with the people who decide: an operator lists it and approves; a viewer does not see it.
        otto, val = Session.login(server, "otto"), Session.login(server, "val")
        assert "maintenance" in [c["id"] for c in otto.http("GET", "/api/v1/jarvis/conversations").json()["result"]["conversations"]]
        assert "maintenance" not in [c["id"] for c in val.http("GET", "/api/v1/jarvis/conversations").json()["result"]["conversations"]]
        assert val.http("GET", "/api/v1/jarvis/conversations/maintenance").status == 404
        for session, allowed in ((otto, True), (val, False)):
            ws = RawWS(server.port, key=None, headers={**session.cookie, **session.origin}).connect()
            ws.send_json({"id": 1, "op": "subscribe", "channel": "jarvis.maintenance"})
            reply = ws.recv_json()
            assert ("result" in reply) == allowed, (session.user, reply)
            ws.close()
        restart = next(c for c in waiting if c["name"] == "restart_container")
        assert val.http("POST", f"/api/v1/jarvis/conversations/maintenance/tool-calls/{restart['id']}/approve").status == 404
        before = json.loads(docker_engine.docker("inspect", sick))[0]["State"]["StartedAt"]
        r = otto.http("POST", f"/api/v1/jarvis/conversations/maintenance/tool-calls/{restart['id']}/approve")
        assert r.status == 202, r.body
        assert r.json()["result"]["tool_call"]["decided_by"] == "otto"
        assert wait_until(lambda: json.loads(docker_engine.docker("inspect", sick))[0]["State"]["StartedAt"] != before, 20)
        assert wait_until(lambda: any(c["id"] == restart["id"] and c["state"] == "done" for c in
                                      server.http("GET", "/api/v1/jarvis/conversations/maintenance").json()["result"]["tool_calls"]), 10)
        # Nothing asks a model afterwards (no provider is even configured): no answer failed for want of one.
        messages = server.http("GET", "/api/v1/jarvis/conversations/maintenance").json()["result"]["messages"]
        assert all(m["state"] != "failed" for m in messages)
    finally:
        docker_engine.docker("rm", "-f", sick, check=False)


def test_proactive_tools_prune_what_docker_keeps(server_factory, docker_engine, stub):
    holder = f"holder-{uuid.uuid4().hex[:8]}"
    docker_engine.run(holder, "sleep", "3600")
    dangling = docker_engine.docker("commit", holder)  # an image with no tag: dangling
    docker_engine.docker("rm", "-f", holder)
    server = server_factory(["--docker-host", docker_engine.host])
    stub.scripts = [Script(tool_calls=calls(("prune_dangling_images", "{}"), ("prune_build_cache", "{}"))), Script(tokens=["Pruned."])]
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    tools = {t["name"]: t for t in server.http("GET", "/api/v1/jarvis/tools").json()["result"]["tools"]}
    assert tools["prune_dangling_images"]["tier"] == "proactive" and tools["prune_dangling_images"]["decision"] == "approval"
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        ask(server, conversation, "free some space")
        first, second = tool_state(c, "pending"), tool_state(c, "pending")
        for call in (first, second):
            r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/tool-calls/{call['id']}/approve", headers=JSON)
            assert r.status == 202, r.body
        done = {t["name"]: t for t in (tool_state(c, "done", timeout=60), tool_state(c, "done", timeout=60))}
        answer_events(c, next_event(c, "answer.start")["answer"])
    assert done["prune_dangling_images"]["result"]["result"]["images_deleted"] >= 1
    assert done["prune_build_cache"]["result"]["result"]["freed_bytes"] >= 0
    assert docker_engine.docker("image", "inspect", dangling, check=False) == "[]"
