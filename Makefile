# Workflow Assistant — `make help` lists the targets.
SHELL := /bin/bash
UV ?= uv
UV_RUN := $(UV) run --frozen
PYTEST_ARGS ?=
# Compose: `make up PROFILES="monitoring local-llm bot"`, `make logs SERVICE=api`.
COMPOSE ?= docker compose
PROFILES ?=
SERVICE ?=
COMPOSE_CMD = $(COMPOSE) $(foreach profile,$(PROFILES),--profile $(profile))
OLLAMA_MODEL ?= llama3.2
ifneq ($(filter local-llm,$(PROFILES)),)
# The local-llm profile points the API at the Ollama container (compose reads these).
export OPENAI_BASE_URL ?= http://ollama:11434/v1
export OPENAI_MODEL ?= $(OLLAMA_MODEL)
export OLLAMA_MODEL
endif
# Database maintenance runs the CLI here against DATABASE_URL, or in the compose API container
# with IN_COMPOSE=1 (backups then land in ./backups, which the container mounts).
IN_COMPOSE ?=
ifeq ($(IN_COMPOSE),1)
ASSISTANT ?= $(COMPOSE) exec -T api assistant
ASSISTANT_DEPS :=
else
ASSISTANT ?= $(UV_RUN) assistant
ASSISTANT_DEPS := install
endif
BACKUP_DIR ?= backups
KEEP_DAYS ?= 7
FILE ?=
CONFIRM ?=
HEALTH_URL ?= http://127.0.0.1:$(or $(API_PORT),$(PORT),8000)
BENCH_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

.PHONY: uv
uv:
	@command -v $(UV) >/dev/null 2>&1 || python3 -m pip install --quiet uv

.PHONY: install
install: uv ## Create .venv and install the locked dependencies (uv.lock)
	$(UV) sync --frozen

.PHONY: run
run: install ## Migrate and start the API on 0.0.0.0:$$PORT (embedded defaults without config)
	$(UV_RUN) assistant migrate
	$(UV_RUN) assistant serve

.PHONY: migrate
migrate: install ## Apply database migrations
	$(UV_RUN) assistant migrate

.PHONY: test
test: install ## Run the whole test suite (needs PostgreSQL and Redis on localhost)
	$(UV_RUN) pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff (lint + format check) and mypy --strict
	$(UV_RUN) ruff check backend tests migrations bench
	$(UV_RUN) ruff format --check backend tests migrations bench
	$(UV_RUN) mypy

.PHONY: format
format: install ## Format the code with ruff
	$(UV_RUN) ruff format backend tests migrations bench
	$(UV_RUN) ruff check --fix backend tests migrations bench

.PHONY: audit
audit: install ## Check the locked dependencies for known vulnerabilities (pip-audit)
	$(UV) export --frozen --no-hashes --no-emit-project -q -o .venv/requirements-audit.txt
	$(UV_RUN) pip-audit -r .venv/requirements-audit.txt --no-deps --disable-pip --progress-spinner off

.PHONY: clean
clean: ## Remove caches and build leftovers (keeps .venv, data/ and backups/)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis dist build *.egg-info bench/results
	find backend tests migrations bench -type d -name __pycache__ -prune -exec rm -rf {} +

.PHONY: health-check
health-check: ## Check /health and /ready of a running API (HEALTH_URL=http://127.0.0.1:8000)
	@curl -fsS --max-time 5 $(HEALTH_URL)/health && echo
	@curl -sS --fail-with-body --max-time 10 $(HEALTH_URL)/ready && echo

# --- database maintenance (IN_COMPOSE=1 runs it in the compose API container) -------------------

.PHONY: backup
backup: $(ASSISTANT_DEPS) ## Dump the database into BACKUP_DIR (default backups/), keep KEEP_DAYS (7) days
	$(ASSISTANT) db backup --dir $(BACKUP_DIR) --keep-days $(KEEP_DAYS)

.PHONY: restore
restore: $(ASSISTANT_DEPS) ## Restore a backup: make restore FILE=backups/... (asks first; CONFIRM=yes skips)
	@[ -n "$(FILE)" ] || { echo "usage: make restore FILE=backups/<file>" >&2; exit 2; }
	@[ "$(CONFIRM)" = "yes" ] || { \
	  read -r -p "Restore $(FILE) over the current database? Type 'yes' to go on: " answer; \
	  [ "$$answer" = "yes" ] || { echo "Cancelled."; exit 1; }; }
	$(ASSISTANT) db restore $(FILE)

.PHONY: optimize-db
optimize-db: $(ASSISTANT_DEPS) ## ANALYZE/VACUUM and partition maintenance (create ahead, drop expired)
	$(ASSISTANT) db optimize

# --- docker compose (docker-compose.yml; docs/operations.md) -------------------------------------

.PHONY: up
up: ## Start the stack in the background (PROFILES="monitoring local-llm bot" adds those)
	$(COMPOSE_CMD) up -d

.PHONY: down
down: ## Stop and remove the stack's containers (volumes, hence data, are kept)
	$(COMPOSE_CMD) down

.PHONY: build
build: ## Build the service image
	$(COMPOSE_CMD) build

.PHONY: restart
restart: ## Restart the stack, or one service with SERVICE=api
	$(COMPOSE_CMD) restart $(SERVICE)

.PHONY: logs
logs: ## Follow the logs (SERVICE=api for one service)
	$(COMPOSE_CMD) logs -f --tail=200 $(SERVICE)

.PHONY: ps
ps: ## Show the stack's containers and their health
	$(COMPOSE_CMD) ps

.PHONY: db
db: ## Open a psql shell on the compose PostgreSQL
	$(COMPOSE) exec postgres sh -c 'psql -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"'

.PHONY: reset-db
reset-db: ## Drop and re-create the compose database, then migrate (asks first; CONFIRM=yes skips)
	@[ "$(CONFIRM)" = "yes" ] || { \
	  read -r -p "This DELETES every history record, key and job in the compose database. Type 'yes' to go on: " answer; \
	  [ "$$answer" = "yes" ] || { echo "Cancelled."; exit 1; }; }
	$(COMPOSE) exec -T postgres sh -c 'dropdb -U "$$POSTGRES_USER" --force --if-exists "$$POSTGRES_DB" && createdb -U "$$POSTGRES_USER" "$$POSTGRES_DB"'
	$(COMPOSE) run --rm --no-deps api migrate
	$(COMPOSE) restart api worker

# --- benchmarks ----------------------------------------------------------------------------------

.PHONY: bench
bench: install ## Run the benchmarks (wrk, PostgreSQL, Redis) and write the report (BENCH_ARGS=--quick)
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "wrk is not installed: trying 'apt-get install -y wrk'"; \
	  $(SUDO) apt-get install -y wrk || { \
	    echo "Could not install wrk. Install it (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk) and run make bench again." >&2; \
	    exit 1; }; }
	$(UV_RUN) python -m bench.run $(BENCH_ARGS)
