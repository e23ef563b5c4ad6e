"""Background jobs: the `jobs` table and one callback-signing secret per API key.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", KEY_ID, nullable=False),
        sa.Column("task", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("options", JSON, nullable=False),
        sa.Column("callback_url", sa.String(2048), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("run_token", sa.String(36), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_status", sa.String(16), nullable=True),
        sa.Column("deliveries", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], ondelete="CASCADE", name="fk_jobs_api_key_id_api_keys"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    # The caller's jobs by status, newest first (GET /v1/jobs?status=failed).
    op.create_index(
        "ix_jobs_api_key_id_status_created_at", "jobs", ["api_key_id", "status", "created_at"]
    )
    # Workers look for orphans (queued, or running with an expired lease) at start-up.
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_table(
        "job_callback_secrets",
        sa.Column("api_key_id", KEY_ID, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            ondelete="CASCADE",
            name="fk_job_callback_secrets_api_key_id_api_keys",
        ),
        sa.PrimaryKeyConstraint("api_key_id", name="pk_job_callback_secrets"),
    )


def downgrade() -> None:
    op.drop_table("job_callback_secrets")
    op.drop_index("ix_jobs_status", table_name="jobs")
    op.drop_index("ix_jobs_api_key_id_status_created_at", table_name="jobs")
    op.drop_table("jobs")
