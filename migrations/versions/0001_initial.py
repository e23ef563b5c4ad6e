"""Initial schema: api_keys, chat_modes, history (monthly partitions on PostgreSQL), consultas_ia.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The view keeps the original design's columns and Spanish task names, so existing SQL,
# dashboards and backups keep working.
CONSULTAS_IA_VIEW = """
CREATE VIEW consultas_ia AS
SELECT id, chat_id,
       CASE task
           WHEN 'summarize' THEN 'resumir'
           WHEN 'translate' THEN 'traducir'
           WHEN 'classify' THEN 'clasificar'
           WHEN 'extract' THEN 'extraer'
           WHEN 'sentiment' THEN 'sentimiento'
           WHEN 'report' THEN 'reporte'
           WHEN 'generate' THEN 'generar'
           ELSE task
       END AS tipo_tarea,
       input_text AS texto_original,
       output_text AS resultado,
       language AS idioma,
       created_at AS fecha
FROM history
"""


def _month_start(day: date, offset: int) -> date:
    month_index = day.year * 12 + day.month - 1 + offset
    return date(month_index // 12, month_index % 12 + 1, 1)


def _create_pg_history() -> None:
    op.execute(
        """
        CREATE TABLE history (
            id UUID NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            api_key_id BIGINT NOT NULL,
            chat_id BIGINT,
            task VARCHAR(32) NOT NULL,
            input_text TEXT NOT NULL,
            output_text TEXT NOT NULL,
            result JSONB NOT NULL,
            options JSONB NOT NULL DEFAULT '{}'::jsonb,
            language VARCHAR(8),
            model VARCHAR(100) NOT NULL,
            endpoint VARCHAR(200),
            cached BOOLEAN NOT NULL DEFAULT false,
            degraded BOOLEAN NOT NULL DEFAULT false,
            coalesced BOOLEAN NOT NULL DEFAULT false,
            attempts INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            cost_usd DOUBLE PRECISION,
            duration_ms INTEGER NOT NULL DEFAULT 0,
            CONSTRAINT pk_history PRIMARY KEY (id, created_at)
        ) PARTITION BY RANGE (created_at)
        """
    )
    # A default partition means no insert ever fails for want of a partition; the maintenance
    # command creates the monthly ones ahead of time.
    op.execute("CREATE TABLE history_default PARTITION OF history DEFAULT")
    today = datetime.now(UTC).date()
    for offset in range(-1, 3):
        start, end = _month_start(today, offset), _month_start(today, offset + 1)
        op.execute(
            f"CREATE TABLE history_{start:%Y_%m} PARTITION OF history "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )


def _create_sqlite_history() -> None:
    op.create_table(
        "history",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("input_text", sa.Text(), nullable=False),
        sa.Column("output_text", sa.Text(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=True),
        sa.Column("cached", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("degraded", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("coalesced", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", "created_at", name="pk_history"),
    )


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_limit", sa.String(64), nullable=True),
        sa.Column("monthly_budget_usd", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_index("ix_api_keys_name", "api_keys", ["name"])
    op.create_table(
        "chat_modes",
        sa.Column(
            "api_key_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            ondelete="CASCADE",
            name="fk_chat_modes_api_key_id_api_keys",
        ),
        sa.PrimaryKeyConstraint("api_key_id", "chat_id", name="pk_chat_modes"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_pg_history()
    else:
        _create_sqlite_history()
    op.create_index("ix_history_chat_id", "history", ["chat_id"])
    op.create_index("ix_history_task", "history", ["task"])
    op.create_index("ix_history_created_at", "history", ["created_at"])
    op.create_index("ix_history_chat_id_task", "history", ["chat_id", "task"])
    op.create_index("ix_history_api_key_id_created_at", "history", ["api_key_id", "created_at"])
    op.execute(CONSULTAS_IA_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS consultas_ia")
    op.drop_table("history")
    op.drop_table("chat_modes")
    op.drop_table("api_keys")
