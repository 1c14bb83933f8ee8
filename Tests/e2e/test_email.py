"""E-mail notifications (issue 4) through a real SMTP server on loopback (aiosmtpd): STARTTLS with
AUTH, implicit TLS, an explicit plain relay, and the refusals — no STARTTLS offered, wrong password —
that must never leak credentials or lose the server."""

from __future__ import annotations

import base64
import email
import email.header
import socket
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from e2e_lib import wait_until


class Relay:
    """A local SMTP server recording every accepted message and every AUTH attempt."""

    def __init__(self, tmp_path, *, starttls=False, implicit=False, password="s3cret"):
        self.messages = []
        self.logins = []
        self.cert = tmp_path / "relay-cert.pem"
        key = tmp_path / "relay-key.pem"
        if not self.cert.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(self.cert)],
                           check=True, capture_output=True)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)  # server side, and client side for aiosmtpd's own readiness probe
        context.load_cert_chain(self.cert, key)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        relay = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                relay.messages.append(envelope)
                return "250 OK queued"

        def authenticator(server, session, envelope, mechanism, auth_data):
            relay.logins.append((mechanism, auth_data.login.decode(), auth_data.password.decode()))
            return AuthResult(success=auth_data.login == b"nebula" and auth_data.password.decode() == password, handled=False)

        kwargs = dict(hostname="127.0.0.1", port=self.port, authenticator=authenticator, auth_require_tls=starttls)
        if starttls:
            kwargs.update(tls_context=context, require_starttls=True)
        if implicit:
            kwargs.update(ssl_context=context, auth_require_tls=False)
        self.controller = Controller(Handler(), **kwargs)
        self.controller.start()

    def stop(self):
        self.controller.stop()


@pytest.fixture
def relay(tmp_path):
    """Starts relays (`relay(starttls=True)` …) and stops them after the test."""
    started = []

    def start(**options):
        started.append(Relay(tmp_path, **options))
        return started[-1]

    yield start
    for r in started:
        r.stop()


def _filesystem_alert_server(server_factory, tmp_path, target):
    args = ["--telemetry-interval", "1s", "--alert-for", "1s", "--alert-filesystem-percent", "0.001", "--notify", target,
            "--docker-host", f"unix://{tmp_path}/no-docker.sock"]
    return server_factory(args, data_dir=tmp_path / "data")


def _parsed(envelope):
    message = email.message_from_bytes(envelope.content)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    return message, subject, message.get_payload(decode=True).decode()


def test_starttls_with_auth_delivers_the_alert(server_factory, relay, tmp_path):
    r = relay(starttls=True)
    target = (f"email=smtp://nebula:s3cret@localhost:{r.port}?to=me@lab.example,ops@lab.example"
              f"&from=box@lab.example&ca={r.cert}")
    s = _filesystem_alert_server(server_factory, tmp_path, target)
    assert wait_until(lambda: r.messages, 15), s.stderr[-3000:]
    envelope = r.messages[0]
    assert envelope.mail_from == "box@lab.example" and envelope.rcpt_tos == ["me@lab.example", "ops@lab.example"]
    message, subject, body = _parsed(envelope)
    assert subject.startswith("[FIRING] filesystem_full — "), subject
    assert message["From"] == "Nebula Command <box@lab.example>" and message["Auto-Submitted"] == "auto-generated"
    assert " % full (limit 0 %)" in body and "Rule:      filesystem_full (warning)" in body
    assert r.logins and r.logins[0][1:] == ("nebula", "s3cret")
    # Nothing about the credentials reaches the logs.
    assert "s3cret" not in s.stderr


def test_implicit_tls_without_auth(server_factory, relay, tmp_path):
    r = relay(implicit=True)
    s = _filesystem_alert_server(server_factory, tmp_path, f"email=smtps://localhost:{r.port}?to=me@lab.example&ca={r.cert}")
    assert wait_until(lambda: r.messages, 15), s.stderr[-3000:]
    _, subject, _ = _parsed(r.messages[0])
    assert "filesystem_full" in subject and r.messages[0].mail_from == "nebula@localhost"


def test_a_relay_without_starttls_gets_nothing_unless_told_tls_none(server_factory, relay, tmp_path):
    r = relay()  # plain SMTP, AUTH offered without TLS
    s = _filesystem_alert_server(server_factory, tmp_path, f"email=smtp://nebula:s3cret@127.0.0.1:{r.port}?to=me@lab.example")
    assert wait_until(lambda: "does not offer STARTTLS" in s.stderr, 15), s.stderr[-3000:]
    assert r.messages == [] and r.logins == []  # no password sent in the clear, no alert either
    assert s.http("GET", "/healthz", key=None).status == 200
    s.stop()

    s2 = _filesystem_alert_server(server_factory, tmp_path / "plain",
                                  f"email=smtp://nebula:s3cret@127.0.0.1:{r.port}?tls=none&to=me@lab.example")
    assert wait_until(lambda: r.messages, 15), s2.stderr[-3000:]
    assert r.logins[0][1:] == ("nebula", "s3cret")


def test_wrong_password_is_retried_then_reported(server_factory, relay, tmp_path):
    r = relay(starttls=True, password="other")
    target = f"email=smtp://nebula:s3cret@localhost:{r.port}?to=me@lab.example&ca={r.cert}"
    s = _filesystem_alert_server(server_factory, tmp_path, target)
    assert wait_until(lambda: len(r.logins) >= 2, 15), s.stderr[-3000:]  # retried with backoff
    assert "the relay rejected AUTH PLAIN: 535" in s.stderr
    assert r.messages == []
    assert s.http("GET", "/healthz", key=None).status == 200


def test_an_untrusted_certificate_is_refused(server_factory, relay, tmp_path):
    r = relay(starttls=True)
    s = _filesystem_alert_server(server_factory, tmp_path, f"email=smtp://nebula:s3cret@localhost:{r.port}?to=me@lab.example")
    assert wait_until(lambda: "notification failed" in s.stderr, 15), s.stderr[-3000:]
    failure = next(line for line in s.stderr.splitlines() if "notification failed" in line)
    assert "CERTIFICATE_VERIFY_FAILED" in failure or "certificate" in failure.lower(), failure
    assert r.messages == [] and r.logins == []


@pytest.mark.parametrize("target", ["email=smtp://mail.lan", "email=smtp://mail.lan?to=nobody", "email=ftp://mail.lan?to=a@b.c"])
def test_bad_email_target_is_a_usage_error(server_factory, target):
    s = server_factory(["--notify", target], start=False)
    s.start(wait=False)
    assert s.wait_exit(10) == 2 and "--notify" in s.stderr
