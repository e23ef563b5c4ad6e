"""Dockerfile, its entry point and docker-compose.yml: structure and cross-references.

No Docker engine runs here, so the files are parsed and checked against the code they describe:
settings that exist, CLI commands that exist, ports and paths that match.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main

from backend.cli import app as cli_app
from backend.core.config import Settings
from tests.ops.repo import ROOT, env_example_names, load_yaml, settings_env_names

APP_SERVICES = ("api", "worker", "bot")
# Read by the entry point script, not by the service.
ENTRYPOINT_ENV = {"MIGRATE_ON_START"}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    return instructions[last_from:]


def cli_commands() -> set[str]:
    return set(typer.main.get_command(cli_app).commands)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml("docker-compose.yml")
    return data


# --- Dockerfile -----------------------------------------------------------------------------------


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    stages = [rest for kw, rest in dockerfile_instructions() if kw == "FROM"]
    assert len(stages) >= 3  # uv, builder, runtime
    assert "slim" in stages[-1] and " AS runtime" in stages[-1]
    final = final_stage()
    users = [rest for kw, rest in final if kw == "USER"]
    assert users and users[-1] not in {"root", "0"}
    # The uid the Kubernetes manifests run as is the one the image creates.
    run = " ".join(rest for kw, rest in final if kw == "RUN")
    assert re.search(rf"useradd .*--uid 10001 .*{users[-1]}", run)
    # Build tools and uv stay in the builder stage.
    assert not any(kw == "COPY" and "/uv" in rest for kw, rest in final)


def test_dockerfile_healthcheck_port_and_command() -> None:
    final = dict(final_stage())
    health = final["HEALTHCHECK"]
    assert "/health" in health and "PORT" in health
    assert final["EXPOSE"] == str(Settings.model_fields["port"].default)
    assert "PORT=8000" in final["ENV"]
    assert final["ENTRYPOINT"] == '["entrypoint"]'
    assert final["CMD"] == '["serve"]'


def test_dockerfile_copies_only_existing_files_the_dockerignore_lets_through() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore  # deny by default: no .env, data or .git in the build context
    for keyword, rest in dockerfile_instructions():
        if keyword != "COPY" or "--from=" in rest:
            continue
        *sources, _ = [part for part in shlex.split(rest) if not part.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), source
            assert any(source == a or source.startswith(a + "/") for a in allowed), source


def test_entrypoint_is_copied_and_runs_migrations() -> None:
    copies = [rest for kw, rest in final_stage() if kw == "COPY"]
    assert any(c.startswith("deploy/docker/entrypoint.sh ") for c in copies)
    script = ROOT / "deploy/docker/entrypoint.sh"
    assert script.stat().st_mode & stat.S_IXUSR
    assert "assistant migrate" in script.read_text(encoding="utf-8")


def run_entrypoint(tmp_path: Path, *args: str, **env: str) -> list[str]:
    """Run the real script with a fake `assistant` that records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    record = tmp_path / "calls.txt"
    fake = bin_dir / "assistant"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {shlex.quote(str(record))}\n', encoding="utf-8")
    fake.chmod(0o755)
    environ = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **env}
    subprocess.run(
        ["sh", str(ROOT / "deploy/docker/entrypoint.sh"), *args],
        env=environ,
        check=True,
        capture_output=True,
        timeout=30,
    )
    return record.read_text(encoding="utf-8").splitlines() if record.exists() else []


def test_entrypoint_prestart_migrates_before_serving_only(tmp_path: Path) -> None:
    assert run_entrypoint(tmp_path / "a", "serve") == ["migrate", "serve"]
    assert run_entrypoint(tmp_path / "b", "serve", MIGRATE_ON_START="false") == ["serve"]
    assert run_entrypoint(tmp_path / "c", "worker") == ["worker"]
    assert run_entrypoint(tmp_path / "d", "bot") == ["bot"]
    # Anything else is a plain command, not a subcommand.
    assert run_entrypoint(tmp_path / "e", "true") == []


# --- docker-compose.yml ---------------------------------------------------------------------------


def test_compose_services_profiles_and_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"api", "worker", "bot", "postgres", "redis", "n8n"} <= set(services)
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert services["grafana"]["profiles"] == ["monitoring"]
    assert services["ollama"]["profiles"] == ["local-llm"]
    for name in ("api", "worker", "postgres", "redis", "n8n"):
        assert "profiles" not in services[name], name
    commands = cli_commands()
    for name in APP_SERVICES:
        command = services[name]["command"]
        assert command[0] in commands, f"`assistant {command[0]}` does not exist"
        assert services[name]["build"] == "."


def test_compose_app_environment_names_are_settings(compose: dict[str, Any]) -> None:
    known = settings_env_names() | ENTRYPOINT_ENV
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        unknown = set(environment) - known
        assert not unknown, f"{name}: {unknown} are not settings"
        env_files = compose["services"][name]["env_file"]
        assert env_files == [{"path": ".env", "required": False}]


def test_compose_variables_are_documented(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    # Rarely changed knobs with safe defaults, documented in docs/operations.md instead.
    optional = {"ASSISTANT_IMAGE", "N8N_VERSION", "N8N_BIND", "TZ", "REDIS_MAXMEMORY"}
    optional |= {"PROMETHEUS_BIND", "PROMETHEUS_PORT", "GRAFANA_BIND", "GRAFANA_PORT"}
    optional |= {"GRAFANA_ADMIN_USER"}
    undocumented = used - env_example_names() - optional
    assert not undocumented, undocumented
    operations = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    for name in optional:
        assert name in operations, f"{name} is not in docs/operations.md"


def test_compose_ports_and_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api = services["api"]
    container_port = str(Settings.model_fields["port"].default)
    assert api["environment"]["PORT"] == container_port
    assert api["ports"][0].endswith(f":{container_port}")
    assert f"127.0.0.1:{container_port}/health" in " ".join(api["healthcheck"]["test"])
    for name in ("postgres", "redis", "n8n", "prometheus", "grafana", "ollama"):
        assert services[name]["healthcheck"]["test"], name
    # Services without an HTTP server must not inherit the image's /health check.
    for name in ("worker", "bot"):
        assert services[name]["healthcheck"] == {"disable": True}
    # Nothing starts before what it needs is healthy; only the API migrates.
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
    for name in ("worker", "bot", "n8n"):
        assert services[name]["depends_on"]["api"]["condition"] == "service_healthy"
    assert "ports" not in services["postgres"] and "ports" not in services["redis"]


def test_compose_database_and_redis_urls_match_their_services(compose: dict[str, Any]) -> None:
    env = compose["services"]["api"]["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    postgres_env = compose["services"]["postgres"]["environment"]
    for variable in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert "${" + variable in env["DATABASE_URL"]
        assert "${" + variable in postgres_env[variable]

    # Every setting passes validation as compose would hand it over (variables filled in).
    def fill(match: re.Match[str]) -> str:
        default = match.group(2)
        return default if default is not None else "a-required-secret"

    filled = {
        key: re.sub(r"\$\{([A-Z_]+)(?::-([^}]*)|:\?[^}]*)?\}", fill, value)
        for key, value in env.items()
        if key not in ENTRYPOINT_ENV
    }
    values: dict[str, Any] = {k.lower(): v for k, v in filled.items()}
    Settings(_env_file=None, **values)


def test_compose_volumes_and_mounts(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                # Bind mounts of the repository must exist (backups/ is created by `make backup`).
                if source != "./backups":
                    assert (ROOT / source).exists(), f"{name}: {source}"
            else:
                used.add(source)
                assert source in declared, f"{name}: volume {source} is not declared"
    assert used == declared
    n8n = compose["services"]["n8n"]
    assert "./n8n-flows:/flows:ro" in n8n["volumes"]
    script = n8n["command"][0]
    assert "n8n import:workflow --separate --input=/flows" in script
    assert "exec n8n start" in script
    assert n8n["environment"]["ASSISTANT_URL"] == "http://api:8000"


def test_local_llm_profile_points_the_api_at_ollama(compose: dict[str, Any]) -> None:
    env = compose["services"]["api"]["environment"]
    assert env["OPENAI_BASE_URL"] == "${OPENAI_BASE_URL:-}"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "export OPENAI_BASE_URL ?= http://ollama:11434/v1" in makefile
    pull = compose["services"]["ollama-pull"]
    assert pull["environment"]["OLLAMA_HOST"] == "ollama:11434"
    assert "${OLLAMA_MODEL" in " ".join(pull["entrypoint"])
