"""The dashboard's Jarvis page (web/js/pages/jarvis.js, web/js/markdown.js) in headless Chromium, against
the real `nebula` binary and a scripted OpenAI-compatible provider (Tests/e2e/openai_stub.py).

    NEBULA_BIN=.build/debug/nebula pytest -p no:cacheprovider Tests/browser/test_jarvis.py -v

(Without NEBULA_BIN the checkout's .build/debug/nebula is used when it exists.)

One server for the module, signed in with its bootstrap key (`/#token=<key>`); every test starts a stub of
its own and points the provider chain at it (`PUT /api/v1/jarvis/providers`, a fresh provider name each
time so no circuit breaker carries over), then asks in the page like a person: New conversation, type,
Send. Screenshots go to $NEBULA_SHOTS (default /tmp/nebula-shots), named `jarvis-*.png`.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from harness import (
    VIEWPORTS,
    NebulaServer,
    displayed,
    fill,
    go,
    make_driver,
    no_sideways_scroll,
    print_console_errors,
    shot,
    submit_login,
    wait_for,
    wait_live,
    wait_shown,
)
from selenium.webdriver.common.by import By

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from openai_stub import OpenAIStub, Script  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
NEBULA_BIN = os.environ.get("NEBULA_BIN") or (
    str(REPO / ".build" / "debug" / "nebula") if (REPO / ".build" / "debug" / "nebula").exists() else None
)
pytestmark = pytest.mark.skipif(not NEBULA_BIN, reason="NEBULA_BIN is not set and .build/debug/nebula does not exist")

ANSWER = "[data-role=assistant]"
QUESTION = "[data-role=user]"
NAMES = itertools.count(1)


# ---- server, provider, browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    s = NebulaServer(NEBULA_BIN, "nebula-browser-jarvis-")
    try:
        yield s.start()
    finally:
        s.stop()


def call(server: NebulaServer, method: str, path: str, body=None) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"{server.url}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {server.key}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


@pytest.fixture
def stub(server):
    s = OpenAIStub().start()
    name = f"stub{next(NAMES)}"
    status, body = call(server, "PUT", "/api/v1/jarvis/providers", {"providers": [{"name": name, "base_url": s.base_url, "model": "m"}]})
    assert status == 200, body
    s.provider_name = name
    try:
        yield s
    finally:
        s.stop()


@contextmanager
def jarvis(server, viewport: str = "desktop"):
    """Chromium on the dashboard with the server's key, on the Jarvis page (reached from the nav)."""
    d = make_driver(VIEWPORTS[viewport])
    try:
        d.get(f"{server.url}/#token={server.key}")
        wait_live(d, 20)
        go(d, "jarvis")
        yield d
    finally:
        print_console_errors(d)
        d.quit()


# ---- page helpers ---------------------------------------------------------------------------------


def new_conversation(d) -> str:
    """New conversation from the list; returns its id (from the route)."""
    if not displayed(d, "#jarvis-new"):  # phone, with a conversation open: back to the list first
        d.find_element(By.CSS_SELECTOR, ".jv-back").click()
    wait_shown(d, "#jarvis-new").click()
    wait_for(d, lambda x: x.execute_script("return location.hash").startswith("#/jarvis/"), 10, "no conversation opened")
    wait_shown(d, "#jarvis-input")
    wait_for(d, lambda x: x.find_element(By.ID, "jarvis-live").text == "Live", 10, "the conversation's channel never went live")
    return d.execute_script("return decodeURIComponent(location.hash.slice('#/jarvis/'.length))")


def ask(d, text: str) -> None:
    fill(d, "#jarvis-input", text)
    d.find_element(By.ID, "jarvis-send").click()


def answer(d):
    """The last answer bubble's (state, text of its body)."""
    return d.execute_script(
        """const els = document.querySelectorAll(arguments[0]);
           const el = els[els.length - 1];
           return el ? [el.dataset.state, el.querySelector('.jv-body').innerText] : [null, ''];""",
        ANSWER,
    )


def wait_state(d, state: str, timeout: float = 20):
    wait_for(d, lambda x: answer(x)[0] == state, timeout, f"the answer never reached {state!r} (got {answer(d)})")
    return answer(d)[1]


def count(d, css: str) -> int:
    return len(d.find_elements(By.CSS_SELECTOR, css))


# ---- tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_an_answer_streams_in_with_provider_and_latency(server, stub, viewport):
    tokens = [f"token{n} " for n in range(30)]
    final = "".join(tokens).strip()
    stub.default = Script(tokens=tokens, delay=0.08)
    with jarvis(server, viewport) as d:
        conv = new_conversation(d)
        ask(d, "How are the disks?")
        # The question shows at once; the answer grows while it streams.
        wait_for(d, lambda x: count(x, QUESTION) == 1 and "How are the disks?" in x.find_element(By.CSS_SELECTOR, QUESTION).text, 5)
        wait_for(d, lambda x: answer(x)[0] == "streaming" and len(answer(x)[1]) >= len("token0 token1"), 10,
                 f"no partial answer while streaming: {answer(d)}")
        state, partial = answer(d)
        assert state == "streaming" and final.startswith(partial.strip()) and len(partial.strip()) < len(final), partial
        assert displayed(d, "#jarvis-stop"), "Stop is offered while the answer streams"
        shot(d, f"jarvis-streaming-{viewport}")
        text = wait_state(d, "complete")
        assert text.strip() == final
        assert not displayed(d, "#jarvis-stop") and d.find_element(By.ID, "jarvis-send").is_enabled()
        # Provider, model, latency and token count, small, under the answer.
        meta = d.find_element(By.CSS_SELECTOR, f"{ANSWER} .jv-meta")
        # (the model is the one the provider reports in its stream: the stub says "stub-model")
        assert d.find_element(By.CSS_SELECTOR, f"{ANSWER} .jv-provider").text == f"{stub.provider_name} · stub-model"
        assert "first token" in meta.text and "ms" in meta.text and "total" in meta.text, meta.text
        assert d.find_element(By.CSS_SELECTOR, f"{ANSWER} .jv-tokens").text == "30 tokens"
        assert float(meta.value_of_css_property("font-size").rstrip("px")) < 14
        # The stored conversation agrees.
        status, body = call(server, "GET", f"/api/v1/jarvis/conversations/{conv}")
        assert status == 200 and body["result"]["messages"][-1]["content"] == "".join(tokens)
        no_sideways_scroll(d, f"jarvis {viewport}")
        # The input stays reachable: inside the viewport and not covered (by the phone's tab bar).
        reachable = d.execute_script(
            """const el = document.getElementById('jarvis-input');
               const r = el.getBoundingClientRect();
               const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
               return r.top >= 0 && r.bottom <= window.innerHeight && (hit === el || el.contains(hit));"""
        )
        assert reachable, "the question box is off screen or covered"
        shot(d, f"jarvis-answer-{viewport}")
        if viewport == "desktop":
            # The conversation is in the list, marked as the open one.
            wait_for(d, lambda x: x.find_elements(By.CSS_SELECTOR, f'#jarvis-conversations li[data-id="{conv}"] a[aria-current="true"]'), 5)


def test_markdown_renders_safely(server, stub):
    text = (
        "## Disk report\n"
        "Here is **bold** and *italic* and `inline code`.\n\n"
        "```python\nprint('<b>hi</b>')\nx = 1\n```\n\n"
        "- first item\n- second item\n\n"
        "1. step one\n2. step two\n3. step three\n\n"
        "Hostile: <img src=x onerror=\"window.__pwned=1\"> and <script>window.__pwned=1</script>\n"
        "Links: [bad](javascript:window.__pwned=1) and [good](https://example.com/docs)\n"
    )
    tokens = [text[i:i + 7] for i in range(0, len(text), 7)]
    stub.default = Script(tokens=tokens, delay=0.01)
    with jarvis(server) as d:
        new_conversation(d)
        ask(d, "Show me some markdown")
        wait_state(d, "complete")
        body = f"{ANSWER} .jv-body"
        code = d.find_elements(By.CSS_SELECTOR, f"{body} pre > code")
        assert len(code) == 1 and code[0].text == "print('<b>hi</b>')\nx = 1", [c.text for c in code]
        assert d.find_element(By.CSS_SELECTOR, f"{body} .md-lang").text == "python"
        assert [li.text for li in d.find_elements(By.CSS_SELECTOR, f"{body} ul > li")] == ["first item", "second item"]
        assert [li.text for li in d.find_elements(By.CSS_SELECTOR, f"{body} ol > li")] == ["step one", "step two", "step three"]
        assert d.find_element(By.CSS_SELECTOR, f"{body} strong").text == "bold"
        assert d.find_element(By.CSS_SELECTOR, f"{body} em").text == "italic"
        assert d.find_element(By.CSS_SELECTOR, f"{body} p code").text == "inline code"
        assert d.find_element(By.CSS_SELECTOR, f"{body} .md-heading").text == "Disk report"
        # Hostile markup is text, not elements; nothing ran.
        assert d.execute_script("return typeof window.__pwned") == "undefined"
        assert count(d, f"{body} img") == 0 and count(d, f"{body} script") == 0
        shown = d.find_element(By.CSS_SELECTOR, body).text
        assert '<img src=x onerror="window.__pwned=1">' in shown, shown
        assert "<script>window.__pwned=1</script>" in shown, shown
        assert "<b>hi</b>" in shown
        # Only the https link is a link, opened safely; the javascript: one stays text.
        links = d.find_elements(By.CSS_SELECTOR, f"{body} a")
        assert [a.get_attribute("href") for a in links] == ["https://example.com/docs"]
        assert links[0].get_attribute("rel") == "noopener noreferrer" and links[0].get_attribute("target") == "_blank"
        assert "[bad](javascript:window.__pwned=1)" in shown
        shot(d, "jarvis-markdown")
        # The stored answer (a reload renders from the server's copy) is just as inert.
        d.refresh()
        wait_for(d, lambda x: answer(x)[0] == "complete", 20)
        assert count(d, f"{body} pre > code") == 1 and count(d, f"{body} img") == 0
        assert d.execute_script("return typeof window.__pwned") == "undefined"


def test_stop_cancels_the_answer_and_hangs_up_on_the_provider(server, stub):
    stub.default = Script(tokens=["Counting: ", "one ", "two ", "three"], delay=0.05, end="hang")
    with jarvis(server) as d:
        new_conversation(d)
        ask(d, "Count forever")
        wait_for(d, lambda x: "Counting: one two three" in answer(x)[1], 10, f"no text: {answer(d)}")
        assert answer(d)[0] == "streaming" and not stub.hangups
        stop = wait_shown(d, "#jarvis-stop")
        shot(d, "jarvis-stop-offered")
        stop.click()
        wait_state(d, "cancelled", 10)
        marker = wait_shown(d, f"{ANSWER} .jv-marker-cancelled")
        assert "stopped" in marker.text
        assert "Counting: one two three" in answer(d)[1], "the text so far stays"
        wait_for(d, lambda x: stub.hangups, 5, "the provider never saw the hang-up")
        assert not displayed(d, "#jarvis-stop") and d.find_element(By.ID, "jarvis-send").is_enabled()
        shot(d, "jarvis-stopped")


def test_reload_mid_answer_shows_the_whole_answer_once(server, stub):
    tokens = [f"w{n} " for n in range(60)]
    stub.default = Script(tokens=tokens, delay=0.08)
    with jarvis(server) as d:
        conv = new_conversation(d)
        ask(d, "Tell me a long story")
        wait_for(d, lambda x: answer(x)[0] == "streaming" and len(answer(x)[1]) > 30, 10, f"no partial answer: {answer(d)}")
        d.refresh()
        wait_live(d, 20)
        assert d.execute_script("return location.hash") == f"#/jarvis/{conv}"
        wait_shown(d, f"{ANSWER}")
        # Straight after the reload the answer is still running: the replay plus the live rest.
        wait_for(d, lambda x: answer(x)[0] == "streaming" and len(answer(x)[1]) > 30, 10, f"no replayed text: {answer(d)}")
        assert displayed(d, "#jarvis-stop")
        text = wait_state(d, "complete", 30)
        assert text.strip() == "".join(tokens).strip(), text
        assert count(d, ANSWER) == 1 and count(d, QUESTION) == 1
        # Each piece exactly once.
        words = text.split()
        assert words == [f"w{n}" for n in range(60)], words
        shot(d, "jarvis-after-reload")


def test_provider_dying_mid_answer_shows_an_error_marker(server, stub):
    stub.default = Script(tokens=["Partial ", "answer"], delay=0.05, end="die")
    with jarvis(server) as d:
        new_conversation(d)
        ask(d, "Go on")
        text = wait_state(d, "interrupted", 20)
        assert text.strip() == "Partial answer"
        marker = wait_shown(d, f"{ANSWER} .jv-marker-interrupted")
        assert marker.get_attribute("role") == "alert"
        assert "interrupted" in marker.text and stub.provider_name in marker.find_element(By.CSS_SELECTOR, ".jv-error-text").text, marker.text
        shot(d, "jarvis-interrupted")


def test_rename_and_delete_a_conversation(server, stub):
    stub.default = Script(tokens=["ok"])
    with jarvis(server) as d:
        conv = new_conversation(d)
        d.find_element(By.ID, "jarvis-rename").click()
        field = wait_shown(d, "dialog[open] input[name=title]")
        field.clear()
        field.send_keys("Disk questions")
        d.find_element(By.CSS_SELECTOR, "dialog[open] button[type=submit]").click()
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-conversation-title").text == "Disk questions", 5)
        row = f'#jarvis-conversations li[data-id="{conv}"]'
        wait_for(d, lambda x: "Disk questions" in x.find_element(By.CSS_SELECTOR, row).text, 5)
        assert call(server, "GET", f"/api/v1/jarvis/conversations/{conv}")[1]["result"]["title"] == "Disk questions"
        # Newest first: a second conversation goes above it.
        other = new_conversation(d)
        wait_for(d, lambda x: [li.get_attribute("data-id") for li in x.find_elements(By.CSS_SELECTOR, "#jarvis-conversations li")][:2] == [other, conv], 5)
        d.find_element(By.CSS_SELECTOR, f"{row} a").click()
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-conversation-title").text == "Disk questions", 5)
        # Delete asks first; Cancel keeps it.
        d.find_element(By.ID, "jarvis-delete").click()
        wait_shown(d, "dialog[open]")
        d.find_element(By.CSS_SELECTOR, "dialog[open] .btn-quiet").click()
        wait_for(d, lambda x: not x.find_elements(By.CSS_SELECTOR, "dialog[open]"), 5)
        assert call(server, "GET", f"/api/v1/jarvis/conversations/{conv}")[0] == 200
        d.find_element(By.ID, "jarvis-delete").click()
        wait_shown(d, "dialog[open]")
        shot(d, "jarvis-confirm-delete")
        d.find_element(By.CSS_SELECTOR, "dialog[open] .btn-danger").click()
        wait_for(d, lambda x: not x.find_elements(By.CSS_SELECTOR, row), 5, "the deleted conversation is still listed")
        assert d.execute_script("return location.hash") == "#/jarvis"
        assert call(server, "GET", f"/api/v1/jarvis/conversations/{conv}")[0] == 404
        time.sleep(0.2)
        assert count(d, f'#jarvis-conversations li[data-id="{other}"]') == 1


# ---- tools and approval (docs/protocol.md, "Tools and approval") --------------------------------------
#
# No Docker engine here: the tools used are dns_resolve (diagnose, `auto` by default; made to need approval
# with the tool policy) on "localhost". Page hooks (see the top of the tool-call code in jarvis.js): an
# entry is [data-tool-call="<id>"] with data-state, the card's buttons [data-action=approve|reject], the
# reason box .jv-call-reason, the refusal line .jv-tool-error; a bubble that only asked for tools has
# data-kind="tools".

DNS_CALL = [{"id": "call_1", "name": "dns_resolve", "arguments": '{"name":"localhost"}'}]
ENTRY = "[data-tool-call]"


@contextmanager
def tool_policy(server, policy: dict):
    status, body = call(server, "PUT", "/api/v1/jarvis/tools/policy", {"policy": policy})
    assert status == 200, body
    try:
        yield
    finally:
        status, body = call(server, "PUT", "/api/v1/jarvis/tools/policy", {"policy": {}})
        assert status == 200, body


def entries(d) -> list[dict]:
    """Every tool call entry on the page: id, state, state text, the answer bubble it is in, text."""
    return d.execute_script(
        """return Array.from(document.querySelectorAll('[data-tool-call]')).map((e) => ({
             id: e.dataset.toolCall, state: e.dataset.state,
             badge: (e.querySelector('.jv-call-state') || {}).textContent || '',
             answer: (e.closest('[data-role=assistant]') || {dataset: {}}).dataset.id || null,
             text: e.innerText}));"""
    )


def wait_entry(d, state: str, timeout: float = 20) -> dict:
    wait_for(d, lambda x: any(e["state"] == state for e in entries(x)), timeout,
             f"no tool call entry reached {state!r} (got {entries(d)})")
    return next(e for e in entries(d) if e["state"] == state)


def empty_bubbles(d) -> int:
    """Assistant bubbles that show nothing: no text and no tool call entries."""
    return d.execute_script(
        """return Array.from(document.querySelectorAll(arguments[0])).filter((el) =>
             !el.querySelector('.jv-body').innerText.trim() && !el.querySelector('[data-tool-call]')).length;""",
        ANSWER,
    )


def card_button(d, call_id: str, action: str):
    el = d.find_element(By.CSS_SELECTOR, f'[data-tool-call="{call_id}"] [data-action={action}]')
    # Above the sticky question box (and the phone's tab bar), then a real click.
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    return el


def ask_for_tools(d, stub, question: str, then: str, arguments: str = '{"name":"localhost"}', first=()) -> None:
    """The provider answers `question` with a dns_resolve call (after the text `first`, if any), then (2nd
    request) with `then`."""
    stub.scripts = [Script(tokens=first, tool_calls=[{**DNS_CALL[0], "arguments": arguments}]),
                    Script(tokens=[then[:6], then[6:]], delay=0.02)]
    stub.default = Script(tokens=["unexpected third request"])
    ask(d, question)


def test_auto_tool_call_shows_its_entry_and_the_next_answer(server, stub):
    with jarvis(server) as d:
        conv = new_conversation(d)
        ask_for_tools(d, stub, "Does localhost resolve?", "localhost is 127.0.0.1.")
        entry = wait_entry(d, "done")
        text = wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "localhost is 127.0.0.1." and answer(x)[1],
                        20, f"the answer after the tool never came: {answer(d)}")
        assert text.strip() == "localhost is 127.0.0.1."
        # Two answers: a compact one that asked for the tool (with the entry in it), then the words.
        bubbles = d.find_elements(By.CSS_SELECTOR, ANSWER)
        assert len(bubbles) == 2, [b.text for b in bubbles]
        assert bubbles[0].get_attribute("data-kind") == "tools" and bubbles[1].get_attribute("data-kind") is None
        assert "dns_resolve" in bubbles[0].find_element(By.CSS_SELECTOR, ".jv-body").text
        assert entry["answer"] == bubbles[0].get_attribute("data-id"), entry
        assert entry["badge"] == "done" and "dns_resolve" in entry["text"] and '"localhost"' in entry["text"], entry
        assert empty_bubbles(d) == 0
        assert not displayed(d, "[data-action=approve]") and not displayed(d, "[data-action=reject]")
        # The result is there, folded away; opened, it shows the address.
        details = d.find_element(By.CSS_SELECTOR, f'[data-tool-call="{entry["id"]}"] details.jv-call-result')
        assert details.get_attribute("open") is None
        details.find_element(By.CSS_SELECTOR, "summary").click()
        wait_for(d, lambda x: "127.0.0.1" in details.text, 5, f"no result shown: {details.text!r}")
        shot(d, "jarvis-tool-auto")
        assert len(stub.requests) == 2
        assert any(m.get("role") == "tool" for m in stub.requests[1]["body"]["messages"])
        # The stored conversation renders the same: no bubble for the "tool" message, the entry once.
        d.refresh()
        wait_live(d, 20)
        wait_for(d, lambda x: answer(x)[0] == "complete", 20)
        assert [e["state"] for e in entries(d)] == ["done"], entries(d)
        assert count(d, ANSWER) == 2 and count(d, QUESTION) == 1 and empty_bubbles(d) == 0
        assert answer(d)[1].strip() == "localhost is 127.0.0.1."
        assert '"ok"' not in d.find_element(By.ID, "jarvis-messages").text, "a tool message was shown as a bubble"
        status, body = call(server, "GET", f"/api/v1/jarvis/conversations/{conv}")
        assert status == 200 and [c["state"] for c in body["result"]["tool_calls"]] == ["done"]


def test_approval_card_approve_runs_the_tool(server, stub):
    with tool_policy(server, {"dns_resolve": "approval"}), jarvis(server) as d:
        new_conversation(d)
        ask_for_tools(d, stub, "Resolve localhost for me", "Approved and resolved.")
        entry = wait_entry(d, "pending")
        card = d.find_element(By.CSS_SELECTOR, f'[data-tool-call="{entry["id"]}"]')
        assert card.get_attribute("role") == "group" and card.get_attribute("aria-labelledby")
        label = d.find_element(By.ID, card.get_attribute("aria-labelledby")).get_attribute("textContent")
        assert "dns_resolve" in label and "Approval needed" in label, label
        assert entry["badge"] == "waiting for approval"
        assert "Resolve a host name" in card.find_element(By.CSS_SELECTOR, ".jv-call-desc").text
        assert card.find_element(By.CSS_SELECTOR, ".jv-call-args").text == '{\n  "name": "localhost"\n}'
        approve = card_button(d, entry["id"], "approve")
        reject = card_button(d, entry["id"], "reject")
        assert approve.tag_name == "button" and approve.get_attribute("aria-label") == "Approve dns_resolve"
        assert reject.tag_name == "button" and reject.get_attribute("aria-label") == "Reject dns_resolve"
        assert approve.is_enabled() and reject.is_enabled()
        assert empty_bubbles(d) == 0
        # Nothing runs while it waits.
        time.sleep(0.5)
        assert len(stub.requests) == 1 and entries(d)[0]["state"] == "pending"
        shot(d, "jarvis-tool-card")
        card_button(d, entry["id"], "approve").click()
        wait_entry(d, "done")
        text = wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "Approved and resolved." and answer(x)[1],
                        20, f"the answer after the approval never came: {answer(d)}")
        assert text.strip() == "Approved and resolved."
        assert not displayed(d, "[data-action=approve]") and not displayed(d, "[data-action=reject]")
        assert not displayed(d, ".jv-tool-error")
        assert len(entries(d)) == 1 and count(d, ANSWER) == 2 and empty_bubbles(d) == 0
        shot(d, "jarvis-tool-approved")


def test_reject_tells_the_model_and_the_answer_goes_on(server, stub):
    with tool_policy(server, {"dns_resolve": "approval"}), jarvis(server) as d:
        conv = new_conversation(d)
        ask_for_tools(d, stub, "Resolve localhost, maybe", "Fine, I will not look it up.")
        entry = wait_entry(d, "pending")
        fill(d, f'[data-tool-call="{entry["id"]}"] .jv-call-reason', "not now")
        card_button(d, entry["id"], "reject").click()
        rejected = wait_entry(d, "rejected")
        assert rejected["badge"] == "rejected" and "not now" in rejected["text"], rejected  # the reason is shown
        wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "Fine, I will not look it up.", 20,
                 f"the answer after the rejection never came: {answer(d)}")
        assert not displayed(d, "[data-action=approve]") and not displayed(d, ".jv-tool-error")
        assert len(entries(d)) == 1 and empty_bubbles(d) == 0
        # The model was told: its 2nd request carries a tool message saying the call was rejected.
        assert len(stub.requests) == 2
        tool_msgs = [m for m in stub.requests[1]["body"]["messages"] if m.get("role") == "tool"]
        assert len(tool_msgs) == 1 and "rejected" in tool_msgs[0]["content"], tool_msgs
        assert tool_msgs[0].get("tool_call_id") == "call_1"
        shot(d, "jarvis-tool-rejected")
        # Deciding it again is refused with already_decided.
        status, body = call(server, "POST", f"/api/v1/jarvis/conversations/{conv}/tool-calls/{entry['id']}/approve", {})
        assert status == 409 and body["error"]["code"] == "already_decided", (status, body)


def test_reload_brings_the_pending_card_back(server, stub):
    with tool_policy(server, {"dns_resolve": "approval"}), jarvis(server) as d:
        conv = new_conversation(d)
        # This time the answer that asks for the tool says something first: the reload replays it (from its
        # stream position) and its text must not double.
        ask_for_tools(d, stub, "Resolve localhost after a reload", "Resolved after the reload.", first=["Let me ", "check."])
        entry = wait_entry(d, "pending")
        first = f'{ANSWER}[data-id="{entry["answer"]}"]'
        assert d.find_element(By.CSS_SELECTOR, f"{first} .jv-body").text == "Let me check."
        d.refresh()
        wait_live(d, 20)
        assert d.execute_script("return location.hash") == f"#/jarvis/{conv}"
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-live").text == "Live", 10)
        again = wait_entry(d, "pending")
        assert again["id"] == entry["id"] and len(entries(d)) == 1, entries(d)
        assert count(d, ANSWER) == 1 and count(d, QUESTION) == 1 and empty_bubbles(d) == 0
        time.sleep(0.5)  # the replayed publications have been applied
        assert d.find_element(By.CSS_SELECTOR, f"{first} .jv-body").text == "Let me check."
        assert d.find_element(By.CSS_SELECTOR, first).get_attribute("data-kind") is None  # it has words of its own
        assert d.find_element(By.CSS_SELECTOR, f'[data-tool-call="{entry["id"]}"] .jv-call-args').text == '{\n  "name": "localhost"\n}'
        card_button(d, entry["id"], "approve").click()
        wait_entry(d, "done")
        wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "Resolved after the reload.", 20,
                 f"the answer after the approval never came: {answer(d)}")
        # Nothing twice: one entry, two answers, the text once.
        time.sleep(0.5)
        assert len(entries(d)) == 1 and count(d, ANSWER) == 2 and count(d, QUESTION) == 1, entries(d)
        assert answer(d)[1].strip() == "Resolved after the reload."
        assert d.find_element(By.CSS_SELECTOR, f"{first} .jv-body").text == "Let me check."
        shot(d, "jarvis-tool-after-reload")


def test_approval_card_fits_a_phone(server, stub):
    long_name = "a-rather-long-host-name-that-does-not-exist-anywhere-" * 4 + "example.invalid"
    with tool_policy(server, {"dns_resolve": "approval"}), jarvis(server, "phone") as d:
        new_conversation(d)
        ask_for_tools(d, stub, "Resolve this long name", "Not resolved.", arguments=json.dumps({"name": long_name}))
        entry = wait_entry(d, "pending")
        card_sel = f'[data-tool-call="{entry["id"]}"]'
        card_button(d, entry["id"], "approve")  # scrolls it into view
        no_sideways_scroll(d, "jarvis approval card on a phone")
        # (With phone emulation, content wider than the screen widens the layout viewport itself, and
        # no_sideways_scroll compares with that: check the width is still the phone's.)
        width = VIEWPORTS["phone"]["width"]
        assert d.execute_script("return window.innerWidth") == width, "the page is wider than the phone"
        for css in (card_sel, f"{card_sel} .jv-call-args", f"{card_sel} [data-action=approve]", f"{card_sel} [data-action=reject]"):
            r = d.execute_script("const r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.left, r.right];", css)
            assert r[0] >= 0 and r[1] <= width, f"{css} sticks out: {r} (width {width})"
        assert long_name in d.find_element(By.CSS_SELECTOR, f"{card_sel} .jv-call-args").text
        # The whole argument is readable without scrolling the box sideways either: it wraps.
        sw, cw = d.execute_script("const e = document.querySelector(arguments[0]); return [e.scrollWidth, e.clientWidth];", f"{card_sel} .jv-call-args")
        assert sw <= cw, f"the arguments scroll sideways inside their box: scrollWidth {sw} > clientWidth {cw}"
        shot(d, "jarvis-tool-card-phone")
        card_button(d, entry["id"], "reject").click()
        wait_entry(d, "rejected")
        wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "Not resolved.", 20)
        no_sideways_scroll(d, "jarvis after the rejection on a phone")


def test_approving_without_the_role_is_refused_on_the_card(server, stub):
    """A viewer's own conversation: restart_container needs the operator role, so it waits for approval; the
    viewer's Approve is refused (403, shown on the card, Approve disabled), Reject still works. The tool
    never runs, so no container engine is needed."""
    user, password = f"viewer{next(NAMES)}", "password1234"
    server.cli_create_user(user, "viewer", password, timeout=60)
    stub.scripts = [Script(tool_calls=[{"id": "call_1", "name": "restart_container", "arguments": '{"container":"web"}'}]),
                    Script(tokens=["OK, ", "left alone."])]
    stub.default = Script(tokens=["unexpected third request"])
    d = make_driver(VIEWPORTS["desktop"])
    try:
        d.get(f"{server.url}/")
        submit_login(d, user, password, timeout=15)
        wait_live(d, 20)
        go(d, "jarvis")
        new_conversation(d)
        ask(d, "Restart web")
        entry = wait_entry(d, "pending")
        card = f'[data-tool-call="{entry["id"]}"]'
        assert "Needs the operator role." in d.find_element(By.CSS_SELECTOR, f"{card} .jv-call-role").text
        assert d.find_element(By.CSS_SELECTOR, f"{card} .jv-call-args").text == '{\n  "container": "web"\n}'
        assert not displayed(d, f"{card} .jv-tool-error")
        card_button(d, entry["id"], "approve").click()
        error = wait_shown(d, f"{card} .jv-tool-error")
        wait_for(d, lambda x: "operator" in error.text, 5, f"no readable refusal: {error.text!r}")
        assert error.get_attribute("role") == "alert" and error.text.startswith("Not allowed"), error.text
        assert "restart_container" in error.text, error.text
        assert entries(d)[0]["state"] == "pending"
        approve = d.find_element(By.CSS_SELECTOR, f"{card} [data-action=approve]")
        reject = d.find_element(By.CSS_SELECTOR, f"{card} [data-action=reject]")
        assert not approve.is_enabled() and reject.is_enabled()
        assert reject.get_attribute("aria-describedby") == error.get_attribute("id")
        assert count(d, "dialog[open]") == 0 and d.execute_script("return document.querySelectorAll('.form-error:not([hidden])').length") == 0
        shot(d, "jarvis-tool-forbidden")
        card_button(d, entry["id"], "reject").click()
        wait_entry(d, "rejected")
        wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "OK, left alone.", 20,
                 f"the answer after the rejection never came: {answer(d)}")
        assert not displayed(d, f"{card} .jv-tool-error"), "the refusal is stale once the call is rejected"
        assert len(stub.requests) == 2
    finally:
        print_console_errors(d)
        d.quit()


def test_a_call_decided_elsewhere_shows_already_decided(server, stub):
    with tool_policy(server, {"dns_resolve": "approval"}), jarvis(server) as d:
        conv = new_conversation(d)
        ask_for_tools(d, stub, "Resolve localhost twice", "Resolved once.")
        entry = wait_entry(d, "pending")
        card = f'[data-tool-call="{entry["id"]}"]'
        card_button(d, entry["id"], "approve")
        # Someone else approves first; in the same task (so no channel event can come in between) the page's
        # Approve is clicked: its request gets 409 already_decided.
        status = d.execute_script(
            """const x = new XMLHttpRequest();
               x.open('POST', arguments[0], false);
               x.setRequestHeader('Authorization', 'Bearer ' + arguments[1]);
               x.setRequestHeader('Content-Type', 'application/json');
               x.send('{}');
               document.querySelector(arguments[2]).click();
               return x.status;""",
            f"/api/v1/jarvis/conversations/{conv}/tool-calls/{entry['id']}/approve", server.key, f"{card} [data-action=approve]",
        )
        assert status == 202
        error = wait_shown(d, f"{card} .jv-tool-error")
        assert "Already decided" in error.text and error.get_attribute("role") == "alert", error.text
        wait_entry(d, "done")
        wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "Resolved once.", 20,
                 f"the answer after the approval never came: {answer(d)}")
        assert not displayed(d, f"{card} [data-action=approve]") and not displayed(d, f"{card} [data-action=reject]")
        assert len(entries(d)) == 1 and count(d, ANSWER) == 2 and count(d, "dialog[open]") == 0
        assert len(stub.requests) == 2, "the tool ran once, the model was asked once more"
        shot(d, "jarvis-tool-already-decided")
