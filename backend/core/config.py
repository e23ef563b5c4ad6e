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
        """A label for logs, metrics and the breaker: host[:port] and model, never the key."""
        if self.base_url is None:
            return f"openai/{self.model}"
        url = self.base_url
        default_port = {"http": 80, "https": 443}.get(url.scheme)
        host = url.host or "llm"
        port = f":{url.port}" if url.port and url.port != default_port else ""
        return f"{host}{port}/{self.model}"


class ModelPrice(BaseModel):
    """USD per one million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


# Public list prices (USD / 1M tokens) of common models; LLM_PRICES adds to or overrides them.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60),
    "gpt-4o": ModelPrice(input=2.50, output=10.00),
    "gpt-4.1": ModelPrice(input=2.00, output=8.00),
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60),
    "gpt-4.1-nano": ModelPrice(input=0.10, output=0.40),
    "gpt-3.5-turbo": ModelPrice(input=0.50, output=1.50),
}


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
    # Connections per process to Redis, and how long a request waits for a free one (s).
    redis_max_connections: int = Field(default=200, ge=2)
    redis_pool_timeout: float = Field(default=5.0, gt=0)

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

    # --- tasks (long texts, structured outputs, report) ---------------------------------------
    # Tokens the model's context holds (prompt + answer); longer texts are split (map-reduce).
    llm_context_tokens: int = Field(default=8000, ge=256, le=2_000_000)
    # How JSON answers are requested: json_schema (response_format with the result's schema),
    # json_object (any JSON; the schema goes in the prompt) or off (prompt only), for providers
    # that reject response_format.
    llm_structured_output: Literal["json_schema", "json_object", "off"] = "json_schema"
    # LLM calls one request may run at once over the chunks of a long text.
    llm_chunk_concurrency: int = Field(default=4, ge=1, le=32)
    # Most history entries a report reads.
    report_max_entries: int = Field(default=500, ge=1, le=10_000)

    # --- resilience and cost (circuit breaker, fallbacks, coalescing, limits, prices) ----------
    openai_breaker_failures: int = Field(default=5, ge=1)
    openai_breaker_cooldown: float = Field(default=30.0, gt=0)
    # JSON list of further OpenAI-compatible endpoints, tried in order.
    llm_fallbacks: list[LLMEndpoint] = Field(default_factory=list)
    offline_fallback: bool = True
    degraded_cache_ttl: int = Field(default=30, ge=0)
    coalesce_timeout: float = Field(default=60.0, gt=0)
    idempotency_ttl: int = Field(default=86_400, ge=60)
    rate_limit: str | None = "60/minute"
    # JSON {"model": {"input": USD per 1M prompt tokens, "output": USD per 1M completion tokens}}
    llm_prices: dict[str, ModelPrice] = Field(default_factory=dict)

    # --- jobs (background tasks on arq; need Redis) -------------------------------------------
    jobs_queue_name: str | None = None  # default: REDIS_KEY_PREFIX + "jobs"
    jobs_concurrency: int = Field(default=10, ge=1)
    jobs_timeout: float = Field(default=600.0, gt=0)
    jobs_shutdown_grace: int = Field(default=30, ge=0)
    jobs_poll_delay: float = Field(default=0.5, gt=0)
    jobs_callback_timeout: float = Field(default=10.0, gt=0)
    jobs_callback_attempts: int = Field(default=5, ge=1, le=20)
    jobs_callback_backoff: float = Field(default=2.0, ge=0)
    jobs_callback_backoff_max: float = Field(default=60.0, ge=0)
    # Hosts callbacks may go to (empty: any). Comma-separated.
    jobs_callback_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("jobs_callback_hosts", mode="before")
    @classmethod
    def _split_callback_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip().lower() for host in value.split(",") if host.strip()]
        return value

    @property
    def jobs_queue(self) -> str:
        return self.jobs_queue_name or f"{self.redis_key_prefix}jobs"

    # --- observability (metrics, logs, proxies) -----------------------------------------------
    metrics_enabled: bool = True
    # When set, /metrics wants `Authorization: Bearer METRICS_TOKEN` (blank: open).
    metrics_token: str | None = Field(default=None, min_length=16)
    log_format: Literal["json", "console"] = "json"
    access_log: bool = True
    # Proxies whose X-Forwarded-For/-Proto `assistant serve` trusts (comma-separated, or *).
    forwarded_allow_ips: str = "127.0.0.1"

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _blank_metrics_token(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # --- history -------------------------------------------------------------------------------
    # Days of history to keep (0: forever). PostgreSQL drops whole monthly partitions, so rows
    # live between N days and N days + one month; SQLite deletes rows.
    history_retention_days: int = Field(default=0, ge=0)
    # Monthly partitions created ahead of time by the maintenance job (PostgreSQL).
    history_partitions_ahead: int = Field(default=3, ge=1, le=24)
    # Seconds between maintenance runs (partitions ahead + retention); 0: only at start-up.
    history_maintenance_interval: float = Field(default=6 * 3600, ge=0)
    # Group commit: at most this many records per INSERT; wait up to this many ms for more.
    history_batch_max_rows: int = Field(default=500, ge=1, le=10_000)
    history_batch_max_wait_ms: int = Field(default=0, ge=0, le=1000)
    # Longest a batch may wait on the database before it goes to the spool instead.
    history_write_timeout: float = Field(default=5.0, gt=0)
    # Where records go while the database is down: auto (Redis stream, else a file under
    # DATA_DIR) or file (always the file).
    history_spool: Literal["auto", "file"] = "auto"
    # Seconds between attempts to replay the spool into the database.
    history_replay_interval: float = Field(default=2.0, gt=0)

    # --- telegram (the bot: `assistant bot` polls; webhook mode runs inside the API) ----------
    telegram_bot_token: str | None = None
    # Where the Bot API lives; the token is appended (a local Bot API server, or a test fake).
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    # Chat ids allowed to use the bot (comma-separated; empty: everybody).
    telegram_allowed_chats: Annotated[list[int], NoDecode] = Field(default_factory=list)
    # Public URL of POST /telegram/webhook; when set, the API registers it and serves the bot.
    telegram_webhook_url: str | None = None
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token; required in webhook mode.
    telegram_webhook_secret: str | None = Field(
        default=None, min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_-]+$"
    )
    # Per-chat limit of handled messages (`limits` syntax; "off" disables it).
    telegram_rate_limit: str | None = "20/minute"

    @field_validator(
        "telegram_bot_token", "telegram_webhook_url", "telegram_webhook_secret", mode="before"
    )
    @classmethod
    def _blank_telegram_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_allowed_chats", mode="before")
    @classmethod
    def _split_chats(cls, value: object) -> object:
        # TELEGRAM_ALLOWED_CHATS=12345,-1001234567890
        if isinstance(value, str):
            return [int(chat) for chat in value.replace(" ", "").split(",") if chat]
        return value

    @field_validator("telegram_rate_limit", mode="before")
    @classmethod
    def _check_telegram_rate(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"", "off", "none", "0"}:
            return None
        return check_rate(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_telegram_webhook(self) -> Settings:
        # Without the secret anybody could post forged updates (and pass the allow-list).
        if self.telegram_webhook_url and not (
            self.telegram_bot_token and self.telegram_webhook_secret
        ):
            raise ValueError(
                "TELEGRAM_WEBHOOK_URL needs TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET"
            )
        return self

    @property
    def telegram_webhook_mode(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_webhook_url)

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

    @field_validator("rate_limit", mode="before")
    @classmethod
    def _check_rate_limit(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in {"", "off", "none", "0"}:
            return None
        if isinstance(value, str):
            check_rate(value)
        return value

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

    @property
    def llm_endpoints(self) -> list[LLMEndpoint]:
        """The primary endpoint, then LLM_FALLBACKS in order."""
        return [self.primary_llm, *self.llm_fallbacks] if self.llm_enabled else []

    def price_for(self, model: str) -> ModelPrice | None:
        prices = {**DEFAULT_PRICES, **self.llm_prices}
        if model in prices:
            return prices[model]
        # Providers answer with dated names ("gpt-4o-mini-2024-07-18"): use the longest prefix.
        matches = [name for name in prices if model.startswith(name)]
        return prices[max(matches, key=len)] if matches else None

    def cache_ttl_for(self, task: str) -> int:
        """TTL of a task's cached answers: its own setting if any, else REDIS_CACHE_TTL."""
        specific = {
            "summarize": self.summary_cache_ttl,
            "translate": self.translation_cache_ttl,
            "classify": self.classification_cache_ttl,
        }.get(task)
        return self.redis_cache_ttl if specific is None else specific


def check_rate(value: str) -> str:
    """A `limits` rate string such as `60/minute` or `1000/hour;20/second`."""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise ValueError(f"not a rate limit such as '60/minute': {value!r}") from exc
    return value


def load_settings(**overrides: object) -> Settings:
    """Build and validate settings; used by the app factory, the CLI and the tests."""
    return Settings(**overrides)  # type: ignore[arg-type]
