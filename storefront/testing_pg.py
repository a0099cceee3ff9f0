"""A throwaway PostgreSQL cluster for tests: initdb + pg_ctl on 127.0.0.1, trust auth.

As root (CI), the server runs as the ``postgres`` system user that Debian's package creates.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_pg_bin() -> str | None:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        if Path(out.stdout.strip(), "initdb").exists():
            return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return str(Path(candidates[0]).parent)
    initdb = shutil.which("initdb")
    return str(Path(initdb).resolve().parent) if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_from_env(variable: str) -> int | None:
    """The port an environment variable asks for (``SIYU_TEST_PG_PORT``...), or None for a free one."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{variable}={text!r}: give a port number between 1 and 65535")
    return int(text)


class PostgresUnavailable(RuntimeError):
    """No throwaway cluster can be started here (no server binaries, or no psycopg)."""


class PostgresCluster:
    def __init__(self, base_url: str, stop=None):
        self.base_url = base_url.rstrip("/")
        self._stop = stop
        self._counter = 0
        self.created: list[str] = []  # by this object, so a reused cluster can be tidied

    @classmethod
    def external(cls, url: str) -> "PostgresCluster":
        return cls(url.rsplit("/", 1)[0])

    @classmethod
    def start(cls, port: int | None = None) -> "PostgresCluster":
        """initdb + pg_ctl start in a new temporary folder, listening on 127.0.0.1:``port`` (a
        free one by default); on any failure after the folder exists the server (if it started)
        is stopped and the folder removed before raising."""
        try:
            import psycopg  # noqa: F401  (checked before anything is created)
        except ImportError as exc:
            raise PostgresUnavailable(
                "psycopg is not installed (pip install 'psycopg[binary]'); no cluster was started") from exc
        bindir = find_pg_bin()
        if bindir is None:
            raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
        directory = Path(tempfile.mkdtemp(prefix="siyu-pg-"))
        data = directory / "data"
        run_as = []

        def stop():
            if data.exists():
                subprocess.run(run_as + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                               capture_output=True)
            shutil.rmtree(directory, ignore_errors=True)

        try:
            if os.geteuid() == 0:
                # initdb refuses to run as root: run the server as Debian's ``postgres`` user.
                user = pwd.getpwnam("postgres")
                os.chown(directory, user.pw_uid, user.pw_gid)
                run_as = ["runuser", "-u", "postgres", "--"]
            port = port or _free_port()
            subprocess.run(run_as + [f"{bindir}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres",
                                     "-E", "UTF8", "--no-locale"], check=True, capture_output=True)
            options = (f"-h 127.0.0.1 -p {port} -k {directory} -c fsync=off -c synchronous_commit=off "
                       "-c full_page_writes=off -c max_connections=300")
            subprocess.run(run_as + [f"{bindir}/pg_ctl", "-D", str(data), "-o", options, "-w",
                                     "-l", str(directory / "log"), "start"], check=True, capture_output=True)
            cluster = cls(f"postgresql+psycopg://postgres@127.0.0.1:{port}", stop)
            cluster._wait()
        except BaseException:
            # Whatever failed (the server did not answer, Ctrl-C...), leave no server or folder.
            stop()
            raise
        return cluster

    def _wait(self, timeout: float = 30) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _dsn(self, name: str) -> str:
        return self.base_url.replace("postgresql+psycopg://", "postgresql://") + f"/{name}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        import psycopg

        self._counter += 1
        name = name or f"t_{os.getpid()}_{self._counter}_{time.monotonic_ns() % 100000}"
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            conn.execute(sql)
        self.created.append(name)
        return name

    def drop_created(self) -> None:
        """Drop the databases this object created (newest first: templates last), for a
        cluster that outlives the test session (``SIYU_TEST_POSTGRES_URL``)."""
        import psycopg

        with psycopg.connect(self._dsn("postgres"), autocommit=True) as conn:
            while self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.created.pop()}" WITH (FORCE)')

    def stop(self) -> None:
        if self._stop:
            self._stop()
