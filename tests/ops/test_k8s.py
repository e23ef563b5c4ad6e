"""deploy/k8s: manifests parse, reference each other, and name real settings and real routes."""

from __future__ import annotations

from typing import Any

import pytest

from backend.core.config import Settings
from tests.conftest import AppFactory
from tests.ops.repo import ROOT, load_yaml, load_yaml_documents, settings_env_names

K8S = ROOT / "deploy/k8s"
ENTRYPOINT_ENV = {"MIGRATE_ON_START"}


def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in load_yaml_documents(path):
            found[(doc["kind"], doc["metadata"]["name"] if "metadata" in doc else path.name)] = doc
    return found


def deployment(name: str) -> dict[str, Any]:
    return manifests()[("Deployment", name)]


def container(name: str) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment(name)["spec"]["template"]["spec"]["containers"]
    return containers[0]


def test_every_manifest_parses_with_kind_and_version() -> None:
    kinds = {kind for kind, _ in manifests()}
    expected = {"Deployment", "Service", "HorizontalPodAutoscaler", "ConfigMap", "Secret"}
    assert expected <= kinds
    for (kind, _), doc in manifests().items():
        assert doc["apiVersion"], kind


def test_kustomization_lists_existing_files_but_not_the_secret_example() -> None:
    kustomization = load_yaml("deploy/k8s/kustomization.yaml")
    for resource in kustomization["resources"]:
        assert (K8S / resource).is_file(), resource
    assert "secret.example.yaml" not in kustomization["resources"]
    listed = set(kustomization["resources"]) | {"kustomization.yaml", "secret.example.yaml"}
    assert {p.name for p in K8S.glob("*.yaml")} == listed


@pytest.mark.parametrize("name", ["assistant-api", "assistant-worker"])
def test_deployments_are_wired_to_config_secret_and_resources(name: str) -> None:
    spec = deployment(name)["spec"]
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user
    for box in pod["containers"] + pod.get("initContainers", []):
        refs = {
            next(iter(ref)): ref[next(iter(ref))]["name"] for ref in box["envFrom"]
        }  # configMapRef / secretRef
        assert ("ConfigMap", refs["configMapRef"]) in manifests()
        assert ("Secret", refs["secretRef"]) in manifests()
        assert box["resources"]["requests"]["cpu"] and box["resources"]["requests"]["memory"]
        assert box["resources"]["limits"]["memory"]
        assert box["securityContext"]["allowPrivilegeEscalation"] is False
        for variable in box.get("env", []):
            assert variable["name"] in settings_env_names() | ENTRYPOINT_ENV, variable


def test_config_and_secret_keys_are_settings() -> None:
    found = manifests()
    config = found[("ConfigMap", "workflow-assistant")]["data"]
    secret = found[("Secret", "workflow-assistant")]["stringData"]
    assert not set(config) - settings_env_names()
    assert not set(secret) - settings_env_names()
    # Secrets stay out of the ConfigMap.
    assert not {"API_KEY", "OPENAI_API_KEY", "DATABASE_URL", "METRICS_TOKEN"} & set(config)
    # And the ConfigMap's values are valid settings.
    Settings(_env_file=None, **{k.lower(): v for k, v in config.items()})


def test_api_migrates_in_an_init_container_and_serves() -> None:
    pod = deployment("assistant-api")["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    assert init["args"] == ["migrate"]
    api = container("assistant-api")
    assert api["args"] == ["serve"]
    env = {v["name"]: v["value"] for v in api["env"]}
    assert env["MIGRATE_ON_START"] == "false"
    assert container("assistant-worker")["args"] == ["worker"]


def test_service_and_hpa_point_at_the_api() -> None:
    found = manifests()
    api = container("assistant-api")
    (port,) = api["ports"]
    assert port["containerPort"] == Settings.model_fields["port"].default
    service = found[("Service", "assistant-api")]
    assert service["spec"]["selector"].items() <= (
        deployment("assistant-api")["spec"]["template"]["metadata"]["labels"].items()
    )
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    hpa = found[("HorizontalPodAutoscaler", "assistant-api")]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "assistant-api",
    }
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]


async def test_probe_paths_are_real_routes(make_client: AppFactory) -> None:
    api = container("assistant-api")
    probes = {
        kind: api[kind]["httpGet"] for kind in ("livenessProbe", "readinessProbe", "startupProbe")
    }
    assert probes["livenessProbe"]["path"] == "/health"
    assert probes["readinessProbe"]["path"] == "/ready"
    port_names = {p["name"] for p in api["ports"]}
    async with make_client() as client:
        for kind, probe in probes.items():
            assert probe["port"] in port_names, kind
            response = await client.get(probe["path"])
            assert response.status_code == 200, (kind, response.text)
        annotations = deployment("assistant-api")["spec"]["template"]["metadata"]["annotations"]
        assert (await client.get(annotations["prometheus.io/path"])).status_code == 200
