"""Settings are validated at start-up with clear messages."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.core.config import Settings


def make(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_embedded_defaults() -> None:
    settings = make()
    assert settings.is_sqlite
    assert settings.effective_database_url.endswith("data/assistant.db")
    assert settings.effective_redis_url is None
    assert settings.llm_enabled is False


def test_llm_is_enabled_by_key_or_base_url() -> None:
    assert make(openai_api_key="sk-1").llm_enabled
    assert make(openai_base_url="http://localhost:11434/v1").llm_enabled
    assert not make(openai_api_key="", openai_base_url="").llm_enabled


def test_redis_host_port_db_compose_a_url() -> None:
    settings = make(redis_host="cache", redis_port=6380, redis_db=2)
    assert settings.effective_redis_url == "redis://cache:6380/2"


def test_plain_postgres_urls_are_upgraded_to_asyncpg() -> None:
    settings = make(database_url="postgresql://u:p@db:5432/app")
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/app"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"database_url": "mysql://x"}, "DATABASE_URL must start with"),
        ({"openai_retry_delay_base": 5, "openai_retry_delay_max": 1}, "OPENAI_RETRY_DELAY_MAX"),
        ({"port": 70000}, "less than or equal to 65535"),
        ({"api_key": "short"}, "at least 16 characters"),
    ],
)
def test_bad_values_fail_fast_with_a_clear_message(values: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(**values)
    assert message in str(info.value)


def test_cache_ttl_per_task() -> None:
    settings = make(redis_cache_ttl=100, summary_cache_ttl=5)
    assert settings.cache_ttl_for("summarize") == 5
    assert settings.cache_ttl_for("translate") == 100
