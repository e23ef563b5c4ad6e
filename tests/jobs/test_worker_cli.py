"""`assistant worker` is registered and refuses to start without Redis, saying why."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app
from backend.core.config import Settings


def test_worker_needs_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no `.env` here
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    result = CliRunner().invoke(app, ["worker"])
    assert result.exit_code == 2
    assert "REDIS_URL" in result.output


def test_worker_is_listed_in_the_cli() -> None:
    result = CliRunner().invoke(app, ["worker", "--help"])
    assert result.exit_code == 0
    assert "--burst" in result.output
