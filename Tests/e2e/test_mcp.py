"""Jarvis's tools over MCP (issue 6), driven by the official Python MCP SDK (`mcp` on PyPI) speaking
Streamable HTTP to `/mcp`: the same catalog and policy as in the chat, API-key scopes, approval by a
person for tools that change something, every call stored and audited."""

import asyncio
import json
import threading
import time

import pytest

mcp = pytest.importorskip("mcp")
from mcp import ClientSession  # noqa: E402
import httpx  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from e2e_lib import wait_until  # noqa: E402
from test_jarvis import JSON  # noqa: E402


def run(server, key, body):
    """Opens an MCP session with the key, initializes it, and runs `body(session)`."""

    async def go():
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=httpx.Timeout(30, read=90)) as http:
            async with streamable_http_client(f"http://127.0.0.1:{server.port}/mcp", http_client=http) as (read, write, _):
                async with ClientSession(read, write) as session:
                    info = await session.initialize()
                    return await body(session, info)

    return asyncio.run(go())


def make_key(server, scopes, name):
    r = server.http("POST", "/api/v1/keys", body=json.dumps({"name": name, "scopes": scopes}).encode(), headers=JSON)
    assert r.status in (200, 201), r.body
    return r.json()["result"]["key"]


def result_json(result):
    return json.loads(result.content[0].text)


def test_tools_are_listed_with_schemas_and_a_diagnose_tool_runs(server):
    async def body(session, info):
        listed = await session.list_tools()
        called = await session.call_tool("dns_resolve", {"name": "localhost"})
        return info, listed, called

    info, listed, called = run(server, server.key, body)
    assert info.serverInfo.name == "nebula-command" and info.capabilities.tools is not None
    tools = {t.name: t for t in listed.tools}
    assert {"host_metrics", "container_list", "container_logs", "disk_usage", "dns_resolve", "http_check", "tls_certificate",
            "restart_container", "clear_cache", "rotate_log"} <= set(tools)
    assert tools["dns_resolve"].inputSchema["required"] == ["name"]
    assert tools["dns_resolve"].annotations.readOnlyHint is True and tools["restart_container"].annotations.destructiveHint is True
    assert called.isError is False
    payload = result_json(called)
    assert payload["ok"] is True and "127.0.0.1" in payload["result"]["addresses"]
    assert called.structuredContent["result"]["name"] == "localhost" and called.structuredContent["call"] > 0
    # Stored in the key's own conversation and audited there.
    conversations = server.http("GET", "/api/v1/jarvis/conversations").json()["result"]["conversations"]
    mine = [c for c in conversations if c["title"].startswith("MCP: ")]
    assert len(mine) == 1
    calls = server.http("GET", f"/api/v1/jarvis/conversations/{mine[0]['id']}").json()["result"]["tool_calls"]
    assert [(c["name"], c["state"], c["answer"]) for c in calls] == [("dns_resolve", "done", None)]
    entries = server.http("GET", "/api/v1/audit").json()["result"]["entries"]
    assert any(e["action"] == "jarvis.tool.run" and e["target"] == mine[0]["id"] for e in entries)


def test_bad_calls_are_tool_errors_not_crashes(server):
    async def body(session, _):
        return (await session.call_tool("format_disk", {}), await session.call_tool("dns_resolve", {}),
                await session.call_tool("container_logs", {"container": "x", "lines": 100000}))

    unknown, missing, out_of_range = run(server, server.key, body)
    assert unknown.isError is True and result_json(unknown)["error"]["code"] == "unknown_tool"
    assert missing.isError is True and result_json(missing)["error"]["code"] == "bad_arguments"
    assert out_of_range.isError is True and result_json(out_of_range)["error"]["code"] == "bad_arguments"


def test_keys_and_the_policy_decide_what_an_agent_may_do(server_factory):
    server = server_factory(["--mcp-approval-wait", "2s"])
    reader = make_key(server, ["read"], "agent-reader")
    writer = make_key(server, ["publish:app"], "agent-no-read")
    # No key, a wrong key, a key without read: refused before any MCP happens.
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
    headers = {**JSON, "Accept": "application/json, text/event-stream"}
    assert server.http("POST", "/mcp", body=body, headers=headers, key=None).status == 401
    assert server.http("POST", "/mcp", body=body, headers=headers, key="wrong-key").status == 401
    assert server.http("POST", "/mcp", body=body, headers=headers, key=writer).status == 403
    raw = server.http("POST", "/mcp", body=body, headers=headers, key=reader)
    assert raw.status == 200 and raw.json()["result"]["tools"], raw.body
    # Malformed JSON-RPC is a JSON-RPC parse error, not a crash.
    bad = server.http("POST", "/mcp", body=b"{not json", headers=headers, key=reader)
    assert bad.status == 400 and bad.json()["error"]["code"] == -32700, bad.body

    # A forbidden tool is not listed and a call to it is refused.
    assert server.http("PUT", "/api/v1/jarvis/tools/policy", body=json.dumps({"policy": {"http_check": "forbidden"}}).encode(), headers=JSON).status == 200

    async def forbidden(session, _):
        return await session.list_tools(), await session.call_tool("http_check", {"url": "http://127.0.0.1:1/"})

    listed, refused = run(server, reader, forbidden)
    assert "http_check" not in {t.name for t in listed.tools}
    assert refused.isError is True and result_json(refused)["error"]["code"] == "forbidden"

    # A remediate tool waits for a person; nobody decides within --mcp-approval-wait: it expires, never runs.
    async def restart(session, _):
        started = time.monotonic()
        result = await session.call_tool("restart_container", {"container": "web"})
        return result, time.monotonic() - started

    expired, waited = run(server, reader, restart)
    assert expired.isError is True and result_json(expired)["error"]["code"] == "expired"
    assert 1.5 <= waited < 10


def test_an_admin_approves_an_agents_call_while_it_waits(server_factory, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "old.bin").write_bytes(b"z" * 2048)
    server = server_factory(["--cache-dir", f"tmp={cache}", "--mcp-approval-wait", "20s"])
    agent = make_key(server, ["read", "containers"], "agent-ops")
    outcome = {}

    def call():
        async def body(session, _):
            return await session.call_tool("clear_cache", {"cache": "tmp"})

        outcome["result"] = run(server, agent, body)

    caller = threading.Thread(target=call)
    caller.start()
    # The approval card is in the agent's conversation, where an admin finds it.
    pending, where = None, None
    deadline = time.monotonic() + 10
    while pending is None and time.monotonic() < deadline:
        for conversation in server.http("GET", "/api/v1/jarvis/conversations?all=true").json()["result"]["conversations"]:
            calls = server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["tool_calls"]
            pending = next((c for c in calls if c["state"] == "pending"), None)
            if pending:
                where = conversation
                break
        time.sleep(0.1)
    assert pending is not None and pending["name"] == "clear_cache" and json.loads(pending["arguments"]) == {"cache": "tmp"}
    assert (cache / "old.bin").exists(), "ran before approval"
    assert where["title"].startswith("MCP: ") and where["owner"].startswith("key:")
    r = server.http("POST", f"/api/v1/jarvis/conversations/{where['id']}/tool-calls/{pending['id']}/approve", headers=JSON)
    assert r.status == 202, r.body
    caller.join(timeout=20)
    result = outcome["result"]
    assert result.isError is False, result.content
    assert result_json(result)["result"]["removed_files"] == 1 and not (cache / "old.bin").exists()


def test_a_call_waiting_for_approval_does_not_hold_up_a_shutdown(server_factory):
    server = server_factory(["--mcp-approval-wait", "60s"])
    outcome = {}

    def call():
        async def body(session, _):
            return await session.call_tool("restart_container", {"container": "web"})

        outcome["result"] = run(server, server.key, body)

    caller = threading.Thread(target=call)
    caller.start()

    def pending():
        for conversation in server.http("GET", "/api/v1/jarvis/conversations").json()["result"]["conversations"]:
            calls = server.http("GET", f"/api/v1/jarvis/conversations/{conversation['id']}").json()["result"]["tool_calls"]
            if any(c["state"] == "pending" for c in calls):
                return True
        return False

    assert wait_until(pending, 10)
    started = time.monotonic()
    server.stop()
    caller.join(timeout=15)
    assert time.monotonic() - started < 8, "the waiting call held the shutdown up"
    result = outcome["result"]
    assert result.isError is True and result_json(result)["error"]["code"] == "expired"
    assert "shutting down" in result_json(result)["error"]["message"]
