"""A throwaway PostgreSQL cluster (initdb + pg_ctl on a free port) that tests may stop and kill.

The server binaries come from `pg_config --bindir`, PATH, or the Debian/Ubuntu layout. PostgreSQL
refuses to run as root, so as root every server command runs as the `postgres` user (runuser/su)
in a temporary directory owned by it. Anything missing fails the test with a clear message: a
durability test that silently skips proves nothing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SERVER_USER = "postgres"


def _bindir() -> Path:
    candidates: list[Path] = []
    if pg_config := shutil.which("pg_config"):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)

    def version(path: str) -> float:
        try:
            return float(Path(path).parts[-3])
        except ValueError:
            return 0.0

    candidates += [
        Path(p).parent
        for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    ]
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the postgresql package "
        "or put its bin directory on PATH. This test needs its own throwaway cluster."
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgCluster:
    def __init__(self) -> None:
        self.bindir = _bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            try:
                self._owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                pytest.fail(
                    f"Running as root and there is no '{SERVER_USER}' user: PostgreSQL refuses "
                    "to run as root. Create the user or run the tests as another user."
                )
        # /tmp itself, not pytest's tmp_path: that one is private to root and the server user
        # could not reach it.
        self.root = Path(tempfile.mkdtemp(prefix="wa-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        if self.as_root:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)

    # --- commands ------------------------------------------------------------------------------
    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> str:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            runuser = shutil.which("runuser")
            if runuser:
                command = [runuser, "-u", SERVER_USER, "--", *command]
            else:
                command = [
                    "su",
                    SERVER_USER,
                    "-s",
                    "/bin/sh",
                    "-c",
                    subprocess.list2cmdline(command),
                ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                + self.server_log()
            )
        return result.stdout

    def server_log(self) -> str:
        with contextlib.suppress(OSError):
            return "--- server log ---\n" + self.log.read_text()[-3000:]
        return ""

    def init(self) -> PgCluster:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        deadline = time.monotonic() + 60
        while True:
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                return
            except RuntimeError:
                # After a kill -9 the old backends may still hold shared memory for a moment.
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def ensure_running(self) -> None:
        """Start the server unless it runs (a previous test may have failed mid-outage)."""
        status = self._run("pg_ctl", "-D", str(self.data), "status", check=False)
        if "server is running" not in status:
            self.start()

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would."""
        pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    # --- addresses -----------------------------------------------------------------------------
    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"
