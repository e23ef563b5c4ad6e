# syntax=docker/dockerfile:1.7
# Workflow Assistant: one image for the API (`serve`, the default), the worker and the bot.
#   docker build -t workflow-assistant .
#   docker run --env-file .env -p 8000:8000 workflow-assistant
ARG PYTHON_VERSION=3.12
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# --- build: resolve the locked dependencies into /app/.venv -------------------------------------
FROM python:${PYTHON_VERSION}-slim-trixie AS builder
COPY --from=uv /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first, in their own layer: code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
COPY README.md alembic.ini ./
COPY migrations ./migrations
COPY backend ./backend
# The project itself stays an editable install: migrations are found next to the package.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# --- runtime: slim, no build tools, non-root -----------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-trixie AS runtime
# postgresql-client: pg_dump/psql for `assistant db backup|restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
# Code and venv stay owned by root (read-only for the app); only data/ and backups/ are writable.
COPY --from=builder /app /app
COPY deploy/docker/entrypoint.sh /usr/local/bin/entrypoint
RUN chmod 0755 /usr/local/bin/entrypoint \
    && mkdir -p /app/data /app/backups \
    && chown app:app /app/data /app/backups
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data
USER app
EXPOSE 8000
VOLUME ["/app/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]
ENTRYPOINT ["entrypoint"]
CMD ["serve"]
