"""Jarvis (issue 6): answers stream from an OpenAI-compatible provider onto `jarvis.<id>`, survive a
reload, stop on cancel, end with a marker when the provider dies, fall through a dead provider whose
breaker opens; conversations are private to their owner. The provider here is a scripted stub speaking
OpenAI's documented streaming format (test_jarvis_llama.py runs a real local model)."""

import json
import time

import pytest

from e2e_lib import wait_until
from openai_stub import OpenAIStub, Script

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def stub():
    s = OpenAIStub().start()
    yield s
    s.stop()


def put_providers(server, providers, key="default"):
    r = server.http("PUT", "/api/v1/jarvis/providers", body=json.dumps({"providers": providers}).encode(), headers=JSON, key=key)
    assert r.status == 200, r.body
    return r.json()["result"]["providers"]


def new_conversation(server, key="default", title=None):
    body = {} if title is None else {"title": title}
    r = server.http("POST", "/api/v1/jarvis/conversations", body=json.dumps(body).encode(), headers=JSON, key=key)
    assert r.status == 201, r.body
    return r.json()["result"]


def ask(server, conversation, content, key="default"):
    r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/messages",
                    body=json.dumps({"content": content}).encode(), headers=JSON, key=key)
    assert r.status == 202, r.body
    return r.json()["result"]


def answer_events(client, answer_id, timeout=20.0):
    """Publications of one answer, up to and including its answer.end."""
    events = []
    deadline = time.monotonic() + timeout
    while True:
        pub = client.next_pub(timeout=max(0.1, deadline - time.monotonic()))
        data = pub["data"]
        if data.get("answer") != answer_id:
            continue
        events.append(pub)
        if data["type"] == "answer.end":
            return events


def text_of(events):
    return "".join(e["data"]["text"] for e in events if e["data"]["type"] == "answer.delta")


def test_an_answer_streams_in_order_is_stored_and_shows_its_provider(server, stub):
    stub.default = Script(tokens=["The ", "disk ", "/dev/sda1 ", "is ", "at ", "91 %."], delay=0.02)
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "stub-model", "api_key": "sk-secret", "max_tokens": 300}])
    conversation = new_conversation(server, title="disks")
    assert conversation["channel"] == f"jarvis.{conversation['id']}" and conversation["title"] == "disks"
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        started = ask(server, conversation, "Which disk is filling up?")
        assert started["channel"] == conversation["channel"] and started["answer"]["state"] == "streaming"
        events = answer_events(c, started["answer"]["id"])
    offsets = [e["offset"] for e in events]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    kinds = [e["data"]["type"] for e in events]
    assert kinds[0] == "answer.start" and kinds[1] == "answer.provider" and kinds[-1] == "answer.end"
    assert set(kinds[2:-1]) == {"answer.delta"}
    assert text_of(events) == "The disk /dev/sda1 is at 91 %."
    assert events[1]["data"] == {"type": "answer.provider", "answer": started["answer"]["id"], "provider": "stub", "model": "stub-model"}
    end = events[-1]["data"]
    assert end["state"] == "complete" and end["finish_reason"] == "stop" and end["error"] is None
    assert end["usage"] == {"prompt_tokens": 17, "completion_tokens": 6}
    assert end["latency"]["first_token_ms"] <= end["latency"]["total_ms"]
    # The provider got a streaming request with the key and the question after the system prompt.
    request = stub.requests[-1]
    assert request["authorization"] == "Bearer sk-secret"
    assert request["body"]["stream"] is True and request["body"]["model"] == "stub-model" and request["body"]["max_tokens"] == 300
    assert request["body"]["messages"][0]["role"] == "system"
    assert request["body"]["messages"][-1] == {"role": "user", "content": "Which disk is filling up?"}
    # Stored: question and answer with outcome, provider and timings.
    assert wait_until(lambda: server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["messages"][-1]["state"] == "complete", 5)
    shown = server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]
    question, answer = shown["messages"]
    assert question["role"] == "user" and question["content"] == "Which disk is filling up?"
    assert answer["role"] == "assistant" and answer["content"] == "The disk /dev/sda1 is at 91 %."
    assert answer["provider"] == "stub" and answer["model"] == "stub-model" and answer["finish_reason"] == "stop"
    assert answer["usage"] == {"prompt_tokens": 17, "completion_tokens": 6}
    assert answer["latency"]["total_ms"] >= answer["latency"]["first_token_ms"] >= 0
    assert shown["answering"] is False and "answering" not in conversation


def test_the_next_question_carries_the_conversation_so_far(server, stub):
    stub.default = Script(tokens=["Four."])
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        answer_events(c, ask(server, conversation, "2+2?")["answer"]["id"])
        answer_events(c, ask(server, conversation, "and doubled?")["answer"]["id"])
    messages = stub.requests[-1]["body"]["messages"]
    assert [(m["role"], m["content"]) for m in messages[1:]] == [("user", "2+2?"), ("assistant", "Four."), ("user", "and doubled?")]


def test_a_reload_mid_answer_replays_everything_then_the_rest(server, stub):
    tokens = [f"w{n} " for n in range(40)]
    stub.default = Script(tokens=tokens, delay=0.05)
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    first = server.ws()
    first.result("subscribe", channel=conversation["channel"])
    answer_id = ask(server, conversation, "Tell me a long story")["answer"]["id"]
    # Wait until part of the answer is out, then "reload": the first tab goes away.
    seen = []
    while len(text_of(seen)) < 20:
        seen.append(first.next_pub(timeout=10))
    first.close()
    shown = server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]
    streaming = shown["messages"][-1]
    assert streaming["state"] == "streaming" and shown["answering"] is True
    since = streaming["stream"]
    assert since is not None
    with server.ws() as c:
        reply = c.result("subscribe", channel=conversation["channel"], since=since)
        assert reply["recovered"] is True
        # The reply holds the answer so far; the rest follows live.
        events = [p for p in reply["publications"] if p["data"].get("answer") == answer_id] + answer_events(c, answer_id)
    assert events[0]["data"]["type"] == "answer.start"
    offsets = [e["offset"] for e in events]
    assert offsets == list(range(offsets[0], offsets[0] + len(offsets))), "a gap or a duplicate"
    assert text_of(events) == "".join(tokens)
    assert events[-1]["data"]["state"] == "complete"


@pytest.mark.parametrize("kept_alive", [False, True], ids=["closing-provider", "kept-alive-provider"])
def test_cancel_stops_the_answer_and_the_upstream_stream_within_a_second(server, kept_alive):
    """Also when the provider keeps its connections alive (OpenAI, Ollama, llama.cpp's server) and Nebula's
    HTTP client pools them: the stopped stream's connection is closed, not left streaming."""
    stub = OpenAIStub(keep_alive=kept_alive).start()
    try:
        stub.scripts = [Script(tokens=["warm"]), Script(tokens=["tick "] * 3, delay=0.05, end="hang")]
        put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
        conversation = new_conversation(server)
        with server.ws() as c:
            c.result("subscribe", channel=conversation["channel"])
            assert text_of(answer_events(c, ask(server, conversation, "hello")["answer"]["id"])) == "warm"
            answer_id = ask(server, conversation, "Count forever")["answer"]["id"]
            while "tick" not in text_of(c.pubs + [c.next_pub(timeout=10)]):
                pass
            cancelled_at = time.monotonic()
            r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/cancel", body=b"{}", headers=JSON)
            assert r.status == 200 and r.json()["result"] == {"cancelled": True}, r.body
            assert answer_events(c, answer_id, timeout=5)[-1]["data"]["state"] == "cancelled"
        assert wait_until(lambda: stub.hangups, 2)
        assert stub.hangups[0] - cancelled_at < 1.0
        assert len(stub.requests) == 2
        last = lambda: server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["messages"][-1]  # noqa: E731
        assert wait_until(lambda: last()["state"] == "cancelled", 5), last()
    finally:
        stub.stop()


def test_a_provider_dying_mid_answer_ends_it_with_an_error_marker(server, stub):
    stub.default = Script(tokens=["Half ", "an ", "answer"], delay=0.02, end="die")
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        events = answer_events(c, ask(server, conversation, "Go")["answer"]["id"])
    end = events[-1]["data"]
    assert text_of(events) == "Half an answer"
    assert end["state"] == "interrupted" and "stub" in end["error"] and end["finish_reason"] is None
    assert wait_until(lambda: server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["messages"][-1]["state"] == "interrupted", 5)


def test_a_follow_up_asked_the_moment_an_answer_ends_is_taken(server, stub):
    """The answer's end is on the channel a moment before the server has stored it; a client that asks
    again at once (a script, a fast typist) must get its answer, not `answer_in_progress`."""
    stub.default = Script(tokens=["ok"])
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        answer = ask(server, conversation, "question 0")["answer"]["id"]
        for n in range(1, 16):
            answer_events(c, answer)
            answer = ask(server, conversation, f"question {n}")["answer"]["id"]  # asserts 202
        answer_events(c, answer)


def test_a_dead_first_provider_falls_through_and_its_breaker_opens(server, stub):
    stub.default = Script(tokens=["from ", "backup"])
    put_providers(server, [
        {"name": "gpu", "base_url": "http://127.0.0.1:9/v1", "model": "big"},
        {"name": "backup", "base_url": stub.base_url, "model": "small"},
    ])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        for n in range(4):
            events = answer_events(c, ask(server, conversation, f"question {n}")["answer"]["id"])
            assert events[1]["data"]["provider"] == "backup"
            assert text_of(events) == "from backup" and events[-1]["data"]["state"] == "complete"
    listed = {p["name"]: p for p in server.http("GET", "/api/v1/jarvis/providers").json()["result"]["providers"]}
    assert listed["gpu"]["breaker"]["state"] == "open"
    assert listed["backup"]["breaker"] == {"state": "closed", "consecutive_failures": 0}


def test_no_provider_answering_is_a_failed_answer_saying_why(server):
    put_providers(server, [{"name": "gpu", "base_url": "http://127.0.0.1:9/v1", "model": "big"}])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        events = answer_events(c, ask(server, conversation, "anyone?")["answer"]["id"])
    assert [e["data"]["type"] for e in events] == ["answer.start", "answer.end"]
    assert events[-1]["data"]["state"] == "failed" and "gpu: unreachable" in events[-1]["data"]["error"]


def test_one_answer_at_a_time_per_conversation(server, stub):
    stub.default = Script(tokens=["slow"], first_delay=1.0)
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    conversation = new_conversation(server)
    ask(server, conversation, "first")
    r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/messages", body=b'{"content":"second"}', headers=JSON)
    assert r.status == 409 and r.json()["error"]["code"] == "answer_in_progress"


def _key(server, scopes):
    r = server.http("POST", "/api/v1/keys", body=json.dumps({"name": "k", "scopes": scopes}).encode(), headers=JSON)
    assert r.status == 201, r.body
    return r.json()["result"]["key"]


def test_conversations_are_private_to_their_owner(server, stub):
    put_providers(server, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
    alice, bob = _key(server, ["read"]), _key(server, ["read"])
    mine = new_conversation(server, key=alice, title="alice's")
    assert [c["id"] for c in server.http("GET", "/api/v1/jarvis/conversations", key=alice).json()["result"]["conversations"]] == [mine["id"]]
    assert server.http("GET", "/api/v1/jarvis/conversations", key=bob).json()["result"]["conversations"] == []
    assert server.http("GET", f"/api/v1/jarvis/conversations/{mine['id']}", key=bob).status == 404
    assert server.http("POST", f"/api/v1/jarvis/conversations/{mine['id']}/messages", body=b'{"content":"hi"}', headers=JSON, key=bob).status == 404
    assert server.http("DELETE", f"/api/v1/jarvis/conversations/{mine['id']}", key=bob).status == 404
    assert server.http("GET", "/api/v1/jarvis/conversations?all=true", key=bob).status == 403
    with server.ws(key=bob) as c:
        assert c.request("subscribe", channel=mine["channel"])["error"]["code"] == "forbidden"
        assert c.request("history", channel=mine["channel"])["error"]["code"] == "forbidden"
    with server.ws(key=alice) as c:
        assert c.request("publish", channel=mine["channel"], data={"type": "answer.delta"})["error"]["code"] == "forbidden"
        c.result("subscribe", channel=mine["channel"])
        # Nor do other principals learn the conversation's channel from the channel list.
        assert mine["channel"] in [c["name"] for c in server.http("GET", "/api/v1/channels", key=alice).json()["channels"]]
        assert mine["channel"] not in [c["name"] for c in server.http("GET", "/api/v1/channels", key=bob).json()["channels"]]
    with server.ws(key=bob) as c:
        assert c.request("subscribe", channel="jarvis.no-such-conversation")["error"]["code"] == "forbidden"
    # Admins see everyone's.
    assert mine["id"] in [c["id"] for c in server.http("GET", "/api/v1/jarvis/conversations?all=true").json()["result"]["conversations"]]
    with server.ws() as c:
        c.result("subscribe", channel=mine["channel"])


def test_rename_and_delete(server):
    conversation = new_conversation(server)
    assert conversation["title"] == "New conversation"
    r = server.http("PATCH", f"/api/v1/jarvis/conversations/{conversation['id']}", body=b'{"title":"  Backups  "}', headers=JSON)
    assert r.status == 200 and r.json()["result"]["title"] == "Backups"
    assert server.http("PATCH", f"/api/v1/jarvis/conversations/{conversation['id']}", body=b'{"title":""}', headers=JSON).status == 400
    assert server.http("DELETE", f"/api/v1/jarvis/conversations/{conversation['id']}").status == 200
    assert server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").status == 404
    entries = server.http("GET", "/api/v1/audit?action=jarvis.conversation.delete").json()["result"]["entries"]
    assert [e["target"] for e in entries] == [conversation["id"]]


def test_provider_configuration_is_admin_only_validated_and_never_shows_keys(server):
    reader = _key(server, ["read"])
    assert server.http("GET", "/api/v1/jarvis/providers", key=reader).status == 403
    listed = put_providers(server, [{"name": "cloud", "base_url": "https://api.example.com/v1", "model": "gpt", "api_key": "sk-live-123",
                                     "first_token_timeout_ms": 20000}])
    assert listed == [{"name": "cloud", "base_url": "https://api.example.com/v1", "model": "gpt", "has_key": True,
                       "connect_timeout_ms": 5000, "first_token_timeout_ms": 20000, "idle_timeout_ms": 30000,
                       "max_tokens": None, "breaker": {"state": "closed", "consecutive_failures": 0}}]
    assert b"sk-live-123" not in server.http("GET", "/api/v1/jarvis/providers").body
    # keep_key keeps the sealed key across an edit; leaving it out drops it.
    assert put_providers(server, [{"name": "cloud", "base_url": "https://api.example.com/v1", "model": "gpt-2", "keep_key": True}])[0]["has_key"] is True
    assert put_providers(server, [{"name": "cloud", "base_url": "https://api.example.com/v1", "model": "gpt-2"}])[0]["has_key"] is False
    for bad in ([{"name": "x y", "base_url": "http://a/v1", "model": "m"}],
                [{"name": "a", "base_url": "ftp://a/v1", "model": "m"}],
                [{"name": "a", "base_url": "http://a/v1", "model": ""}],
                [{"name": "a", "base_url": "http://a/v1", "model": "m", "idle_timeout_ms": 5}],
                [{"name": "a", "base_url": "http://a/v1", "model": "m", "max_tokens": 0}],
                [{"name": "a", "base_url": "http://a/v1", "model": "m"}, {"name": "a", "base_url": "http://b/v1", "model": "m"}],
                "not a list"):
        r = server.http("PUT", "/api/v1/jarvis/providers", body=json.dumps({"providers": bad}).encode(), headers=JSON)
        assert r.status == 400 and r.json()["error"]["code"] == "bad_request", (bad, r.body)
    assert [p["model"] for p in server.http("GET", "/api/v1/jarvis/providers").json()["result"]["providers"]] == ["gpt-2"]


def test_bad_questions_are_refused_and_nothing_is_stored(server):
    conversation = new_conversation(server)
    for body, status in ((b'{"content":""}', 400), (b'{"content":"   "}', 400), (b'{"content":5}', 400), (b'not json', 400),
                         (json.dumps({"content": "x" * 33000}).encode(), 400), (json.dumps({"content": "x" * 40000}).encode(), 413)):
        r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/messages", body=body, headers=JSON)
        assert r.status == status and r.json()["error"]["code"] == "bad_request", (body[:40], r.body)
    assert server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["messages"] == []
    assert server.http("POST", "/api/v1/jarvis/conversations/nope/messages", body=b'{"content":"hi"}', headers=JSON).status == 404


def test_across_replicas_reload_on_another_and_cancel_from_another(server_factory, postgres, stub):
    """Two replicas (Redis, shared PostgreSQL): the answer runs on A; a page reloaded on B recovers it
    whole; a cancel sent to B stops it on A, upstream included, within a second."""
    import base64
    import os

    from redis_server import RedisServer
    from replicas_lib import replica

    redis = RedisServer().start()
    try:
        url = postgres.create_database(f"jarvis_{int(time.time() * 1000) % 10_000_000}")
        env = {"NEBULA_SECRET_KEY": base64.b64encode(os.urandom(32)).decode()}
        a = server_factory(["--redis-url", redis.url, "--replica-id", "a", "--database-url", url, "--telemetry-interval", "30s"], env=env)
        b = server_factory(["--redis-url", redis.url, "--replica-id", "b", "--database-url", url, "--telemetry-interval", "30s"], env=env)
        stub.default = Script(tokens=[f"t{n} " for n in range(30)], delay=0.05, end="hang")
        put_providers(a, [{"name": "stub", "base_url": stub.base_url, "model": "m"}])
        conversation = new_conversation(a)
        with a.ws() as on_a:
            on_a.result("subscribe", channel=conversation["channel"])
            answer_id = ask(a, conversation, "long one")["answer"]["id"]
            seen = []
            while len(text_of(seen)) < 10:
                seen.append(on_a.next_pub(timeout=10))
            # Reload on replica B.
            shown = b.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]
            assert shown["answering"] is True and shown["messages"][-1]["stream"] is not None
            with b.ws() as on_b:
                reply = on_b.result("subscribe", channel=conversation["channel"], since=shown["messages"][-1]["stream"])
                assert reply["recovered"] is True
                replayed = [p for p in reply["publications"] if p["data"].get("answer") == answer_id]
                assert replayed[0]["data"]["type"] == "answer.start"
                assert text_of(replayed).startswith(text_of(seen))
                # Cancel through B: A stops the answer and hangs up on the provider.
                cancelled_at = time.monotonic()
                r = b.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/cancel", body=b"{}", headers=JSON)
                assert r.status == 200 and r.json()["result"] == {"cancelled": True}, r.body
                events = replayed + answer_events(on_b, answer_id, timeout=5)
            assert events[-1]["data"]["state"] == "cancelled"
            offsets = [e["offset"] for e in events]
            assert offsets == list(range(offsets[0], offsets[0] + len(offsets)))
        assert wait_until(lambda: stub.hangups, 2)
        assert stub.hangups[0] - cancelled_at < 1.0
        assert wait_until(lambda: b.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["messages"][-1]["state"] == "cancelled", 5)
        # Nothing runs any more: a cancel now says so.
        assert b.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/cancel", body=b"{}", headers=JSON).json()["result"] == {"cancelled": False}
    finally:
        redis.stop()
