"""Helpers for the account tests: CLI-created users, login, session headers, RFC 6238 codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import subprocess
import time

from e2e_lib import REPO

BIN = os.environ.get("NEBULA_BIN", str(REPO / ".build" / "debug" / "nebula"))
PASSWORD = "correct horse battery"


def create_user(data_dir, name, role, password=PASSWORD, database_url=None):
    """`nebula user create`, password on stdin, as an owner would."""
    store = ["--database-url", database_url] if database_url else []
    r = subprocess.run([BIN, "user", "create", "--username", name, "--role", role, "--data-dir", str(data_dir), *store],
                       input=password + "\n", capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if not k.startswith("NEBULA_")})
    assert r.returncode == 0, r.stderr
    return r


def login(s, username, password=PASSWORD, totp=None):
    body = {"username": username, "password": password}
    if totp is not None:
        body["totp"] = totp
    return s.http("POST", "/api/v1/auth/login", body=json.dumps(body).encode(), key=None)


class Session:
    """A logged-in browser, as far as the server can tell: the cookie, the CSRF token, our Origin."""

    def __init__(self, server, response):
        assert response.status in (200, 201), (response.status, response.body)
        cookie = response.header("set-cookie")
        self.server = server
        self.token = cookie.split(";", 1)[0].split("=", 1)[1]
        self.csrf = response.json()["result"]["csrf_token"]
        self.user = response.json()["result"]["user"]

    @classmethod
    def login(cls, server, username, password=PASSWORD, totp=None) -> "Session":
        return cls(server, login(server, username, password, totp))

    @property
    def cookie(self):
        return {"Cookie": f"nebula_session={self.token}"}

    @property
    def origin(self):
        return {"Origin": f"http://127.0.0.1:{self.server.port}"}

    def http(self, method, path, body=None, csrf=True, headers=None):
        h = dict(self.cookie)
        if csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
        return self.server.http(method, path, body=data, headers=h, key=None)


def totp(secret_b32: str, t: float | None = None, step_offset: int = 0) -> str:
    padded = secret_b32 + "=" * ((8 - len(secret_b32) % 8) % 8)
    key = base64.b32decode(padded)
    counter = int((time.time() if t is None else t) // 30) + step_offset
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def enrol_totp(session: Session):
    """Turns TOTP on for the session's user; answers (secret, recovery codes)."""
    proposal = session.http("POST", "/api/v1/account/totp/setup", {})
    assert proposal.status == 200, proposal.body
    secret = proposal.json()["result"]["secret"]
    r = session.http("POST", "/api/v1/account/totp/enable", {"secret": secret, "code": totp(secret)})
    assert r.status == 200, r.body
    return secret, r.json()["result"]["recovery_codes"]


def next_step_code(secret: str) -> str:
    """A valid code not used yet: the next 30-s step's, which the server accepts as clock drift
    (the current step's code was spent by the enrolment, and codes are accepted once)."""
    return totp(secret, step_offset=1)


class Store:
    """Direct SQL on a test server's database, SQLite or PostgreSQL, for setting up states the API
    cannot make (an expired session) and for checking what is stored."""

    def __init__(self, data_dir, postgres=None, database=None):
        self.data_dir = data_dir
        self.postgres = postgres
        self.database = database

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.postgres.port}/{self.database}" if self.postgres else None

    def rows(self, sql):
        if self.postgres:
            out = self.postgres.query(self.database, sql)
            return [tuple(line.split("|")) for line in out.splitlines()] if out else []
        import sqlite3
        with sqlite3.connect(self.data_dir / "nebula.sqlite") as db:
            return [tuple(str(v) if v is not None else "" for v in row) for row in db.execute(sql)]

    def execute(self, sql):
        if self.postgres:
            self.postgres.query(self.database, sql)
        else:
            import sqlite3
            with sqlite3.connect(self.data_dir / "nebula.sqlite") as db:
                db.execute(sql)
