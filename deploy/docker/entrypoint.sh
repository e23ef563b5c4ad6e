#!/bin/sh
# Container entry point. `serve` (the default) first applies the database migrations — the prestart
# step — unless MIGRATE_ON_START=false (Kubernetes runs them in an init container instead). Only the
# API migrates: the worker and the bot start after it is healthy (see docker-compose.yml).
set -eu

case "${1:-serve}" in
  serve)
    if [ "${MIGRATE_ON_START:-true}" = "true" ]; then
      assistant migrate
    fi
    exec assistant "$@"
    ;;
  migrate | worker | bot | keys | db | --help)
    exec assistant "$@"
    ;;
  *)
    # Anything else is a plain command (`docker compose exec api sh`, `python -c ...`).
    exec "$@"
    ;;
esac
