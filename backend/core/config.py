"""One validated Settings object, read from the environment and an optional `.env` file.

Names follow the original Spanish design ("AI Personal Workflow Assistant") so existing `.env` files
keep working. Every setting is documented in `.env.example`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, HttpUrl, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")


class LLMEndpoint(BaseModel):
    """One OpenAI-compatible endpoint (the primary or a fallback)."""

    base_url: HttpUrl | None = None
    api_key: str = "not-needed"
    model: str = "gpt-4o-mini"

    @property
    def name(self) -> str:
        """A label for logs and metrics: the host, never the key."""
        return self.base_url.host or "openai" if self.base_url else "openai"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # --- service -------------------------------------------------------------------------------
    environment: Literal["development", "production", "test"] = "development"
    port: int = Field(default=8000, ge=1, le=65535)
    host: str = "0.0.0.0"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_texts: bool = False
    data_dir: Path = DEFAULT_DATA_DIR
    max_text_chars: int = Field(default=50_000, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    docs_enabled: bool = True
    # Security: browsers may call the API only from these origins (empty: CORS off).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # --- auth ----------------------------------------------------------------------------------
    api_key: str | None = Field(default=None, min_length=16)

    # --- database ------------------------------------------------------------------------------
    database_url: str | None = None
    postgres_pool_size: int = Field(default=10, ge=1)
    postgres_max_overflow: int = Field(default=20, ge=0)
    postgres_pool_timeout: float = Field(default=30.0, gt=0)
    postgres_pool_recycle: int = Field(default=1800, ge=-1)

    # --- redis / cache -------------------------------------------------------------------------
    redis_url: str | None = None
    redis_host: str | None = None
    redis_port: int = Field(default=6379, ge=1, le=65535)
    redis_db: int = Field(default=0, ge=0)
    redis_password: str | None = None
    redis_key_prefix: str = "wa:"
    redis_cache_ttl: int = Field(default=3600, ge=0)
    summary_cache_ttl: int | None = Field(default=None, ge=0)
    translation_cache_ttl: int | None = Field(default=None, ge=0)
    classification_cache_ttl: int | None = Field(default=None, ge=0)
    memory_cache_max_items: int = Field(default=10_000, ge=1)

    # --- LLM -----------------------------------------------------------------------------------
    openai_api_key: str | None = None
    openai_base_url: HttpUrl | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout: float = Field(default=30.0, gt=0)
    openai_max_retries: int = Field(default=3, ge=0, le=10)
    openai_retry_delay_base: float = Field(default=1.0, ge=0)
    openai_retry_delay_max: float = Field(default=20.0, ge=0)
    openai_retry_jitter: float = Field(default=0.5, ge=0)
    openai_temperature: float = Field(default=0.2, ge=0, le=2)
    openai_max_tokens: int = Field(default=1024, ge=1)

    @field_validator(
        "openai_base_url",
        "database_url",
        "redis_url",
        "api_key",
        "openai_api_key",
        "redis_host",
        "redis_password",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        # An empty line in `.env` (OPENAI_API_KEY=) means "not set", as users expect.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        # CORS_ORIGINS=https://a.example,https://b.example
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("postgres://", "postgresql://")):
            # Accept the URLs people copy from providers; we always talk asyncpg.
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError(
                "DATABASE_URL must start with postgresql+asyncpg:// or sqlite+aiosqlite://"
            )
        return value

    @model_validator(mode="after")
    def _check_retry_window(self) -> Settings:
        if self.openai_retry_delay_max < self.openai_retry_delay_base:
            raise ValueError("OPENAI_RETRY_DELAY_MAX must be >= OPENAI_RETRY_DELAY_BASE")
        return self

    # --- derived -------------------------------------------------------------------------------
    @property
    def llm_enabled(self) -> bool:
        """The LLM is used when a key or a base URL is configured; otherwise the offline engine."""
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def primary_llm(self) -> LLMEndpoint:
        return LLMEndpoint(
            base_url=self.openai_base_url,
            api_key=self.openai_api_key or "not-needed",
            model=self.openai_model,
        )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'assistant.db').as_posix()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def effective_redis_url(self) -> str | None:
        if self.redis_url:
            return self.redis_url
        if self.redis_host:
            auth = f":{self.redis_password}@" if self.redis_password else ""
            return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"
        return None

    def cache_ttl_for(self, task: str) -> int:
        """TTL of a task's cached answers: its own setting if any, else REDIS_CACHE_TTL."""
        specific = {
            "summarize": self.summary_cache_ttl,
            "translate": self.translation_cache_ttl,
            "classify": self.classification_cache_ttl,
        }.get(task)
        return self.redis_cache_ttl if specific is None else specific


def load_settings(**overrides: object) -> Settings:
    """Build and validate settings; used by the app factory, the CLI and the tests."""
    return Settings(**overrides)  # type: ignore[arg-type]
