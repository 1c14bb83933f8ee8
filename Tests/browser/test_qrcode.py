"""Checks web/js/qrcode.js by decoding what it draws with a real reader.

The module renders an <svg> in headless Chromium; each one is screenshotted and
decoded with zbarimg (Debian package zbar-tools), and the decoded bytes must
equal the UTF-8 input. Self-consistency would prove nothing about whether
phones can read the code, hence the independent decoder.

    pytest -p no:cacheprovider Tests/browser/test_qrcode.py -v

The test page is served with the same strict Content-Security-Policy as the
dashboard, so an encoder that needs inline styles would show up here.
Screenshots go to $NEBULA_SHOTS/qrcode (default /tmp/nebula-shots/qrcode).
"""

from __future__ import annotations

import functools
import random
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from harness import SHOTS as ALL_SHOTS
from harness import make_driver
from selenium.webdriver.common.by import By

WEB = Path(__file__).resolve().parents[2] / "web"
SHOTS = ALL_SHOTS / "qrcode"
ZBARIMG = shutil.which("zbarimg")

pytestmark = pytest.mark.skipif(
    ZBARIMG is None, reason="zbarimg not installed (apt-get install zbar-tools; scripts/install-deps.sh test does it)"
)

TEST_PAGE = "/__qrcode_test__.html"
CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HTML = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qrcode test</title></head>
<body><main id="out"></main></body></html>
"""

OTPAUTH = (
    "otpauth://totp/Nebula%20Command:alice?secret=JBSWY3DPEHPK3PXP"
    "&issuer=Nebula%20Command&algorithm=SHA1&digits=6&period=30"
)


def filler(n: int, seed: int) -> str:
    """Printable ASCII that looks like real data (no long repeats), reproducibly."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.:/?=&%"
    return "".join(rng.choice(alphabet) for _ in range(n))


# (id, text, ecc, expected version). Lengths lie above the previous version's
# byte capacity (ISO/IEC 18004 table 7), so each one also proves the
# smallest version is chosen as well as exercising that version's layout:
# v7+ carry version information, v10+ use 16-bit character counts, v25 has
# 22 alignment patterns and 21+ interleaved blocks, v40 is the largest.
CASES = [
    ("otpauth-M", OTPAUTH, "M", 7),
    ("otpauth-L", OTPAUTH, "L", 6),
    ("otpauth-H", OTPAUTH, "H", 10),
    ("hello-M", "hello", "M", 1),
    ("hello-L", "hello", "L", 1),
    ("utf8-M", "Grüße, 世界 ✓", "M", 2),
    ("utf8-Q", "Grüße, 世界 ✓", "Q", 2),
    ("v7-H", filler(60, 7), "H", 7),
    ("v7-Q", filler(80, 71), "Q", 7),
    ("v10-M", filler(200, 10), "M", 10),
    ("v10-L", filler(250, 101), "L", 10),
    ("300-bytes-M", filler(300, 300), "M", 13),
    ("v25-Q", filler(700, 25), "Q", 25),
    ("v25-H", filler(520, 251), "H", 25),
    ("v25-M", filler(980, 252), "M", 25),
    ("v40-L-full", filler(2953, 40), "L", 40),
]

# Largest byte-mode input for version 40 at each level (table 7).
V40_MAX = {"L": 2953, "M": 2331, "Q": 1663, "H": 1273}


# ---- static server --------------------------------------------------------------


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".svg": "image/svg+xml",
        ".css": "text/css",
    }

    def do_GET(self):  # noqa: N802 - http.server naming
        if self.path.split("?")[0] == TEST_PAGE:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE_HTML)))
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(PAGE_HTML)
            return
        super().do_GET()

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass


@pytest.fixture(scope="module")
def base_url():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(WEB)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---- browser --------------------------------------------------------------------


@pytest.fixture(scope="module")
def driver(base_url):
    # One CSS pixel a device pixel, and room for the largest code: the screenshots are decoded as they are.
    drv = make_driver({"width": 1600, "height": 1600}, emulate=False, extra_args=("--force-device-scale-factor=1",))
    drv.set_script_timeout(30)
    try:
        drv.get(base_url + TEST_PAGE)
        # WebDriver scripts are not subject to the page CSP, but the import()ed
        # module and everything it creates are; collect any violation.
        drv.execute_script(
            "window.__csp = [];"
            "document.addEventListener('securitypolicyviolation',"
            " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
        )
        yield drv
    finally:
        drv.quit()


RENDER = """
const [text, ecc, ppm, done] = arguments;
import("/js/qrcode.js").then((qr) => {
  const out = document.getElementById("out");
  out.replaceChildren();
  const svg = qr.qrSvgElement(text, { ecc, pixelsPerModule: ppm, title: "test code" });
  svg.id = "qr";
  out.append(svg);
  const path = svg.querySelectorAll("path");
  done({
    size: qr.qrMatrix(text, { ecc }).size,
    tag: svg.namespaceURI + " " + svg.localName,
    width: svg.getAttribute("width"),
    height: svg.getAttribute("height"),
    viewBox: svg.getAttribute("viewBox"),
    role: svg.getAttribute("role"),
    rendering: svg.getAttribute("shape-rendering"),
    title: svg.querySelector("title") && svg.querySelector("title").textContent,
    paths: path.length,
    styled: svg.querySelectorAll("[style]").length + (svg.hasAttribute("style") ? 1 : 0),
  });
}, (err) => done({ error: String(err && err.stack || err) }));
"""


def zbar_decode(png: Path) -> bytes:
    # --raw and -Sbinary: hand back the symbol's bytes untouched, so UTF-8 is
    # compared as bytes instead of through zbar's charset guessing. Only the
    # QR decoder is on, so a row of modules cannot be misread as a 1D barcode.
    proc = subprocess.run(
        [ZBARIMG, "--nodbus", "--raw", "-q", "-Sdisable", "-Sqrcode.enable", "-Sbinary", str(png)],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, f"zbarimg found no QR code in {png} (rc={proc.returncode}, {proc.stderr!r})"
    return proc.stdout


@pytest.mark.parametrize(("name", "text", "ecc", "version"), CASES, ids=[c[0] for c in CASES])
def test_decodes_with_zbar(driver, name, text, ecc, version):
    ppm = 6 if version < 30 else 4
    info = driver.execute_async_script(RENDER, text, ecc, ppm)
    assert "error" not in info, info.get("error")

    size = 17 + 4 * version
    assert info["size"] == size, f"expected version {version} ({size} modules), got {info['size']} modules"
    full = size + 2 * 4
    assert info["tag"] == "http://www.w3.org/2000/svg svg"
    assert info["viewBox"] == f"0 0 {full} {full}"
    assert info["width"] == info["height"] == str(full * ppm)
    assert info["role"] == "img"
    assert info["rendering"] == "crispEdges"
    assert info["title"] == "test code"
    assert info["paths"] == 1
    assert info["styled"] == 0

    SHOTS.mkdir(parents=True, exist_ok=True)
    png = SHOTS / f"{name}.png"
    png.write_bytes(driver.find_element(By.ID, "qr").screenshot_as_png)

    decoded = zbar_decode(png)
    expected = text.encode("utf-8")
    # zbarimg ends each symbol with a newline; the payloads here have none.
    assert decoded.rstrip(b"\n") == expected, f"decoded {decoded[:80]!r}..., expected {expected[:80]!r}..."
    assert driver.execute_script("return window.__csp") == []


def test_too_long_input_throws(driver):
    script = """
    const [limits, done] = arguments;
    import("/js/qrcode.js").then((qr) => {
      const out = {};
      for (const [ecc, max] of Object.entries(limits)) {
        const r = {};
        try { r.fits = qr.qrMatrix("a".repeat(max), { ecc }).size; } catch (e) { r.fits = "threw: " + e.message; }
        try { qr.qrMatrix("a".repeat(max + 1), { ecc }); r.over = "no error"; }
        catch (e) { r.over = (e instanceof Error) + " " + e.message; }
        try { qr.qrSvgElement("a".repeat(max + 1), { ecc }); r.svg = "no error"; }
        catch (e) { r.svg = (e instanceof Error) + " " + e.message; }
        out[ecc] = r;
      }
      // Two-byte characters count as two bytes.
      try { qr.qrMatrix("ü".repeat(1166)); out.utf8 = "no error"; } catch (e) { out.utf8 = e.message; }
      done(out);
    }, (err) => done({ error: String(err) }));
    """
    res = driver.execute_async_script(script, V40_MAX)
    assert "error" not in res, res["error"]
    for ecc, r in ((k, res[k]) for k in V40_MAX):
        assert r["fits"] == 177, f"{ecc}: {V40_MAX[ecc]} bytes should fit version 40, got {r['fits']}"
        for key in ("over", "svg"):
            assert r[key].startswith("true "), f"{ecc}: {r[key]}"
            assert "version 40" in r[key] and f"level {ecc}" in r[key], r[key]
    assert "version 40" in res["utf8"], res["utf8"]


def test_matrix_shape_and_fixed_patterns(driver):
    script = """
    const done = arguments[0];
    import("/js/qrcode.js").then((qr) => {
      const { size, modules } = qr.qrMatrix("hello");
      done({
        size,
        rows: modules.length,
        allBool: modules.every((r) => r.length === size && r.every((m) => typeof m === "boolean")),
        topLeft: modules.slice(0, 8).map((r) => r.slice(0, 8).map((m) => (m ? 1 : 0)).join("")),
        timing: modules[6].slice(8, size - 8).map((m) => (m ? 1 : 0)).join(""),
        darkModule: modules[size - 8][8],
        defaultLevel: JSON.stringify(qr.qrMatrix("hello", { ecc: "M" }).modules) === JSON.stringify(modules),
      });
    }, (err) => done({ error: String(err) }));
    """
    res = driver.execute_async_script(script)
    assert "error" not in res, res["error"]
    assert res["size"] == res["rows"] == 21
    assert res["allBool"]
    assert res["topLeft"] == [
        "11111110",
        "10000010",
        "10111010",
        "10111010",
        "10111010",
        "10000010",
        "11111110",
        "00000000",
    ]
    assert res["timing"] == "10101"
    assert res["darkModule"] is True
    assert res["defaultLevel"]
