"""A real Docker engine for the container tests: Debian's dockerd on its own unix socket, data root and
exec root (no iptables, no bridge), and a local image imported from Debian's busybox-static, since no
registry is reachable. Containers run with `--init --network none`."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import http.client

IMAGE = "nebula-test/busybox:latest"
APPLETS = ["sh", "sleep", "echo", "cat", "yes", "seq", "true", "printf", "ls", "dd", "head"]


class _UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


class DockerEngine:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="nebula-dockerd-")
        self.socket = f"{self.root}/docker.sock"
        self.proc = None

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout=30) -> "DockerEngine":
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        r = self.root
        self.log = open(f"{r}/dockerd.log", "wb")
        self.proc = subprocess.Popen(
            [dockerd, "--data-root", f"{r}/data", "--exec-root", f"{r}/exec", "--pidfile", f"{r}/docker.pid",
             "--host", self.host, "--storage-driver=overlay2", "--iptables=false", "--ip6tables=false",
             "--bridge=none", "--ip-masq=false", "--ip-forward=false"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited: {open(f'{r}/dockerd.log').read()[-2000:]}")
            try:
                if self.api("GET", "/version")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("dockerd did not answer within 30 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        subprocess.run(["umount", "-R", f"{self.root}/exec"], capture_output=True)
        subprocess.run(["umount", "-R", f"{self.root}/data"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def api(self, method, path, body=None):
        conn = _UnixHTTP(self.socket)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"} if body is not None else {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, (json.loads(data) if data and data[:1] in (b"{", b"[") else data)
        finally:
            conn.close()

    def docker(self, *args, check=True) -> str:
        r = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "DOCKER_HOST": self.host})
        if check and r.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)}: {r.stderr}")
        return r.stdout.strip()

    def import_busybox(self):
        """The test image: busybox-static and its applet links, imported from a tarball."""
        busybox = shutil.which("busybox") or "/bin/busybox"
        with tempfile.TemporaryDirectory() as tmp:
            tar_path = f"{tmp}/rootfs.tar"
            with tarfile.open(tar_path, "w") as tar:
                for d in ("bin", "tmp", "proc", "sys", "dev", "etc"):
                    info = tarfile.TarInfo(d)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                tar.add(busybox, arcname="bin/busybox")
                for applet in APPLETS:
                    info = tarfile.TarInfo(f"bin/{applet}")
                    info.type = tarfile.SYMTYPE
                    info.linkname = "busybox"
                    tar.addfile(info)
            self.docker("import", tar_path, IMAGE)
        return self

    def run(self, name, *command, options=()):
        return self.docker("run", "-d", "--init", "--network", "none", "--name", name, *options, IMAGE, *command)
