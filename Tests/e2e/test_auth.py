"""Credentials: refused with 401 *before* the upgrade; Bearer header and ?token= both work."""

import json

import pytest

from e2e_lib import API_KEY, RawWS


def _assert_unauthorized_body(resp):
    body = json.loads(resp.body.decode())
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == "unauthorized", body
    assert isinstance(body["error"]["message"], str), body


@pytest.mark.parametrize("how", ["none", "wrong-bearer", "wrong-token", "empty-bearer", "basic-scheme"])
def test_ws_refused_before_upgrade(shared_server, how):
    if how == "none":
        raw = RawWS(shared_server.port, key=None)
    elif how == "wrong-bearer":
        raw = RawWS(shared_server.port, key="not-" + API_KEY)
    elif how == "wrong-token":
        raw = RawWS(shared_server.port, key="not-" + API_KEY, auth="query")
    elif how == "empty-bearer":
        raw = RawWS(shared_server.port, key=None, headers={"Authorization": "Bearer "})
    else:
        raw = RawWS(shared_server.port, key=None, headers={"Authorization": f"Basic {API_KEY}"})
    with raw:
        resp = raw.handshake()
        assert resp.status == 401, (resp.status, resp.headers, resp.body)
        assert "sec-websocket-accept" not in resp.headers
        _assert_unauthorized_body(resp)


def test_bearer_header_works(shared_server):
    with RawWS(shared_server.port, key=API_KEY, auth="bearer").connect() as raw:
        raw.send_json({"id": 1, "op": "ping"})
        assert raw.recv_json() == {"id": 1, "result": {}}


def test_query_token_works(shared_server):
    with RawWS(shared_server.port, key=API_KEY, auth="query").connect() as raw:
        raw.send_json({"id": 1, "op": "ping"})
        assert raw.recv_json() == {"id": 1, "result": {}}


def test_query_token_with_websockets_client(shared_server):
    from websockets.sync.client import connect
    with connect(shared_server.ws_url(token=API_KEY), compression=None, open_timeout=5) as ws:
        ws.send(json.dumps({"id": 7, "op": "ping"}))
        assert json.loads(ws.recv(timeout=5)) == {"id": 7, "result": {}}


def test_websockets_client_sees_401(shared_server):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect
    with pytest.raises(InvalidStatus) as ei:
        connect(shared_server.ws_url(), additional_headers={"Authorization": "Bearer nope"},
                compression=None, open_timeout=5)
    assert ei.value.response.status_code == 401


def test_plain_get_ws_is_426(shared_server):
    r = shared_server.http("GET", "/ws")
    assert r.status == 426, (r.status, r.body)


@pytest.mark.parametrize("method,path,body", [
    ("POST", "/api/v1/publish", {"channel": "app.auth", "data": 1}),
    ("GET", "/api/v1/channels", None),
])
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_http_api_requires_key(shared_server, method, path, body, key):
    r = shared_server.http(method, path, body=body, key=key)
    assert r.status == 401, (r.status, r.body)
    _assert_unauthorized_body(r)


def test_http_api_accepts_key(shared_server):
    r = shared_server.http("GET", "/api/v1/channels")
    assert r.status == 200, (r.status, r.body)
    r = shared_server.http("POST", f"/api/v1/publish?token={API_KEY}", body={"channel": "app.auth", "data": 1},
                           key=None)
    assert r.status == 200, (r.status, r.body)


def test_wrong_key_not_accepted_as_prefix(shared_server):
    for key in (API_KEY[:-1], API_KEY + "x", API_KEY.upper()):
        with RawWS(shared_server.port, key=key) as raw:
            assert raw.handshake().status == 401, key
