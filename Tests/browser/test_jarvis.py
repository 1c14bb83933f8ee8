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

import http.server
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
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
    sign_in_and_go,
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
def jarvis(server, viewport: str = "desktop", init_script: str | None = None):
    """Chromium on the dashboard with the server's key, on the Jarvis page (reached from the nav).
    `init_script` runs in every document before the page's own scripts (to take away or fake browser APIs)."""
    d = make_driver(VIEWPORTS[viewport])
    try:
        if init_script:
            d.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": init_script})
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
        sign_in_and_go(d, server.url, user, password, "jarvis")
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


# ---- one question, several answers: Stop between two answers -------------------------------------------


@contextmanager
def slow_http(delay: float = 20):
    """A local HTTP server whose every GET is answered only after `delay` seconds (or at the end of the
    block); yields (url, times at which requests came in)."""
    release = threading.Event()
    hits: list[float] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(time.monotonic())
            release.wait(delay)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the caller gave up (the tool was stopped)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/slow", hits
    finally:
        release.set()
        srv.shutdown()
        srv.server_close()


def composer_busy(d) -> tuple[bool, bool]:
    """(Stop shown, Send enabled)."""
    return displayed(d, "#jarvis-stop"), d.find_element(By.ID, "jarvis-send").is_enabled()


def test_stop_while_a_tool_runs_between_two_answers(server, stub):
    """The first answer only asks for http_check on a server that answers after 20 s: while the tool runs the
    question is still being answered (Stop shown, Send disabled, also after a reload); Stop stops the tool
    (failed, "cancelled"), no next answer starts, and Send is back."""
    with slow_http(20) as (url, hits), jarvis(server) as d:
        conv = new_conversation(d)
        stub.scripts = [Script(tool_calls=[{"id": "call_1", "name": "http_check", "arguments": json.dumps({"url": url, "timeout_ms": 30000})}])]
        stub.default = Script(tokens=["unexpected second request"])
        ask(d, "Is the slow service up?")
        entry = wait_entry(d, "running")
        wait_for(d, lambda x: hits, 10, "the tool never reached the slow server")
        assert answer(d)[0] == "complete", "the answer that asked for the tool has ended"
        assert composer_busy(d) == (True, False), "while the tool runs: Stop shown, Send disabled"
        status, body = call(server, "GET", f"/api/v1/jarvis/conversations/{conv}")
        assert status == 200 and body["result"]["answering"] is True, body
        time.sleep(2)  # the page asks the server now and then (every 1.5 s): still answering
        assert composer_busy(d) == (True, False), "Send came back while the tool still runs"
        assert entries(d)[0]["state"] == "running"
        shot(d, "jarvis-tool-running-stop")
        # A reload knows it too (from `answering`).
        d.refresh()
        wait_live(d, 20)
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-live").text == "Live", 10)
        again = wait_entry(d, "running")
        assert again["id"] == entry["id"]
        wait_for(d, lambda x: composer_busy(x) == (True, False), 5, f"after a reload: {composer_busy(d)}")
        started = time.monotonic()
        d.find_element(By.ID, "jarvis-stop").click()
        failed = wait_entry(d, "failed", 10)
        assert failed["id"] == entry["id"] and "cancelled" in failed["text"], failed
        assert time.monotonic() - started < 10 and time.monotonic() - hits[0] < 20, "the tool was stopped, not waited for"
        wait_for(d, lambda x: composer_busy(x) == (False, True), 10, f"Stop/Send after stopping: {composer_busy(d)}")
        time.sleep(1)
        assert len(stub.requests) == 1, "a next answer started after Stop"
        assert count(d, ANSWER) == 1 and not displayed(d, ".jv-thinking")
        status, body = call(server, "GET", f"/api/v1/jarvis/conversations/{conv}")
        calls = body["result"]["tool_calls"]
        assert body["result"]["answering"] is False and [c["state"] for c in calls] == ["failed"], body
        assert calls[0]["result"]["error"]["code"] == "cancelled", calls[0]
        shot(d, "jarvis-tool-stopped")
        # The conversation goes on.
        stub.default = Script(tokens=["Never ", "mind then."])
        ask(d, "Never mind")
        wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "Never mind then.", 20, f"no answer: {answer(d)}")
        assert composer_busy(d) == (False, True)


def test_send_waits_between_answers_and_comes_back_for_a_pending_call(server, stub):
    """An auto tool then the next answer: Send stays disabled from the question to the last answer; a call
    waiting for approval settles the question (Send available: asking again is allowed)."""
    with jarvis(server) as d:
        new_conversation(d)
        stub.scripts = [Script(tool_calls=DNS_CALL), Script(tokens=["Resolved", "."], first_delay=1.5)]
        stub.default = Script(tokens=["unexpected"])
        # Watch the Send button from the page itself: was it ever enabled before the last answer ended?
        d.execute_script(
            """window.__sendSeen = [];
               const send = document.getElementById('jarvis-send');
               new MutationObserver(() => window.__sendSeen.push([send.disabled, document.getElementById('jarvis-stop').hidden,
                   document.querySelectorAll('[data-role=assistant][data-state=complete]').length]))
                 .observe(send, {attributes: true});"""
        )
        ask(d, "Does localhost resolve?")
        wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "Resolved.", 20, f"no last answer: {answer(d)}")
        wait_for(d, lambda x: composer_busy(x) == (False, True), 5)
        seen = d.execute_script("return window.__sendSeen")
        # Enabled (disabled == False) only once both answers are complete.
        early = [s for s in seen if s[0] is False and s[2] < 2]
        assert not early, f"Send was enabled between the two answers: {seen}"
    with tool_policy(server, {"dns_resolve": "approval"}), jarvis(server) as d:
        new_conversation(d)
        ask_for_tools(d, stub, "Resolve localhost, with approval", "Approved.")
        wait_entry(d, "pending")
        wait_for(d, lambda x: composer_busy(x) == (False, True), 5, f"a pending call settles the question: {composer_busy(d)}")


# ---- conversations the server keeps: maintenance, MCP ----------------------------------------------------


@pytest.fixture
def maintenance_server():
    """A server of its own that looks for maintenance every second, with a log directory holding a sparse
    101 MiB app.log (over the 100 MiB threshold)."""
    logs = Path(tempfile.mkdtemp(prefix="nebula-browser-logs-"))
    with (logs / "app.log").open("wb") as f:
        f.truncate(101 << 20)
    s = NebulaServer(NEBULA_BIN, "nebula-browser-jarvis-maintenance-")
    s.logs = logs
    try:
        yield s.start("--maintenance-interval", "1s", "--log-dir", f"app={logs}")
    finally:
        s.stop()
        shutil.rmtree(logs, ignore_errors=True)


def poll(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        assert time.monotonic() < deadline, message
        time.sleep(0.25)


def test_an_admin_approves_a_maintenance_suggestion(maintenance_server):
    s = maintenance_server

    def pending_rotation():
        status, body = call(s, "GET", "/api/v1/jarvis/conversations/maintenance")
        if status != 200:
            return None
        return [c for c in body["result"]["tool_calls"] if c["name"] == "rotate_log" and c["state"] == "pending"]

    suggested = poll(pending_rotation, 30, "no rotate_log suggestion from the maintenance advisor")[0]
    assert json.loads(suggested["arguments"]) == {"directory": "app", "file": "app.log"}
    user, password = f"admin{next(NAMES)}", "password1234"
    s.cli_create_user(user, "admin", password, timeout=60)
    d = make_driver(VIEWPORTS["desktop"])
    try:
        sign_in_and_go(d, s.url, user, password, "jarvis")
        row = '#jarvis-conversations li[data-id="maintenance"]'
        wait_shown(d, row)
        assert "Maintenance suggestions" in d.find_element(By.CSS_SELECTOR, f"{row} .jv-conv-title").text
        label = d.find_element(By.CSS_SELECTOR, f"{row} .jv-conv-kind")
        assert label.is_displayed() and label.text.strip().lower() == "server", label.text
        shot(d, "jarvis-maintenance-list")
        d.find_element(By.CSS_SELECTOR, f"{row} a").click()
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-conversation-title").text == "Maintenance suggestions", 10)
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-live").text == "Live", 10)
        card = wait_entry(d, "pending")
        assert card["id"] == str(suggested["id"]), (card, suggested)
        bubble = d.find_element(By.CSS_SELECTOR, f'{ANSWER}[data-id="{card["answer"]}"] .jv-body')
        assert "app.log" in bubble.text and "101.0 MiB" in bubble.text and "Rotating it" in bubble.text, bubble.text
        assert "rotate_log" in card["text"] and card["badge"] == "waiting for approval"
        # No question box here, a line saying why instead.
        assert not displayed(d, "#jarvis-input") and not displayed(d, "#jarvis-send") and not displayed(d, "#jarvis-stop")
        note = wait_shown(d, "#jarvis-composer-note")
        assert "conversation of your own" in note.text, note.text
        assert empty_bubbles(d) == 0
        shot(d, "jarvis-maintenance-card")
        card_button(d, card["id"], "approve").click()
        done = wait_for(d, lambda x: next((e for e in entries(x) if e["id"] == card["id"] and e["state"] == "done"), None), 30,
                        f"the rotation never finished: {entries(d)}")
        assert "rotate_log" in done["text"]
        assert (s.logs / "app.log").stat().st_size == 0, "app.log was not emptied"
        assert (s.logs / "app.log.1").exists() and (s.logs / "app.log.1").stat().st_size == 101 << 20
        # Nothing asks a model to go on here: no new answer after the decision.
        time.sleep(1)
        assert not displayed(d, ".jv-thinking")
        shot(d, "jarvis-maintenance-approved")
        no_sideways_scroll(d, "maintenance conversation")
    finally:
        print_console_errors(d)
        d.quit()


def mcp_call(server, rid: int, name: str, arguments: dict, timeout: float = 90) -> dict:
    """A JSON-RPC tools/call on /mcp with the server's key (the admin key stands for an outside agent)."""
    body = {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    req = urllib.request.Request(
        f"{server.url}/mcp",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {server.key}", "Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def test_an_outside_agents_calls_show_in_its_conversation(server):
    first = mcp_call(server, 1, "dns_resolve", {"name": "localhost"})
    assert first["result"]["isError"] is False, first
    status, body = call(server, "GET", "/api/v1/jarvis/conversations")
    conv = next(c for c in body["result"]["conversations"] if c["id"].startswith("mcp-"))
    assert conv["title"].startswith("MCP: "), conv
    with tool_policy(server, {"dns_resolve": "approval"}), jarvis(server) as d:
        row = f'#jarvis-conversations li[data-id="{conv["id"]}"]'
        wait_shown(d, row)
        assert d.find_element(By.CSS_SELECTOR, f"{row} .jv-conv-kind").text.strip().lower() == "agent"
        d.find_element(By.CSS_SELECTOR, f"{row} a").click()
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-conversation-title").text == conv["title"], 10)
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-live").text == "Live", 10)
        done = wait_entry(d, "done")
        # A call of no answer: an entry of its own at the end, saying who asked.
        assert done["answer"] is None and count(d, ANSWER) == 0 and empty_bubbles(d) == 0, done
        assert count(d, f'#jarvis-agent-calls [data-tool-call="{done["id"]}"]') == 1
        assert "dns_resolve" in done["text"] and "Requested by" in done["text"], done
        assert not displayed(d, "#jarvis-input") and "MCP" in wait_shown(d, "#jarvis-composer-note").text
        assert not displayed(d, ".jv-intro")
        # The agent calls again, now under approval: the call waits, its card shows up live, after the first.
        reply: dict = {}
        t = threading.Thread(target=lambda: reply.update(mcp_call(server, 2, "dns_resolve", {"name": "localhost"})), daemon=True)
        t.start()
        pending = wait_entry(d, "pending")
        assert pending["answer"] is None
        assert [e["id"] for e in entries(d)] == [done["id"], pending["id"]], entries(d)
        shot(d, "jarvis-mcp-card")
        card_button(d, pending["id"], "approve").click()
        wait_for(d, lambda x: [e["state"] for e in entries(x)] == ["done", "done"], 20, f"not approved: {entries(d)}")
        t.join(20)
        assert reply.get("result", {}).get("isError") is False, reply
        assert count(d, ANSWER) == 0 and not displayed(d, "#jarvis-stop")
        no_sideways_scroll(d, "MCP conversation")


# ---- voice (optional browser APIs) ---------------------------------------------------------------------

NO_VOICE = """
for (const name of ['SpeechRecognition', 'webkitSpeechRecognition', 'SpeechSynthesisUtterance', 'speechSynthesis']) {
  try { delete window[name]; } catch (e) {}
  try { delete Window.prototype[name]; } catch (e) {}
  try { Object.defineProperty(window, name, {value: undefined, configurable: true, writable: true}); } catch (e) {}
}
"""

FAKE_VOICE = """
window.__spoken = [];
class FakeUtterance { constructor(text) { this.text = text; } }
const synth = { speaking: false, speak(u) { window.__spoken.push(u.text); }, cancel() {} };
try { Object.defineProperty(window, 'speechSynthesis', {value: synth, configurable: true}); } catch (e) {}
window.SpeechSynthesisUtterance = FakeUtterance;
class FakeRecognition extends EventTarget {
  start() {
    setTimeout(() => {
      const ev = new Event('result');
      ev.results = [[{transcript: 'how full are the disks'}]];
      this.dispatchEvent(ev);
      this.dispatchEvent(new Event('end'));
    }, 50);
  }
  stop() { this.dispatchEvent(new Event('end')); }
  abort() { this.stop(); }
}
window.SpeechRecognition = FakeRecognition;
window.webkitSpeechRecognition = FakeRecognition;
"""


def test_without_voice_apis_the_page_works_and_shows_no_voice_buttons(server, stub):
    stub.default = Script(tokens=["All ", "fine."])
    with jarvis(server, "phone", init_script=NO_VOICE) as d:
        assert d.execute_script("return typeof window.webkitSpeechRecognition") == "undefined"
        new_conversation(d)
        assert count(d, "#jarvis-mic") == 0 or not displayed(d, "#jarvis-mic")
        assert count(d, "#jarvis-read-aloud") == 0 or not displayed(d, "#jarvis-read-aloud")
        ask(d, "Anything wrong?")
        wait_for(d, lambda x: answer(x)[0] == "complete" and answer(x)[1].strip() == "All fine.", 20, f"no answer: {answer(d)}")
        assert not displayed(d, ".jv-say")
        errors = [e for e in d.get_log("browser") if e.get("level") == "SEVERE" and "Uncaught" in e.get("message", "")]
        assert not errors, errors
        no_sideways_scroll(d, "jarvis without voice on a phone")


def test_voice_buttons_fill_the_question_and_read_answers_aloud(server, stub):
    """With (fake) speech APIs: the microphone fills the question box, "Read aloud" is a remembered
    toggle that speaks an answer once it ends. Real recognition and speech are not available headless."""
    stub.default = Script(tokens=["Disks ", "are ", "at ", "**40 %**."], delay=0.02)
    with jarvis(server, "phone", init_script=FAKE_VOICE) as d:
        new_conversation(d)
        mic = wait_shown(d, "#jarvis-mic")
        aloud = wait_shown(d, "#jarvis-read-aloud")
        assert mic.tag_name == "button" and aloud.tag_name == "button" and aloud.get_attribute("aria-pressed") == "false"
        no_sideways_scroll(d, "jarvis voice buttons on a phone")
        mic.click()
        wait_for(d, lambda x: x.find_element(By.ID, "jarvis-input").get_attribute("value") == "how full are the disks", 5)
        aloud.click()
        assert aloud.get_attribute("aria-pressed") == "true"
        shot(d, "jarvis-voice-phone")
        d.find_element(By.ID, "jarvis-send").click()
        wait_for(d, lambda x: answer(x)[0] == "complete", 20)
        spoken = wait_for(d, lambda x: x.execute_script("return window.__spoken"), 5, "nothing was read aloud")
        assert spoken == ["Disks are at 40 %."], spoken
        # Remembered across a reload; a finished answer shown again is not read again.
        d.refresh()
        wait_live(d, 20)
        wait_for(d, lambda x: answer(x)[0] == "complete", 20)
        assert wait_shown(d, "#jarvis-read-aloud").get_attribute("aria-pressed") == "true"
        time.sleep(0.5)
        assert d.execute_script("return window.__spoken") == []
        d.find_element(By.ID, "jarvis-read-aloud").click()
        assert d.find_element(By.ID, "jarvis-read-aloud").get_attribute("aria-pressed") == "false"
