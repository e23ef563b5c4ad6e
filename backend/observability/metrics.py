"""Our own Prometheus metrics, beside the HTTP ones from prometheus-fastapi-instrumentator.

Names are part of the public contract: the Grafana dashboard and the alert rules under
`monitoring/` refer to them, and a test checks that every name they use exists here.

Label values the dashboard and alerts rely on (keep them when you instrument):
- `outcome` of assistant_llm_call_seconds: "ok" on success, else a short error name
  ("timeout", "rate_limited", "error", ...); the "LLM errors" panel counts `outcome!="ok"`.
- `outcome` of assistant_cache_lookups_total: "hit" or "miss" (the hit ratio is hit / all).
- `cached` and `degraded` of assistant_task_requests_total: "true" or "false".
- `kind` of assistant_llm_tokens_total: "prompt" or "completion".
- Never put texts, keys or unbounded values (ids, chat ids) in labels.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TASK_REQUESTS = Counter(
    "assistant_task_requests_total",
    "Task requests by task, outcome status, cache outcome and degradation.",
    ["task", "status", "cached", "degraded"],
)
CACHE_LOOKUPS = Counter(
    "assistant_cache_lookups_total", "Cache lookups of task answers.", ["task", "outcome"]
)
COALESCED = Counter(
    "assistant_coalesced_requests_total",
    "Requests answered by waiting for an identical in-flight request.",
    ["task"],
)
LLM_CALL_SECONDS = Histogram(
    "assistant_llm_call_seconds",
    "Latency of upstream LLM calls (all attempts of one call).",
    ["endpoint", "model", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
LLM_RETRIES = Counter("assistant_llm_retries_total", "Retried upstream LLM attempts.", ["endpoint"])
LLM_FALLBACKS = Counter(
    "assistant_llm_fallbacks_total",
    "Calls that moved on from an endpoint to the next one in LLM_FALLBACKS (or offline).",
    ["from_endpoint", "to_endpoint"],
)
BREAKER_OPEN = Gauge(
    "assistant_breaker_open", "1 while an endpoint's circuit breaker is open.", ["endpoint"]
)
BREAKER_TRANSITIONS = Counter(
    "assistant_breaker_transitions_total", "Circuit breaker state changes.", ["endpoint", "state"]
)
TOKENS = Counter("assistant_llm_tokens_total", "LLM tokens used.", ["model", "kind"])
COST_USD = Counter("assistant_llm_cost_usd_total", "Estimated LLM cost in USD.", ["model"])
HISTORY_SPOOL_DEPTH = Gauge(
    "assistant_history_spool_depth", "History records waiting in the spool for the database."
)
JOBS_QUEUE_DEPTH = Gauge("assistant_jobs_queue_depth", "Background jobs waiting in the queue.")
# Set at each scrape of /metrics by probing the backing services (observability/exposition.py), so
# alerts can tell "PostgreSQL/Redis is down" from the service's own point of view.
DEPENDENCY_UP = Gauge(
    "assistant_dependency_up",
    "1 when a backing service answered the probe made at the last scrape, else 0.",
    ["dependency", "backend"],
)
BUILD_INFO = Gauge("assistant_build_info", "Always 1; the labels say what is running.", ["version"])
