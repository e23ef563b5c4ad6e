# Workflow Assistant — `make help` lists the targets.
SHELL := /bin/bash
UV ?= uv
UV_RUN := $(UV) run --frozen
PYTEST_ARGS ?=

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
	$(UV_RUN) ruff check backend tests migrations
	$(UV_RUN) ruff format --check backend tests migrations
	$(UV_RUN) mypy

.PHONY: format
format: install ## Format the code with ruff
	$(UV_RUN) ruff format backend tests migrations
	$(UV_RUN) ruff check --fix backend tests migrations

.PHONY: audit
audit: install ## Check the locked dependencies for known vulnerabilities (pip-audit)
	$(UV) export --frozen --no-hashes --no-emit-project -q -o .venv/requirements-audit.txt
	$(UV_RUN) pip-audit -r .venv/requirements-audit.txt --no-deps --disable-pip --progress-spinner off
