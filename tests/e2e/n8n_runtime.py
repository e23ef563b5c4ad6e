"""A real n8n for the end-to-end tests: installed once from npm into a cached folder, then one
instance per test module with its own user folder (SQLite database), ports and settings.

The cache folder is `WA_N8N_DIR` (default `~/.cache/wa-n8n`). Installing takes many minutes the
first time; afterwards only the version check runs.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

N8N_VERSION = "1.123.50"
# n8n's `xlsx` dependency points at a tarball outside the npm registry; the registry's release is
# used instead. Later 1.123 releases need isolated-vm@6, which does not build on Node 20.
PACKAGE_JSON = {
    "private": True,
    "dependencies": {"n8n": N8N_VERSION},
    "overrides": {"xlsx": "0.18.5"},
}
INSTALL_TIMEOUT = 3600.0
CLI_TIMEOUT = 300.0
START_TIMEOUT = 240.0


def n8n_dir() -> Path:
    configured = os.environ.get("WA_N8N_DIR")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "wa-n8n"


def _installed_version(binary: Path) -> str | None:
    if not binary.exists():
        return None
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout else None


def ensure_n8n(folder: Path | None = None) -> Path:
    """The n8n executable, installing n8n with npm first when the cache folder lacks it."""
    folder = folder or n8n_dir()
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "node_modules" / ".bin" / "n8n"
    if _installed_version(binary) == N8N_VERSION:
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed: Node.js 20 with npm is needed to install n8n")
    # One installer at a time, even across parallel test runs.
    with (folder / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(binary) == N8N_VERSION:
            return binary
        (folder / "package.json").write_text(json.dumps(PACKAGE_JSON, indent=2) + "\n")
        log = folder / "install.log"
        with log.open("w") as out:
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--loglevel=warn"],
                cwd=folder,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        if done.returncode != 0 or _installed_version(binary) != N8N_VERSION:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
            raise RuntimeError(f"npm install of n8n {N8N_VERSION} in {folder} failed:\n{tail}")
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class N8n:
    """One n8n instance: CLI commands against its database, then `start` / `stop`."""

    def __init__(self, binary: Path, home: Path, extra_env: dict[str, str]) -> None:
        self.binary = binary
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "n8n.log"
        self._process: subprocess.Popen[bytes] | None = None
        # Nothing from the caller's environment that n8n would read as its own settings.
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("N8N_", "DB_", "EXECUTIONS_", "QUEUE_", "WEBHOOK_"))
        }
        self.env = {
            **base,
            "N8N_USER_FOLDER": str(home),
            "N8N_ENCRYPTION_KEY": "wa-e2e-fixed-encryption-key",
            "N8N_PORT": str(self.port),
            "N8N_LISTEN_ADDRESS": "127.0.0.1",
            "N8N_HOST": "127.0.0.1",
            "N8N_PROTOCOL": "http",
            "WEBHOOK_URL": self.url + "/",
            "N8N_EDITOR_BASE_URL": self.url + "/",
            "N8N_RUNNERS_BROKER_PORT": str(free_port()),
            "N8N_BLOCK_ENV_ACCESS_IN_NODE": "false",
            "N8N_DIAGNOSTICS_ENABLED": "false",
            "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false",
            "N8N_COMMUNITY_PACKAGES_ENABLED": "false",
            "N8N_HIRING_BANNER_ENABLED": "false",
            "N8N_SECURE_COOKIE": "false",
            "N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS": "false",
            "N8N_LOG_LEVEL": "info",
            "DB_SQLITE_POOL_SIZE": "2",
            "N8N_GIT_NODE_DISABLE_BARE_REPOS": "true",
            "N8N_LOG_OUTPUT": "console",
            "GENERIC_TIMEZONE": "UTC",
            "TZ": "UTC",
            **extra_env,
        }

    # --- CLI ---------------------------------------------------------------------------------
    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.binary), *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )
        output = done.stdout + done.stderr
        with self.log_path.open("a") as log:
            log.write(f"\n$ n8n {' '.join(args)}\n{output}\n")
        if done.returncode != 0:
            raise RuntimeError(f"n8n {' '.join(args)} failed ({done.returncode}):\n{output}")
        return output

    def import_credentials(self, credentials: list[dict[str, Any]]) -> None:
        path = self.home / "credentials.json"
        # Plain `data` objects: the import encrypts them with N8N_ENCRYPTION_KEY.
        path.write_text(json.dumps(credentials))
        self.cli("import:credentials", f"--input={path}")
        path.unlink()

    def import_workflows(self, folder: Path) -> list[dict[str, Any]]:
        workflows = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
        self.cli("import:workflow", "--separate", f"--input={folder}")
        return workflows

    def activate_all(self) -> None:
        # Imported workflows are inactive; this takes effect at the next `start`.
        self.cli("update:workflow", "--all", "--active=true")

    def execute(self, workflow_id: str) -> str:
        """Runs a workflow once from its Manual Trigger, in a process of its own."""
        return self.cli("execute", f"--id={workflow_id}", "--rawOutput")

    # --- server ------------------------------------------------------------------------------
    def start(self) -> None:
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(self.binary), "start"],
            env=self.env,
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"n8n exited with {self._process.returncode}:\n{self.logs()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"n8n did not answer /healthz in {START_TIMEOUT}s:\n{self.logs()}")

    def wait_active(self, workflow_ids: list[str]) -> None:
        """/healthz answers before the active workflows are started; their webhooks exist once
        n8n has logged each activation."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            if "problem activating workflow" in text:
                raise RuntimeError(f"n8n could not activate a workflow:\n{self.logs()}")
            if all(f"(ID: {wid})" in text for wid in workflow_ids):
                return
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"n8n exited with {self._process.returncode}:\n{self.logs()}")
            time.sleep(0.5)
        raise RuntimeError(f"n8n did not activate {workflow_ids}:\n{self.logs()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # Its own process group: n8n and the task runner it spawned stop together.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def logs(self, last: int = 200) -> str:
        if not self.log_path.exists():
            return "(no n8n log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-last:])


if __name__ == "__main__":
    # `python -m tests.e2e.n8n_runtime`: install (or check) the cached n8n, e.g. in CI.
    print(ensure_n8n())
