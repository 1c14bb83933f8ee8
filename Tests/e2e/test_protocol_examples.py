"""Replays every ```ws-example block of docs/protocol.md against a fresh server, on a fresh connection.

`> ` lines are sent (verbatim as a text frame when they are not JSON), `< ` lines are expected, matched
structurally: "*" is any value, "$name" binds a value that must be equal everywhere in the block, and
objects must have exactly the documented keys. After a send, the `< ` lines that follow it are the frames
it must produce: replies (frames with an `id`) in the given order, publications in the given order, but a
reply and a publication may interleave either way (the doc allows it). After the last line, nothing else
may arrive (every command gets exactly one reply).
"""

import json

import pytest

from e2e_lib import Mismatch, load_examples, match

EXAMPLES = load_examples()


def test_protocol_md_has_examples():
    # The doc has 8 examples today (ping, publish, subscribe, recovery, stale epoch, unsubscribe, history,
    # bad input); if the parser finds fewer, it is broken, not the server.
    assert len(EXAMPLES) >= 8, [e.heading for e in EXAMPLES]
    for e in EXAMPLES:
        assert any(k == "send" for k, _ in e.steps) and any(k == "expect" for k, _ in e.steps), e


def _groups(steps):
    """[(sends, expects)]: consecutive sends followed by the expectations they produce."""
    groups, sends, expects = [], [], []
    for kind, value in steps:
        if kind == "send":
            if expects:
                groups.append((sends, expects))
                sends, expects = [], []
            sends.append(value)
        else:
            expects.append(value)
    if sends or expects:
        groups.append((sends, expects))
    return groups


def substitute(text, bindings):
    """In a JSON send line, replace "$name" strings by the value bound earlier in the block."""
    try:
        obj = json.loads(text)
    except ValueError:
        return text

    def sub(v):
        if isinstance(v, str) and v.startswith("$") and len(v) > 1:
            assert v in bindings, f"{v} is used in a send line before any reply bound it"
            return bindings[v]
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        return v

    new = sub(obj)
    return text if new == obj else json.dumps(new)


def _is_reply(obj):
    return isinstance(obj, dict) and "id" in obj


def replay(client, example):
    bindings: dict = {}
    transcript = []
    for sends, expects in _groups(example.steps):
        for text in sends:
            text = substitute(text, bindings)
            transcript.append(f"> {text}")
            client.send(text)  # verbatim, whether or not it is JSON
        want_replies = [e for e in expects if _is_reply(e)]
        want_pubs = [e for e in expects if not _is_reply(e)]
        while want_replies or want_pubs:
            try:
                got = client.recv_json(timeout=5)
            except TimeoutError:
                raise AssertionError("timed out; still expecting "
                                     f"{want_replies + want_pubs}\ntranscript:\n" + "\n".join(transcript))
            transcript.append(f"< {json.dumps(got)}")
            queue = want_replies if _is_reply(got) else want_pubs
            if not queue:
                raise AssertionError(f"unexpected frame {got!r}\ntranscript:\n" + "\n".join(transcript))
            try:
                match(queue.pop(0), got, bindings)
            except Mismatch as m:
                raise AssertionError(f"{m}\ntranscript:\n" + "\n".join(transcript)) from None
    # exactly one reply per command, nothing unexpected trailing
    try:
        extra = client.recv_json(timeout=0.5)
    except TimeoutError:
        return bindings
    raise AssertionError(f"unexpected extra frame {extra!r}\ntranscript:\n" + "\n".join(transcript))


@pytest.mark.parametrize("example", EXAMPLES,
                         ids=[f"{e.index}-line{e.line}-{e.heading.split()[0] if e.heading else 'x'}"
                              for e in EXAMPLES])
def test_ws_example(server, example):
    with server.ws() as c:
        replay(c, example)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if "$" in json.dumps(e.steps)][:1],
                         ids=lambda e: f"line{e.line}")
def test_binding_matcher_can_fail(example):
    """Self-check of the matcher: a "$name" bound to one value must reject a different one."""
    b: dict = {}
    match({"e": "$epoch"}, {"e": "a"}, b)
    with pytest.raises(Mismatch):
        match({"e": "$epoch"}, {"e": "b"}, b)
    with pytest.raises(Mismatch):
        match({"a": 1}, {"a": 1, "b": 2}, {})
    with pytest.raises(Mismatch):
        match({"a": 1}, {"a": True}, {})
