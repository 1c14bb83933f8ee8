"""Static files from --web-dir: content types, ETag / If-None-Match, 404, and no path traversal."""

import pytest

from e2e_lib import raw_http

SECRET = "TOP-SECRET-OUTSIDE-WEB-DIR-7d1e"
INDEX = "<!doctype html><title>nebula e2e</title><p>index</p>\n"
JS = "console.log('nebula e2e');\n"
CSS = "body { color: #123456; }\n"


@pytest.fixture(scope="module")
def web_server(tmp_path_factory):
    from conftest import ServerFactory
    root = tmp_path_factory.mktemp("static")
    web = root / "web"
    (web / "sub").mkdir(parents=True)
    (web / "index.html").write_text(INDEX)
    (web / "app.js").write_text(JS)
    (web / "style.css").write_text(CSS)
    (web / "sub" / "page.html").write_text("<p>sub</p>\n")
    (root / "secret.txt").write_text(SECRET)
    f = ServerFactory(tmp_path_factory, "static")
    s = f(["--web-dir", str(web), "--telemetry-interval", "30s"])
    yield s
    f.stop_all()


def _ctype(r):
    return r.header("content-type", "").split(";")[0].strip().lower()


def test_root_serves_index(web_server):
    r = web_server.http("GET", "/", key=None)
    assert r.status == 200
    assert _ctype(r) == "text/html"
    assert r.body.decode() == INDEX
    r2 = web_server.http("GET", "/index.html", key=None)
    assert r2.status == 200 and r2.body.decode() == INDEX


def test_js_content_type(web_server):
    r = web_server.http("GET", "/app.js", key=None)
    assert r.status == 200 and r.body.decode() == JS
    assert _ctype(r) in ("text/javascript", "application/javascript"), r.headers


def test_css_content_type(web_server):
    r = web_server.http("GET", "/style.css", key=None)
    assert r.status == 200 and r.body.decode() == CSS
    assert _ctype(r) == "text/css", r.headers


def test_subdirectory_file(web_server):
    r = web_server.http("GET", "/sub/page.html", key=None)
    assert r.status == 200 and r.body == b"<p>sub</p>\n"


@pytest.mark.parametrize("path", ["/app.js", "/", "/style.css"])
def test_etag_and_304(web_server, path):
    r = web_server.http("GET", path, key=None)
    etag = r.header("etag")
    assert etag, f"no ETag on {path}: {r.headers}"
    again = web_server.http("GET", path, key=None)
    assert again.header("etag") == etag, "ETag not stable"
    r304 = web_server.http("GET", path, headers={"If-None-Match": etag}, key=None)
    assert r304.status == 304, r304.status
    assert r304.body == b""
    other = web_server.http("GET", path, headers={"If-None-Match": '"something-else"'}, key=None)
    assert other.status == 200 and len(other.body) > 0


def test_unknown_file_404(web_server):
    assert web_server.http("GET", "/nope.js", key=None).status == 404
    assert web_server.http("GET", "/sub/nope.html", key=None).status == 404


TRAVERSALS = [
    "/../secret.txt",
    "/../../secret.txt",
    "/sub/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/..%2fsecret.txt",
    "/..%2Fsecret.txt",
    "/sub/%2e%2e/%2e%2e/secret.txt",
    "/%252e%252e/secret.txt",
    "/..\\secret.txt",
    "/.%2e/secret.txt",
    "//../secret.txt",
    "/static/../../secret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_traversal(web_server, path):
    req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    r = raw_http(web_server.port, req)
    assert SECRET.encode() not in r.body, f"{path} escaped the web dir"
    assert r.status in (400, 403, 404), (path, r.status)


def test_no_traversal_to_repo_files_with_default_web_dir(server_factory):
    """Default --web-dir is the repo's web/; /../Package.swift must not be served."""
    s = server_factory(["--telemetry-interval", "30s"])
    for path in ["/../Package.swift", "/%2e%2e/Package.swift", "/..%2fPackage.swift", "/%2e%2e%2fPackage.swift",
                 "/../docs/protocol.md"]:
        req = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        r = raw_http(s.port, req)
        assert b"swift-tools-version" not in r.body and b"Nebula Command protocol" not in r.body, path
        assert r.status in (400, 403, 404), (path, r.status)


def test_pages_carry_a_strict_content_security_policy(server):
    page = server.http("GET", "/", key=None)
    assert page.status == 200
    csp = page.header("content-security-policy")
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.header("x-frame-options") == "DENY"
    assert page.header("x-content-type-options") == "nosniff"
    assert page.header("referrer-policy") == "no-referrer"
    api = server.http("GET", "/api/v1/channels")
    assert api.header("x-content-type-options") == "nosniff" and api.header("content-security-policy") is None
