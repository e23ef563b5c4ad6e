"""Prometheus config, alert rules and the Grafana dashboard: structure, cross-references, and every
metric name they use present in a real scrape of the app's /metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import AUTH, AppFactory
from tests.ops.repo import ROOT, load_yaml, promql_metric_names
from tests.support.fake_llm import FakeLLM

DASHBOARD = "monitoring/grafana/dashboards/workflow-assistant.json"
# Made by Prometheus itself, not by the app.
SYNTHETIC = {"up"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
}


def alert_rules() -> list[dict[str, Any]]:
    groups = load_yaml("monitoring/alerts.yml")["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / DASHBOARD).read_text(encoding="utf-8"))
    return data


def dashboard_exprs() -> list[str]:
    return [target["expr"] for panel in dashboard()["panels"] for target in panel["targets"]]


def exposed_names(exposition: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(exposition):
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
        names.update(sample.name for sample in family.samples)
    return names


async def test_every_metric_in_alerts_and_dashboard_is_exposed(
    make_client: AppFactory, fake_llm: FakeLLM
) -> None:
    async with make_client(llm=fake_llm) as client:
        task = await client.post("/v1/tasks/summarize", json={"text": "Uno. Dos."}, headers=AUTH)
        assert task.status_code == 200, task.text
        scrape = await client.get("/metrics")
    assert scrape.status_code == 200
    exposed = exposed_names(scrape.text)

    exprs = [rule["expr"] for rule in alert_rules()] + dashboard_exprs()
    for expr in exprs:
        used = promql_metric_names(expr)
        assert used, f"no metric found in {expr!r}"
        missing = used - exposed - SYNTHETIC
        assert not missing, f"{missing} (in {expr!r}) are not in /metrics"


def test_promql_name_extraction_ignores_labels_and_functions() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, endpoint) (rate(foo_bucket{job="a", x=~"b|c"}[5m])))'
        " / clamp_min(sum(rate(bar_total[5m])), 1e-9) > 2"
    )
    assert promql_metric_names(expr) == {"foo_bucket", "bar_total"}


def test_prometheus_config_matches_compose_and_app() -> None:
    config = load_yaml("monitoring/prometheus.yml")
    compose = load_yaml("docker-compose.yml")
    prometheus = compose["services"]["prometheus"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in prometheus["volumes"]}
    # Every rule file is mounted from the repository.
    for rule_file in config["rule_files"]:
        assert rule_file in mounts
        assert (ROOT / mounts[rule_file]).is_file()
    assert mounts["/etc/prometheus/prometheus.yml"] == "./monitoring/prometheus.yml"
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "assistant"
    assert job["metrics_path"] == "/metrics"
    (sd,) = job["dns_sd_configs"]
    assert sd["names"] == ["api"] and "api" in compose["services"]
    assert sd["port"] == int(compose["services"]["api"]["environment"]["PORT"])
    # The scrape token file is the one the container writes from METRICS_TOKEN.
    token_file = job["authorization"]["credentials_file"]
    assert f"> {token_file}" in prometheus["command"][0]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"][0]
    # The alert rules select the same job.
    for rule in alert_rules():
        if "job=" in rule["expr"]:
            assert 'job="assistant"' in rule["expr"]


def test_alert_rules_of_the_original_design() -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    for rule in rules.values():
        assert rule["expr"].strip() and rule["for"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
    latency = rules["AssistantHighLatency"]["expr"]
    assert "http_request_duration_highr_seconds_bucket" in latency and "> 2" in latency
    errors = rules["AssistantHighErrorRate"]["expr"]
    assert 'status="5xx"' in errors and "> 0.01" in errors
    assert 'backend="postgresql"' in rules["AssistantPostgresDown"]["expr"]
    assert 'backend="redis"' in rules["AssistantRedisDown"]["expr"]
    assert "assistant_breaker_open" in rules["AssistantBreakerOpen"]["expr"]
    assert "== 0" in rules["AssistantDown"]["expr"]


@pytest.mark.parametrize(
    "words",
    [
        ("request rate",),
        ("latency", "p50", "p95"),
        ("error rate",),
        ("cache hit ratio",),
        ("llm latency", "endpoint"),
        ("llm errors", "endpoint"),
        ("tokens",),
        ("cost",),
        ("spool",),
    ],
)
def test_dashboard_has_the_panels_of_the_issue(words: tuple[str, ...]) -> None:
    titles = [panel["title"].lower() for panel in dashboard()["panels"]]
    assert any(all(word in title for word in words) for title in titles), (words, titles)


def test_dashboard_is_provisioned_with_its_datasource() -> None:
    data = dashboard()
    assert data["uid"] and data["title"] and data["schemaVersion"] >= 36
    ids = [panel["id"] for panel in data["panels"]]
    assert len(ids) == len(set(ids))
    (datasource,) = load_yaml("monitoring/grafana/provisioning/datasources/prometheus.yml")[
        "datasources"
    ]
    assert datasource["url"] == "http://prometheus:9090"
    for panel in data["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        assert panel["datasource"]["uid"] == datasource["uid"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource["uid"]
    (provider,) = load_yaml("monitoring/grafana/provisioning/dashboards/assistant.yml")["providers"]
    grafana = load_yaml("docker-compose.yml")["services"]["grafana"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in grafana["volumes"]}
    assert mounts[provider["options"]["path"]] == "./monitoring/grafana/dashboards"
    assert mounts["/etc/grafana/provisioning"] == "./monitoring/grafana/provisioning"
