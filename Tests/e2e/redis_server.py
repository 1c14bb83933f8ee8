"""A real redis-server (Debian's package) on a free loopback port for the replica tests, plus a TCP
proxy that can freeze the pub/sub connection passing through it (a subscription that is connected
but receives nothing)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from e2e_lib import free_port


class RedisServer:
    def __init__(self, port: int | None = None, extra_args=()):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="nebula-e2e-redis-")
        self.extra_args = [str(a) for a in extra_args]
        self.proc: subprocess.Popen | None = None
        self.password: str | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "RedisServer":
        log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, *self.extra_args],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.cli("PING") == "PONG":
                    return self
            except subprocess.CalledProcessError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on {self.port}")

    def cli(self, *args, timeout: float = 10.0) -> str:
        auth = ["--no-auth-warning", "-a", self.password] if self.password and "-a" not in args else []
        out = subprocess.run(["redis-cli", "-p", str(self.port), *auth, *map(str, args)], capture_output=True, text=True,
                             timeout=timeout, check=True)
        return out.stdout.strip()

    def start_with_password(self, password: str) -> "RedisServer":
        self.password = password
        return self.start()

    def kill(self):
        """SIGKILL: everything in memory is gone (no persistence)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def commandstats(self) -> dict[str, int]:
        """calls per command from INFO commandstats."""
        calls = {}
        for line in self.cli("INFO", "commandstats").splitlines():
            if line.startswith("cmdstat_"):
                name, _, rest = line.partition(":")
                fields = dict(part.split("=", 1) for part in rest.split(","))
                calls[name[len("cmdstat_"):]] = int(fields["calls"])
        return calls


class FreezingProxy:
    """Forwards TCP to a Redis port. `freeze_subscribers()` stops passing server→client bytes on every
    connection that has sent SUBSCRIBE, while keeping it open: the replica's subscription goes silent."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.frozen = threading.Event()
        self.connections: list[dict] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            state = {"subscriber": False, "frozen": False, "sockets": (client, upstream)}
            with self.lock:
                self.connections.append(state)
            threading.Thread(target=self._pump, args=(client, upstream, state, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, state, False), daemon=True).start()

    def _pump(self, source, sink, state, from_client):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_client and b"SUBSCRIBE" in data.upper():
                    state["subscriber"] = True
                if not from_client and state["frozen"]:
                    continue  # swallowed: connected, but nothing arrives
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in state["sockets"]:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def freeze_subscribers(self) -> int:
        with self.lock:
            frozen = [c for c in self.connections if c["subscriber"]]
            for c in frozen:
                c["frozen"] = True
        return len(frozen)

    def close(self):
        self.listener.close()
        with self.lock:
            for c in self.connections:
                for s in c["sockets"]:
                    try:
                        s.close()
                    except OSError:
                        pass


class Monitor:
    """`redis-cli MONITOR` in the background: every command the server runs, as text lines."""

    def __init__(self, redis: RedisServer):
        self.proc = subprocess.Popen(["redis-cli", "-p", str(redis.port), "MONITOR"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        assert self.proc.stdout.readline().strip() == "OK"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self, settle: float = 0.3) -> list[str]:
        time.sleep(settle)
        self.proc.terminate()
        self.proc.wait(5)
        return self.lines
