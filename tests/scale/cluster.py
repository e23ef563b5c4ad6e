"""Real processes for scale-out tests: `assistant serve` and `assistant worker` subprocesses that
share one PostgreSQL database and one Redis namespace, like replicas behind a load balancer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from backend.core.config import Settings
from backend.jobs.worker import READY_MESSAGE

# Generous: on a busy two-core CI machine a process needs tens of seconds to import and warm up.
START_TIMEOUT_S = 240
STOP_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assistant_command() -> list[str]:
    """The installed `assistant` entry point of this environment."""
    script = Path(sys.executable).with_name("assistant")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from backend.cli import app; app()"]


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def sigterm(self) -> None:
        self.popen.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT_S) -> int:
        return self.popen.wait(timeout=timeout)

    @property
    def running(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Cluster:
    workdir: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)

    def _spawn(self, name: str, args: list[str]) -> Proc:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [*assistant_command(), *args],
                # Its own working directory: no developer `.env` is read by accident.
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def spawn_api(self, name: str) -> Proc:
        port = free_port()
        proc = self._spawn(name, ["serve", "--host", "127.0.0.1", "--port", str(port)])
        proc.port = port
        return proc

    def spawn_worker(self, name: str) -> Proc:
        return self._spawn(name, ["worker"])

    def start(self, apis: int = 2, workers: int = 2) -> tuple[list[Proc], list[Proc]]:
        """Start the processes (in parallel, they take seconds each) and wait until all serve.

        The first API starts alone: it stores the bootstrap API_KEY, which the others then find.
        """
        first = self.spawn_api("api1")
        self.wait_ready([first])
        api_procs = [first, *(self.spawn_api(f"api{i + 1}") for i in range(1, apis))]
        worker_procs = [self.spawn_worker(f"worker{i + 1}") for i in range(workers)]
        self.wait_ready([*api_procs, *worker_procs])
        return api_procs, worker_procs

    def wait_ready(self, procs: list[Proc]) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        pending = list(procs)
        while pending:
            for proc in list(pending):
                if _ready(proc):
                    pending.remove(proc)
                elif not proc.running:
                    raise RuntimeError(f"{proc.name} exited at start:\n{proc.output()[-4000:]}")
            if pending and time.monotonic() > deadline:
                raise RuntimeError(
                    f"{pending[0].name} did not start:\n{pending[0].output()[-4000:]}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.running:
                proc.sigterm()
        for proc in self.procs:
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.wait()


def _ready(proc: Proc) -> bool:
    if proc.port is None:
        return READY_MESSAGE in proc.output()
    try:
        return httpx.get(proc.url + "/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def process_env(overrides: dict[str, str]) -> dict[str, str]:
    """This environment minus our settings (the host's config must not leak in), plus ours."""
    ours = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in ours}
    env.update(overrides)
    return env
