"""Accounts in the dashboard, end to end: the real `nebula` binary and headless Chromium.

    NEBULA_BIN=.build/debug/nebula pytest -p no:cacheprovider Tests/browser/test_accounts.py -v

Each module run starts its own server on a free port with a fresh data dir (plus a
second, brand-new one for the tests about the very first start and the lock-out,
which must not disturb the others). Accounts are created through the API with the
bootstrap admin key, through the dashboard, or with `nebula user create`.

Screenshots go to $NEBULA_SHOTS (default /tmp/nebula-shots).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import struct
import time
import urllib.error
import urllib.request

import pytest
from harness import (
    VIEWPORTS,
    NebulaServer,
    displayed,
    fill,
    go,
    indicator,
    make_driver,
    no_sideways_scroll,
    print_console_errors,
    shot,
    submit_login,
    text_of,
    wait_for,
    wait_live,
    wait_shown,
)
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

NEBULA_BIN = os.environ.get("NEBULA_BIN")
pytestmark = pytest.mark.skipif(
    not NEBULA_BIN,
    reason="NEBULA_BIN is not set: these tests drive the real nebula binary (scripts/test.sh sets it)",
)

ADMIN = "admin"
ADMIN_PW = "admin password 1234"
PW = "password1234"
NUMBER = re.compile(r"\d")


# ---- RFC 6238 ------------------------------------------------------------------------------


def totp(secret: str, at: float | None = None) -> str:
    """The 6-digit TOTP code (HMAC-SHA1, 30 s steps) of a base32 secret at a time."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_totp_matches_rfc_6238_vectors():
    # Appendix B of RFC 6238, SHA-1 seed "12345678901234567890", last 6 digits.
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, 59) == "287082"
    assert totp(secret, 1111111109) == "081804"
    assert totp(secret, 2000000000) == "279037"


# ---- the server ---------------------------------------------------------------------------


class Nebula(NebulaServer):
    """One `nebula serve` with its own data dir; talks HTTP for test setup."""

    def __init__(self) -> None:
        super().__init__(NEBULA_BIN, "nebula-accounts-")
        self.start()
        m = re.search(r"#setup=([A-Za-z0-9_-]+)", self.output())
        self.setup_token = m.group(1) if m else None

    def call(self, method: str, path: str, body=None, *, key: str | None = "admin", headers: dict | None = None):
        """(status, parsed JSON body, response headers); key="admin" means the bootstrap key."""
        h = {"Accept": "application/json", **(headers or {})}
        if key:
            h["Authorization"] = f"Bearer {self.key if key == 'admin' else key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                raw, status, rh = res.read(), res.status, res.headers
        except urllib.error.HTTPError as err:
            raw, status, rh = err.read(), err.code, err.headers
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, parsed, rh

    def create_user(self, username: str, role: str, password: str = PW) -> dict:
        status, body, _ = self.call("POST", "/api/v1/users", {"username": username, "password": password, "role": role})
        assert status == 201, (status, body)
        return body["result"]["user"]

    def session(self, username: str, password: str = PW) -> dict:
        """Sign in over HTTP: the headers a browser would send on state-changing requests."""
        status, body, headers = self.login(username, password)
        assert status == 200, (status, body)
        cookie = headers["Set-Cookie"].split(";")[0]
        return {"Cookie": cookie, "X-CSRF-Token": body["result"]["csrf_token"], "Origin": self.url}

    def enable_totp(self, username: str, password: str = PW) -> str:
        """Enrol a second factor for an account, as its owner would; returns the secret."""
        h = self.session(username, password)
        status, body, _ = self.call("POST", "/api/v1/account/totp/setup", {}, key=None, headers=h)
        assert status == 200, (status, body)
        secret = body["result"]["secret"]
        status, body, _ = self.call(
            "POST", "/api/v1/account/totp/enable", {"secret": secret, "code": totp(secret)}, key=None, headers=h
        )
        assert status == 200, (status, body)
        return secret

    def login(self, username: str, password: str = PW, code: str | None = None):
        body = {"username": username, "password": password}
        if code:
            body["totp"] = code
        return self.call("POST", "/api/v1/auth/login", body, key=None)


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def nebula():
    """A server whose first admin exists (created through the setup API)."""
    server = Nebula()
    try:
        assert server.setup_token, f"no #setup= link in the server output:\n{server.output()}"
        status, body, _ = server.call(
            "POST", "/api/v1/setup", {"token": server.setup_token, "username": ADMIN, "password": ADMIN_PW}, key=None
        )
        assert status == 201, (status, body)
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh():
    """A brand-new server: no accounts yet."""
    server = Nebula()
    try:
        yield server
    finally:
        server.stop()


def new_driver(kind: str = "desktop"):
    driver = make_driver(VIEWPORTS[kind])
    driver.viewport_name = kind
    # Headless Chromium draws the drifting star field (and every blurred panel above it) in
    # software, frame after frame; on a small CI box that starves the server's password
    # hashing and makes each sign-in take seconds. Nothing here is about motion.
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]}
    )
    return driver


@pytest.fixture
def browsers():
    """Open as many browsers as a test needs: browsers("desktop"), browsers("phone")."""
    opened = []

    def open_one(kind: str = "desktop"):
        driver = new_driver(kind)
        opened.append(driver)
        return driver

    yield open_one
    for d in opened:
        print_console_errors(d)
        d.quit()


@pytest.fixture(scope="module")
def admin_browser(nebula):
    driver = new_driver("desktop")
    try:
        yield driver
    finally:
        print_console_errors(driver)
        driver.quit()


@pytest.fixture
def admin(admin_browser, nebula):
    """The admin's browser (shared by the tests of this module), freshly loaded on the overview."""
    d = admin_browser
    d.get(f"{nebula.url}/#/")
    d.refresh()
    wait_for(d, lambda dr: indicator(dr) == "Live" or displayed(dr, "#login-form"), 15)
    if displayed(d, "#login-form"):
        submit_login(d, ADMIN, ADMIN_PW)
        wait_live(d)
    return d


# ---- page helpers ---------------------------------------------------------------------------


def wait_text(driver, css: str, needle: str, timeout: float = 10) -> str:
    try:
        wait_for(driver, lambda d: needle in text_of(d, css), timeout)
    except TimeoutException:
        pytest.fail(f"{needle!r} never appeared in {css} (it says {text_of(driver, css)!r})")
    return text_of(driver, css)


def sign_in(driver, server: Nebula, username: str, password: str = PW) -> None:
    driver.get(f"{server.url}/")
    submit_login(driver, username, password)
    wait_live(driver)


def signed_in_new_user(nebula: Nebula, browsers, prefix: str, role: str):
    """A new account with this role, signed in on a desktop browser of its own: (name, driver)."""
    name = unique(prefix)
    nebula.create_user(name, role)
    driver = browsers("desktop")
    sign_in(driver, nebula, name)
    return name, driver


def sign_out(driver) -> None:
    driver.find_element(By.ID, "sign-out").click()
    wait_shown(driver, "#login-form")


def confirm_dialog(driver, expect: str | None = None) -> None:
    dlg = wait_shown(driver, "dialog[open]")
    if expect:
        assert expect in dlg.text, dlg.text
    dlg.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"), 10, "the dialog stayed open")


def nav_labels(driver) -> list[str]:
    # The label only: the Alerts link may carry a count badge.
    return [a.find_element(By.CSS_SELECTOR, "span").text for a in driver.find_elements(By.CSS_SELECTOR, "#nav a") if a.is_displayed()]


def socket_url(driver) -> str:
    return driver.execute_script("const c = window.__nebula && window.__nebula.connection; return c && c.ws ? c.ws.url : ''")


# ---- tests ----------------------------------------------------------------------------------


def test_setup_link_creates_admin_and_goes_live(fresh, browsers):
    assert fresh.setup_token, f"no #setup= link in the server output:\n{fresh.output()}"
    assert fresh.call("GET", "/api/v1/setup", key=None)[1] == {"result": {"needed": True}}
    d = browsers("desktop")

    # Without the link: a page that says where the link comes from.
    d.get(f"{fresh.url}/")
    page = wait_shown(d, "#setup-needed")
    assert "setup link" in page.text and "nebula user create" in page.text

    d.get(f"{fresh.url}/#setup={fresh.setup_token}")
    wait_shown(d, "#setup-form")
    assert "setup=" not in d.current_url, "the setup token stayed in the address bar"
    assert d.switch_to.active_element.get_attribute("id") == "setup-username"
    fill(d, "#setup-username", "alice")
    fill(d, "#setup-password", "correct horse battery")
    fill(d, "#setup-confirm", "correct horse batteyr")
    d.find_element(By.CSS_SELECTOR, "#setup-form button[type=submit]").click()
    wait_text(d, "#setup-form [data-role=error]", "differ")
    shot(d, "accounts-setup-desktop")
    fill(d, "#setup-confirm", "correct horse battery")
    d.find_element(By.CSS_SELECTOR, "#setup-form button[type=submit]").click()

    wait_live(d)
    wait_for(d, lambda dr: NUMBER.search(text_of(dr, "#cpu-total")), 10, "no CPU number over the session socket")
    assert text_of(d, "#who-name") == "alice" and text_of(d, "#who-role").lower() == "admin"
    assert nav_labels(d) == ["Overview", "Containers", "Storage", "Alerts", "Jarvis", "Account", "Users", "Keys", "Audit"]
    url = socket_url(d)
    assert url.endswith("/ws") and "token" not in url, f"the session socket should carry no token: {url}"
    assert d.execute_script("return sessionStorage.getItem('nebula.apiKey')") is None
    assert fresh.call("GET", "/api/v1/setup", key=None)[1] == {"result": {"needed": False}}
    # The link worked once: the server refuses it now.
    status, body, _ = fresh.call(
        "POST", "/api/v1/setup", {"token": fresh.setup_token, "username": "mallory", "password": PW}, key=None
    )
    assert status in (401, 409), (status, body)

    # The cookie carries the session across a reload.
    d.refresh()
    wait_live(d)
    assert text_of(d, "#who-name") == "alice"
    time.sleep(1.5)  # let the sparklines gather a few points for the picture
    shot(d, "accounts-overview-desktop")


def test_lockout_shows_the_wait(fresh, browsers):
    status, _, _ = fresh.call(
        "POST", "/api/v1/setup", {"token": fresh.setup_token, "username": "owner", "password": PW}, key=None
    )
    assert status == 201
    d = browsers("desktop")
    d.get(f"{fresh.url}/")
    for _ in range(6):
        submit_login(d, "owner", "not the password")
        wait_for(d, lambda dr: text_of(dr, "#login-form [data-role=error]"), 10)
        if "Too many" in text_of(d, "#login-form [data-role=error]"):
            break
        d.execute_script("document.querySelector('#login-form [data-role=error]').hidden = true")
    message = text_of(d, "#login-form [data-role=error]")
    assert re.search(r"Too many failed attempts\. Try again in \d+ s", message), message
    button = d.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]")
    assert not button.is_enabled() and "wait" in button.text, button.text
    shot(d, "accounts-locked-out")


def test_logout_then_login_and_wrong_password(nebula, browsers):
    d = browsers("desktop")
    d.get(f"{nebula.url}/")
    wait_shown(d, "#login-form")
    assert d.switch_to.active_element.get_attribute("id") == "login-username"

    submit_login(d, ADMIN, "wrong password here")
    error = wait_text(d, "#login-form [data-role=error]", "Wrong username, password or code")
    assert d.find_element(By.ID, "login-password").get_attribute("aria-invalid") == "true"
    assert d.find_element(By.CSS_SELECTOR, "#login-form [data-role=error]").get_attribute("role") == "alert", error
    shot(d, "accounts-login-wrong-password")

    submit_login(d, ADMIN, ADMIN_PW)
    wait_live(d)
    assert "token" not in socket_url(d)

    sign_out(d)
    assert "signed out" in text_of(d, "#login-form [data-role=notice]")
    assert not displayed(d, "#page-overview") and not displayed(d, "#nav")
    # The session is gone on the server too: a reload lands on the login page.
    d.refresh()
    wait_shown(d, "#login-form")
    assert not displayed(d, "#page-overview")

    # The key form stays one link away, and an API key still works.
    d.find_element(By.CSS_SELECTOR, "#login-form [data-action=use-key]").click()
    wait_shown(d, "#key-form")
    fill(d, "#key-input", nebula.key)
    d.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()
    wait_live(d)
    assert displayed(d, "#change-key") and not displayed(d, "#sign-out")
    assert "token=" in socket_url(d)
    d.find_element(By.ID, "change-key").click()
    wait_shown(d, "#key-form")
    d.find_element(By.CSS_SELECTOR, "#key-form [data-action=use-account]").click()
    submit_login(d, ADMIN, ADMIN_PW)
    wait_live(d)

    # Keyboard: the navigation and the sign-out button are reachable and work.
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    seen = []
    for _ in range(12):  # past the page, then the nav links up to Account
        el = d.switch_to.active_element
        seen.append(el.get_attribute("id") or el.get_attribute("data-route") or el.tag_name)
        if el.get_attribute("data-route") == "account":
            outline = d.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", "keyboard focus must be visible"
            el.send_keys(Keys.ENTER)
            break
        el.send_keys(Keys.TAB)
    assert "overview" in seen and "account" in seen, seen
    wait_shown(d, "#page-account")
    # Focus follows to the new page's heading, for screen readers.
    assert d.switch_to.active_element.get_attribute("id") == "account-title"


def test_password_change_messages(nebula, browsers):
    name, d = signed_in_new_user(nebula, browsers, "pat", "viewer")
    go(d, "account")
    fill(d, "#password-form input[name=current]", "not my password")
    fill(d, "#password-form input[name=new]", "a brand new password")
    fill(d, "#password-form input[name=confirm]", "a brand new password")
    d.find_element(By.CSS_SELECTOR, "#password-form button[type=submit]").click()
    wait_text(d, "#password-form .form-error", "current password is wrong")

    fill(d, "#password-form input[name=current]", PW)
    fill(d, "#password-form input[name=new]", "short")
    fill(d, "#password-form input[name=confirm]", "short")
    d.find_element(By.CSS_SELECTOR, "#password-form button[type=submit]").click()
    wait_text(d, "#password-form .form-error", "at least 10 characters")

    fill(d, "#password-form input[name=new]", "a brand new password")
    fill(d, "#password-form input[name=confirm]", "a brand new password")
    d.find_element(By.CSS_SELECTOR, "#password-form button[type=submit]").click()
    wait_text(d, "#password-form .form-ok", "Password changed")
    assert nebula.login(name, PW)[0] == 401
    elsewhere = nebula.session(name, "a brand new password")
    assert nebula.call("GET", "/api/v1/auth/me", key=None, headers=elsewhere)[0] == 200

    # Sign out everywhere: this browser and the other session.
    d.find_element(By.ID, "sign-out-everywhere").click()
    confirm_dialog(d, expect="every session")
    wait_shown(d, "#login-form")
    assert "signed out everywhere" in text_of(d, "#login-form [data-role=notice]")
    assert nebula.call("GET", "/api/v1/auth/me", key=None, headers=elsewhere)[0] == 401


def test_two_factor_enrol_and_sign_in(nebula, browsers):
    name, d = signed_in_new_user(nebula, browsers, "tess", "operator")
    go(d, "account")
    assert text_of(d, "#totp-state") == "Off"
    d.find_element(By.ID, "totp-start").click()
    secret = re.sub(r"\s+", "", wait_shown(d, "#totp-secret").text)
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    wait_for(d, lambda dr: dr.find_elements(By.CSS_SELECTOR, "#totp-qr svg"), 10, "no QR code drawn")
    assert d.find_element(By.ID, "totp-enrol-code").get_attribute("inputmode") == "numeric"
    fill(d, "#totp-enrol-code", "123")
    d.find_element(By.CSS_SELECTOR, "#totp-enrol-form button[type=submit]").click()
    wait_text(d, "#totp-error", "6-digit")
    shot(d, "accounts-totp-enrol")
    fill(d, "#totp-enrol-code", totp(secret))
    d.find_element(By.CSS_SELECTOR, "#totp-enrol-form button[type=submit]").click()

    wait_shown(d, "#recovery-codes")
    codes = [c.text for c in d.find_elements(By.CSS_SELECTOR, "#recovery-codes code")]
    assert len(codes) == 10 and all(codes), codes
    assert "only this once" in text_of(d, "#page-account .callout")
    shot(d, "accounts-recovery-codes")
    d.find_element(By.ID, "codes-saved").click()
    wait_for(d, lambda dr: text_of(dr, "#totp-state") == "On", 5)
    assert not d.find_elements(By.CSS_SELECTOR, "#recovery-codes"), "the codes are shown once only"

    # New recovery codes need the password; the old ones stop working.
    d.find_element(By.XPATH, "//button[normalize-space()='New recovery codes']").click()
    dlg = wait_shown(d, "dialog[open]")
    dlg.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys("not my password")
    dlg.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(d, "dialog[open] .form-error", "password is wrong")
    fill(d, "dialog[open] input[name=password]", PW)
    d.find_element(By.CSS_SELECTOR, "dialog[open] button[type=submit]").click()
    wait_shown(d, "#recovery-codes")
    fresh_codes = [c.text for c in d.find_elements(By.CSS_SELECTOR, "#recovery-codes code")]
    assert len(fresh_codes) == 10 and not set(fresh_codes) & set(codes), fresh_codes
    d.find_element(By.ID, "codes-saved").click()
    codes = fresh_codes

    sign_out(d)
    submit_login(d, name, PW)
    code_input = wait_shown(d, "#totp-form #totp-code")
    assert code_input.get_attribute("inputmode") == "numeric"
    assert code_input.get_attribute("autocomplete") == "one-time-code"
    assert d.switch_to.active_element.get_attribute("id") == "totp-code"
    now_codes = {totp(secret, time.time() + k * 30) for k in (-1, 0, 1, 2)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in now_codes)
    code_input.send_keys(wrong)
    d.find_element(By.CSS_SELECTOR, "#totp-form button[type=submit]").click()
    wait_text(d, "#totp-form [data-role=error]", "Wrong username, password or code")
    shot(d, "accounts-totp-step")
    # The next step's code: within the accepted drift, and newer than the one used to enrol
    # (each code is accepted once).
    fill(d, "#totp-code", totp(secret, time.time() + 30))
    d.find_element(By.CSS_SELECTOR, "#totp-form button[type=submit]").click()
    wait_live(d)

    def recovery_login(code: str) -> None:
        submit_login(d, name, PW)
        wait_shown(d, "#totp-form")
        d.find_element(By.CSS_SELECTOR, "#totp-form [data-action=toggle-recovery]").click()
        wait_text(d, "#totp-form [data-role=label]", "Recovery code")
        fill(d, "#totp-code", code)
        d.find_element(By.CSS_SELECTOR, "#totp-form button[type=submit]").click()

    sign_out(d)
    recovery_login(codes[0])
    wait_live(d)
    sign_out(d)
    recovery_login(codes[0])
    wait_text(d, "#totp-form [data-role=error]", "Wrong username, password or code")
    fill(d, "#totp-code", codes[1])
    d.find_element(By.CSS_SELECTOR, "#totp-form button[type=submit]").click()
    wait_live(d)

    # Turning it off asks for the password too.
    go(d, "account")
    d.find_element(By.XPATH, "//button[normalize-space()='Turn off']").click()
    confirm = wait_shown(d, "dialog[open]")
    confirm.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(PW)
    confirm.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(d, lambda dr: text_of(dr, "#totp-state") == "Off", 10)
    assert nebula.login(name)[0] == 200, "without a second factor the password is enough again"


def test_viewer_reads_notices_operator_posts_them(nebula, admin, browsers):
    viewer, operator = unique("vicky"), unique("otto")
    go(admin, "users")
    fill(admin, "#new-user-name", viewer)
    fill(admin, "#new-user-password", PW)
    admin.find_element(By.CSS_SELECTOR, "#new-user-role option[value=viewer]").click()
    admin.find_element(By.CSS_SELECTOR, "#create-user-form button[type=submit]").click()
    wait_text(admin, "#create-user-form .form-ok", f"Created {viewer}")
    wait_shown(admin, f'#users-table tr[data-user="{viewer}"]')
    # The same name again: refused, and said so.
    fill(admin, "#new-user-name", viewer)
    fill(admin, "#new-user-password", PW)
    admin.find_element(By.CSS_SELECTOR, "#create-user-form button[type=submit]").click()
    wait_text(admin, "#create-user-form .form-error", "taken")
    nebula.cli_create_user(operator, "operator", PW)

    v = browsers("desktop")
    sign_in(v, nebula, viewer)
    assert nav_labels(v) == ["Overview", "Containers", "Storage", "Alerts", "Jarvis", "Account"], nav_labels(v)
    assert text_of(v, "#who-role").lower() == "viewer"
    v.get(f"{nebula.url}/#/users")  # no admin pages by URL either
    wait_for(v, lambda d: d.current_url.endswith("#/"), 5, "a viewer was not sent back to the overview")
    notice_input = v.find_element(By.CSS_SELECTOR, "#notices input[name=text]")
    post = v.find_element(By.CSS_SELECTOR, "#notices button[type=submit]")
    assert not notice_input.is_enabled() and not post.is_enabled()
    assert "Viewers can read notices but not post them" in text_of(v, "#notices")
    # Forced past the disabled form, the server still says no, and the page says why.
    v.execute_script(
        "document.querySelector('#notices input[name=text]').disabled = false;"
        "document.querySelector('#notices button[type=submit]').disabled = false;"
    )
    notice_input.send_keys("viewers should not be able to post this")
    post.click()
    wait_text(v, "#notices .form-error", "Not allowed")
    shot(v, "accounts-notices-viewer")

    # The same browser as an operator; the admin's dashboard watches.
    go(admin, "overview")
    sign_out(v)
    sign_in(v, nebula, operator)
    assert nav_labels(v) == ["Overview", "Containers", "Storage", "Alerts", "Jarvis", "Account"]
    text = f"Rebooting the NAS at 22:00 <b>{secrets.token_hex(2)}</b>"
    box = v.find_element(By.CSS_SELECTOR, "#notices input[name=text]")
    assert box.is_enabled()
    box.send_keys(text)
    v.find_element(By.CSS_SELECTOR, "#notices button[type=submit]").click()
    wait_text(v, "#notices .form-ok", "Posted")
    # It arrives live in the other open dashboard, as text (never as markup).
    wait_text(admin, "#notices .notice-list", text)
    first = admin.find_element(By.CSS_SELECTOR, "#notices .notice-list .notice")
    assert text in first.text and operator in first.text
    assert not admin.find_elements(By.CSS_SELECTOR, "#notices .notice-list b")
    admin.execute_script("document.getElementById('notices').scrollIntoView()")
    shot(admin, "accounts-notices-live")


def test_admin_creates_and_revokes_a_key(nebula, admin):
    d = admin
    go(d, "keys")
    name = unique("ci")
    fill(d, "#key-name", name)
    d.find_element(By.ID, "scope-publish-app").click()
    d.find_element(By.CSS_SELECTOR, "#create-key-form button[type=submit]").click()
    reveal = wait_shown(d, "#new-key")
    key = reveal.find_element(By.CSS_SELECTOR, "input.secret-input").get_attribute("value")
    assert key and "only this once" in reveal.text
    assert "Copy" in reveal.text
    shot(d, "accounts-key-created")
    row = wait_shown(d, f'#keys-table tr[data-name="{name}"]')
    assert "publish:app" in row.text and "read" in row.text
    # The key works, and is not on the page any more once dismissed.
    assert nebula.call("GET", "/api/v1/channels", key=key)[0] == 200
    reveal.find_element(By.XPATH, ".//button[contains(., 'Done')]").click()
    assert key not in d.page_source

    d.find_element(By.CSS_SELECTOR, f'#keys-table tr[data-name="{name}"] [data-action=revoke]').click()
    confirm_dialog(d, expect=name)
    wait_for(
        d,
        lambda dr: dr.find_element(By.CSS_SELECTOR, f'#keys-table tr[data-name="{name}"]').get_attribute("data-state") == "revoked",
        10,
    )
    assert nebula.call("GET", "/api/v1/channels", key=key)[0] == 401

    # An expiry date: the key ends with that (local) day.
    dated = unique("nightly")
    fill(d, "#key-name", dated)
    d.execute_script("document.getElementById('key-expires').value = arguments[0]", "2031-01-15")
    d.find_element(By.CSS_SELECTOR, "#create-key-form button[type=submit]").click()
    wait_shown(d, "#new-key")
    row = wait_shown(d, f'#keys-table tr[data-name="{dated}"]')
    assert "2031" in row.find_element(By.CSS_SELECTOR, 'td[data-label="Expires"]').text
    listed = next(k for k in nebula.call("GET", "/api/v1/keys")[1]["result"]["keys"] if k["name"] == dated)
    assert listed["expires_at"].startswith(("2031-01-15", "2031-01-16")), listed

    # Overlay keys come with an example OBS URL.
    fill(d, "#key-name", unique("obs"))
    d.find_element(By.ID, "key-kind-overlay").click()
    assert not displayed(d, "#key-scopes")
    d.find_element(By.CSS_SELECTOR, "#create-key-form button[type=submit]").click()
    wait_for(d, lambda dr: "new overlay key" in text_of(dr, "#new-key").lower(), 10, text_of(d, "#create-key-form .form-error"))
    overlay_key, obs_url = d.execute_script(
        "return [...document.querySelectorAll('#new-key input.secret-input')].map(i => i.value)"
    )
    assert obs_url.startswith(f"{nebula.url}/overlays/") and obs_url.endswith(f"?token={overlay_key}"), obs_url


def audit_actions(d) -> list[str]:
    return d.execute_script("return [...document.querySelectorAll('#audit-rows tr')].map(tr => tr.dataset.action)")


def apply_filters(d) -> None:
    d.find_element(By.CSS_SELECTOR, "#audit-filters button[type=submit]").click()


def test_audit_page_filters_and_goes_live(nebula, admin):
    someone = unique("audrey")
    nebula.create_user(someone, "viewer")
    assert nebula.login(someone, "wrong password!")[0] == 401
    assert nebula.login(someone)[0] == 200
    d = admin
    go(d, "audit")
    wait_for(d, lambda dr: "login" in audit_actions(dr), 10)
    assert {"login", "user.create"} <= set(audit_actions(d)), audit_actions(d)
    denied = d.find_elements(By.CSS_SELECTOR, '#audit-rows tr[data-outcome^="denied"] .badge[data-tone=crit]')
    assert denied, "a refused login should show as denied, in red"
    wait_text(d, "#audit-live", "Live")

    fill(d, "#audit-action", "login")
    apply_filters(d)
    wait_for(d, lambda dr: set(audit_actions(dr)) == {"login"}, 10, "the action filter did not narrow the list to logins")
    fill(d, "#audit-actor", someone)
    apply_filters(d)
    wait_for(d, lambda dr: len(audit_actions(dr)) == 2, 10, "actor and action together: one refused, one good login")
    fill(d, "#audit-actor", "")
    fill(d, "#audit-action", "user.")  # a family prefix
    apply_filters(d)
    wait_for(d, lambda dr: audit_actions(dr) and all(a.startswith("user.") for a in audit_actions(dr)), 10)

    # Paging: two at a time, then older ones below, none twice.
    fill(d, "#audit-action", "")
    fill(d, "#audit-limit", "2")
    apply_filters(d)
    wait_for(d, lambda dr: len(audit_actions(dr)) == 2 and displayed(dr, "#audit-older"), 10)
    d.find_element(By.ID, "audit-older").click()
    wait_for(d, lambda dr: len(audit_actions(dr)) == 4, 10, "Load older did not add the next page")
    ids = d.execute_script("return [...document.querySelectorAll('#audit-rows tr')].map(tr => Number(tr.dataset.id))")
    assert ids == sorted(set(ids), reverse=True), ids

    # Back to logins; a sign-in elsewhere shows up at the top as it happens.
    fill(d, "#audit-limit", "100")
    fill(d, "#audit-action", "login")
    apply_filters(d)
    wait_for(d, lambda dr: set(audit_actions(dr)) == {"login"}, 10)
    rows_before = len(audit_actions(d))
    late = unique("late")
    nebula.create_user(late, "viewer")  # filtered out: not a login
    assert nebula.login(late)[0] == 200
    wait_for(d, lambda dr: late in text_of(dr, "#audit-rows tr:first-child"), 10, "the new login did not appear live")
    assert "is-new" in d.find_element(By.CSS_SELECTOR, "#audit-rows tr:first-child").get_attribute("class")
    assert len(audit_actions(d)) == rows_before + 1 and set(audit_actions(d)) == {"login"}
    shot(d, "accounts-audit-desktop")


def test_disabling_a_user_ends_their_open_dashboard(nebula, admin, browsers):
    dora, victim = signed_in_new_user(nebula, browsers, "dora", "operator")

    go(admin, "users")
    wait_shown(admin, f'#users-table tr[data-user="{dora}"]')
    admin.find_element(By.CSS_SELECTOR, f'#users-table tr[data-user="{dora}"] [data-action=disable]').click()
    confirm_dialog(admin, expect="signed out")
    wait_for(admin, lambda d: "Disabled" in d.find_element(By.CSS_SELECTOR, f'#users-table tr[data-user="{dora}"]').text, 10)

    # The socket is closed with 4003: back to the login page within a few seconds.
    wait_shown(victim, "#login-form", timeout=8)
    assert "session ended" in text_of(victim, "#login-form [data-role=notice]").lower()
    assert not displayed(victim, "#page-overview")
    shot(victim, "accounts-session-ended")
    assert nebula.login(dora)[0] == 401

    # Enabling needs no confirmation and lets them back in.
    admin.find_element(By.CSS_SELECTOR, f'#users-table tr[data-user="{dora}"] [data-action=enable]').click()
    wait_for(admin, lambda d: "Active" in d.find_element(By.CSS_SELECTOR, f'#users-table tr[data-user="{dora}"]').text, 10)
    assert nebula.login(dora)[0] == 200


def test_users_page_actions(nebula, admin):
    sam = unique("sam")
    nebula.create_user(sam, "viewer")
    nebula.enable_totp(sam)
    row_css = f'#users-table tr[data-user="{sam}"]'
    go(admin, "users")
    row = wait_shown(admin, row_css)
    assert "On" in row.find_element(By.CSS_SELECTOR, 'td[data-label="2FA"]').text

    def act(action: str) -> None:
        admin.find_element(By.CSS_SELECTOR, f"{row_css} [data-action={action}]").click()

    # Role: asks, then says so.
    admin.find_element(By.CSS_SELECTOR, f"{row_css} select[data-action=role] option[value=operator]").click()
    confirm_dialog(admin, expect="operator")
    wait_text(admin, "#page-users .form-ok", f"{sam} is now an operator")
    # Turn off their second factor (lost phone and codes).
    act("totp-off")
    confirm_dialog(admin, expect="password")
    wait_for(admin, lambda d: "Off" in d.find_element(By.CSS_SELECTOR, f'{row_css} td[data-label="2FA"]').text, 10)
    # A new password: checked in the dialog first, then set.
    act("reset-password")
    dlg = wait_shown(admin, "dialog[open]")
    dlg.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys("new password 5678")
    dlg.find_element(By.CSS_SELECTOR, "input[name=confirm]").send_keys("new password 5679")
    dlg.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_text(admin, "dialog[open] .form-error", "differ")
    fill(admin, "dialog[open] input[name=confirm]", "new password 5678")
    admin.find_element(By.CSS_SELECTOR, "dialog[open] button[type=submit]").click()
    wait_for(admin, lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"), 10)
    wait_text(admin, "#page-users .form-ok", "Password of")
    status, body, _ = nebula.login(sam, "new password 5678")
    assert status == 200 and body["result"]["user"]["role"] == "operator", (status, body)
    # Delete: asks, then the row is gone and so is the account.
    act("delete")
    confirm_dialog(admin, expect="cannot be undone")
    wait_for(admin, lambda d: not d.find_elements(By.CSS_SELECTOR, row_css), 10)
    assert nebula.login(sam, "new password 5678")[0] == 401

    # The last admin cannot demote itself: the page says why and keeps the role.
    admin.find_element(By.CSS_SELECTOR, f'#users-table tr[data-user="{ADMIN}"] select option[value=viewer]').click()
    confirm_dialog(admin)
    wait_text(admin, "#page-users .form-error", "admin")
    assert admin.find_element(By.CSS_SELECTOR, f'#users-table tr[data-user="{ADMIN}"] select').get_attribute("value") == "admin"
    shot(admin, "accounts-users-desktop")


def test_phone_width_has_no_sideways_scroll(nebula, browsers):
    nebula.create_user(unique("phil"), "viewer")  # a few rows in the tables
    nebula.call("POST", "/api/v1/keys", {"name": "backup script", "scopes": ["read", "publish:app"]})
    p = browsers("phone")
    p.get(f"{nebula.url}/")
    wait_shown(p, "#login-form")
    no_sideways_scroll(p, "login")
    shot(p, "accounts-login-phone")
    submit_login(p, ADMIN, ADMIN_PW)
    wait_live(p)
    nav = p.find_element(By.ID, "nav")
    assert nav.is_displayed() and nav.rect["y"] + nav.rect["height"] >= 844 - 2, "the phone tab bar sits at the bottom"
    no_sideways_scroll(p, "overview")
    shot(p, "accounts-overview-phone")
    for page in ("account", "users", "keys", "audit"):
        go(p, page)
        if page in ("users", "keys", "audit"):
            wait_for(p, lambda d: d.find_elements(By.CSS_SELECTOR, f"#page-{page} tbody tr"), 10)
        no_sideways_scroll(p, page)
        shot(p, f"accounts-{page}-phone")
    shot(p, "accounts-audit-phone-full", full_page=True)
