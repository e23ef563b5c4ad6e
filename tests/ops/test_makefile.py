"""The Makefile's targets: listed by `make help`, and the ones that touch data do what they say.

`docker compose` and the `assistant` CLI are replaced by recorders (COMPOSE=..., ASSISTANT=...), so
the tests see the exact commands without a Docker engine or a database.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ops.repo import ROOT

# Variables the Makefile reads from the environment: the tests set them explicitly.
_MAKE_VARIABLES = {"OPENAI_BASE_URL", "OPENAI_MODEL", "OLLAMA_MODEL", "PROFILES", "SERVICE"}
_MAKE_VARIABLES |= {
    "COMPOSE",
    "ASSISTANT",
    "IN_COMPOSE",
    "CONFIRM",
    "FILE",
    "KEEP_DAYS",
    "BACKUP_DIR",
}
TARGETS = [
    *("help", "run", "test", "lint", "up", "down", "build", "restart", "logs", "ps", "db"),
    *("reset-db", "clean", "health-check", "migrate", "backup", "restore", "optimize-db", "bench"),
]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def recorder(tmp_path: Path, name: str) -> tuple[str, Path]:
    """A command that appends its arguments to a file, one call per line."""
    log = tmp_path / f"{name}.calls"
    script = tmp_path / name
    script.write_text(f'#!/bin/sh\necho "$*" >> {shlex.quote(str(log))}\n', encoding="utf-8")
    script.chmod(0o755)
    return str(script), log


def make(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        # UV=true: the `install` prerequisite does nothing (the venv is already synced).
        ["make", "--no-print-directory", "-C", str(ROOT), "UV=true", *args],
        input=stdin,
        env={k: v for k, v in os.environ.items() if k not in _MAKE_VARIABLES},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def calls(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_help_lists_every_target_of_the_original_design() -> None:
    result = make("help")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert set(TARGETS) <= listed, set(TARGETS) - listed


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_expands(target: str) -> None:
    result = make("-n", target, "FILE=backups/x.sql.gz", "CONFIRM=yes")
    assert result.returncode == 0, result.stderr


def test_compose_targets_wrap_docker_compose_with_profiles(tmp_path: Path) -> None:
    compose, log = recorder(tmp_path, "compose")
    for target in ("up", "ps", "down"):
        assert make(target, f"COMPOSE={compose}", "PROFILES=monitoring bot").returncode == 0
    assert make("logs", f"COMPOSE={compose}", "SERVICE=api").returncode == 0
    assert calls(log) == [
        "--profile monitoring --profile bot up -d",
        "--profile monitoring --profile bot ps",
        "--profile monitoring --profile bot down",
        "logs -f --tail=200 api",
    ]


def test_reset_db_does_nothing_without_a_yes(tmp_path: Path) -> None:
    compose, log = recorder(tmp_path, "compose")
    refused = make("reset-db", f"COMPOSE={compose}", stdin="no\n")
    assert refused.returncode != 0
    assert "Cancelled" in refused.stdout
    assert calls(log) == []

    accepted = make("reset-db", f"COMPOSE={compose}", stdin="yes\n")
    assert accepted.returncode == 0, accepted.stderr
    recorded = calls(log)
    assert len(recorded) == 3
    assert recorded[0].startswith("exec -T postgres sh -c dropdb")
    assert "createdb" in recorded[0]
    assert recorded[1] == "run --rm --no-deps api migrate"
    assert recorded[2] == "restart api worker"


def test_backup_restore_and_optimize_call_the_cli(tmp_path: Path) -> None:
    assistant, log = recorder(tmp_path, "assistant")
    assert make("backup", f"ASSISTANT={assistant}").returncode == 0
    assert make("backup", f"ASSISTANT={assistant}", "KEEP_DAYS=30").returncode == 0
    missing = make("restore", f"ASSISTANT={assistant}")
    assert missing.returncode != 0 and "usage: make restore FILE=" in missing.stderr
    refused = make("restore", f"ASSISTANT={assistant}", "FILE=backups/a.sql.gz", stdin="n\n")
    assert refused.returncode != 0
    restored = make("restore", f"ASSISTANT={assistant}", "FILE=backups/a.sql.gz", stdin="yes\n")
    assert restored.returncode == 0, restored.stderr
    assert make("optimize-db", f"ASSISTANT={assistant}").returncode == 0
    assert calls(log) == [
        "db backup --dir backups --keep-days 7",
        "db backup --dir backups --keep-days 30",
        "db restore backups/a.sql.gz",
        "db optimize",
    ]


def test_in_compose_runs_the_cli_in_the_api_container(tmp_path: Path) -> None:
    compose, log = recorder(tmp_path, "compose")
    assert make("backup", "IN_COMPOSE=1", f"COMPOSE={compose}").returncode == 0
    assert calls(log) == ["exec -T api assistant db backup --dir backups --keep-days 7"]


def test_local_llm_profile_points_the_api_at_ollama(tmp_path: Path) -> None:
    probe = tmp_path / "env-probe"
    out = tmp_path / "env.txt"
    probe.write_text(
        f'#!/bin/sh\necho "$OPENAI_BASE_URL $OPENAI_MODEL" > {shlex.quote(str(out))}\n',
        encoding="utf-8",
    )
    probe.chmod(0o755)
    result = make("up", f"COMPOSE={probe}", "PROFILES=local-llm", "OLLAMA_MODEL=qwen2.5")
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8").split() == ["http://ollama:11434/v1", "qwen2.5"]
