"""Jarvis against a real local model (llama.cpp's OpenAI-compatible server with SmolLM2-135M): the
answer streams onto the channel in order, a reload mid-answer recovers all of it, cancel stops it,
killing the provider mid-answer gives the error marker, and with the first provider down its breaker
opens and the second answers. The model's wording is poor; only structure and flow are checked."""

import time

import pytest

from e2e_lib import wait_until
from llama_server import LlamaServer
from test_jarvis import JSON, answer_events, ask, new_conversation, put_providers, text_of


@pytest.fixture(scope="module")
def llama():
    server = LlamaServer().start()
    yield server
    server.stop()


def provider(llama, name="local", **extra):
    return {"name": name, "base_url": llama.base_url, "model": "smollm2", "max_tokens": 48, **extra}


def wait_for_first_delta(client, timeout=60):
    deadline = time.monotonic() + timeout
    while not any(e["data"]["type"] == "answer.delta" for e in client.pubs):
        client._file(client.recv_json(max(0.1, deadline - time.monotonic())))


def stored_answer(server, conversation):
    return server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["messages"][-1]


def test_a_real_model_streams_an_answer_in_order(server, llama):
    put_providers(server, [provider(llama)])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        events = answer_events(c, ask(server, conversation, "Name three Linux commands for disk usage.")["answer"]["id"], timeout=60)
    kinds = [e["data"]["type"] for e in events]
    assert kinds[:2] == ["answer.start", "answer.provider"] and kinds[-1] == "answer.end"
    assert kinds.count("answer.delta") >= 2, kinds
    offsets = [e["offset"] for e in events]
    assert offsets == list(range(offsets[0], offsets[0] + len(offsets)))
    end = events[-1]["data"]
    assert end["state"] == "complete" and end["finish_reason"] in ("stop", "length"), end
    assert end["provider"] == "local" and end["usage"]["completion_tokens"] >= 2
    assert 0 <= end["latency"]["first_token_ms"] <= end["latency"]["total_ms"]
    assert wait_until(lambda: stored_answer(server, conversation)["state"] == "complete", 5)
    assert stored_answer(server, conversation)["content"] == text_of(events) != ""


def test_a_reload_mid_answer_recovers_the_whole_answer(server, llama):
    put_providers(server, [provider(llama, max_tokens=120)])
    conversation = new_conversation(server)
    first = server.ws()
    first.result("subscribe", channel=conversation["channel"])
    answer_id = ask(server, conversation, "Write a long story about a server room.")["answer"]["id"]
    seen = []
    while sum(1 for e in seen if e["data"]["type"] == "answer.delta") < 3:
        seen.append(first.next_pub(timeout=60))
    first.close()
    since = stored_answer(server, conversation)["stream"]
    assert since is not None
    with server.ws() as c:
        reply = c.result("subscribe", channel=conversation["channel"], since=since)
        assert reply["recovered"] is True
        events = [p for p in reply["publications"] if p["data"].get("answer") == answer_id] + answer_events(c, answer_id, timeout=90)
    assert events[0]["data"]["type"] == "answer.start"
    offsets = [e["offset"] for e in events]
    assert offsets == list(range(offsets[0], offsets[0] + len(offsets)))
    assert text_of(seen) and text_of(events).startswith(text_of(seen))
    assert events[-1]["data"]["state"] == "complete"
    assert wait_until(lambda: stored_answer(server, conversation)["content"] == text_of(events), 5)


def test_cancel_stops_the_real_model(server, llama):
    put_providers(server, [provider(llama, max_tokens=400)])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        answer_id = ask(server, conversation, "Count from one to two hundred in words.")["answer"]["id"]
        wait_for_first_delta(c)
        r = server.http("POST", f"/api/v1/jarvis/conversations/{conversation['id']}/cancel", body=b"{}", headers=JSON)
        assert r.json()["result"] == {"cancelled": True}
        events = answer_events(c, answer_id, timeout=5)
    assert events[-1]["data"]["state"] == "cancelled"
    assert events[-1]["data"]["usage"]["completion_tokens"] < 400
    # The model is free again at once: a new answer starts streaming promptly.
    conversation2 = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation2["channel"])
        started = time.monotonic()
        events = answer_events(c, ask(server, conversation2, "Say hi.")["answer"]["id"], timeout=60)
    assert events[-1]["data"]["state"] == "complete"
    assert events[-1]["data"]["latency"]["first_token_ms"] < 10_000, time.monotonic() - started


def test_killing_the_model_mid_answer_ends_with_the_error_marker(server):
    doomed = LlamaServer().start()
    try:
        put_providers(server, [{"name": "doomed", "base_url": doomed.base_url, "model": "smollm2", "max_tokens": 400}])
        conversation = new_conversation(server)
        with server.ws() as c:
            c.result("subscribe", channel=conversation["channel"])
            answer_id = ask(server, conversation, "Count from one to two hundred in words.")["answer"]["id"]
            wait_for_first_delta(c)
            doomed.kill()
            events = answer_events(c, answer_id, timeout=10)
        end = events[-1]["data"]
        assert end["state"] == "interrupted" and "doomed stopped mid-answer" in end["error"], end
        assert text_of(events)
    finally:
        doomed.stop()


def test_with_the_first_provider_down_its_breaker_opens_and_the_second_answers(server, llama):
    put_providers(server, [
        {"name": "gpu", "base_url": "http://127.0.0.1:9/v1", "model": "big"},
        provider(llama, name="cpu", max_tokens=8),
    ])
    conversation = new_conversation(server)
    with server.ws() as c:
        c.result("subscribe", channel=conversation["channel"])
        for n in range(4):
            events = answer_events(c, ask(server, conversation, f"Say {n}.")["answer"]["id"], timeout=60)
            assert events[1]["data"] == {"type": "answer.provider", "answer": events[0]["data"]["answer"], "provider": "cpu", "model": "smollm2"}
            assert events[-1]["data"]["state"] == "complete"
    breakers = {p["name"]: p["breaker"]["state"] for p in server.http("GET", "/api/v1/jarvis/providers").json()["result"]["providers"]}
    assert breakers == {"gpu": "open", "cpu": "closed"}
