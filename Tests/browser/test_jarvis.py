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
