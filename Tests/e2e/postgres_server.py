"""A real PostgreSQL for end-to-end tests: initdb into a temp dir and pg_ctl start on a free loopback
port (as the postgres user when running as root). Debian's postgresql package provides the binaries."""

import glob
import os
import shutil
import subprocess
import tempfile

from e2e_lib import free_port


def _binary(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: install Debian's postgresql package")
    return found[-1]


class PostgresServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="nebula-e2e-pg-")
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *argv):
        cmd = (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + list(argv)
        subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def start(self) -> "PostgresServer":
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(_binary("initdb"), "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self._run(_binary("pg_ctl"), "-D", f"{self.dir}/data", "-l", f"{self.dir}/server.log", "-w", "-t", "30", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        return self

    def create_database(self, name: str) -> str:
        self._run(_binary("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres",
                  "-qc", f"CREATE DATABASE {name}")
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def query(self, database: str, sql: str) -> str:
        cmd = (["runuser", "-u", "postgres", "--"] if self.as_postgres else []) + [
            _binary("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database, "-Atc", sql]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()

    def stop(self):
        try:
            self._run(_binary("pg_ctl"), "-D", f"{self.dir}/data", "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
