"""Production readiness: `check --deploy`, valid Kubernetes manifests, security headers, probes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
MODEL_FOR_KIND = {
    "Namespace": "V1Namespace",
    "ConfigMap": "V1ConfigMap",
    "Secret": "V1Secret",
    "Deployment": "V1Deployment",
    "Job": "V1Job",
    "Service": "V1Service",
    "Ingress": "V1Ingress",
}


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nautes_portal.settings",
        "SECRET_KEY": "k3J9#vQ2$mX7@pL5^wR8&nT4*hY6(bF1)dS0-gZ3_cV9+aE2uI4oP7yT1rW6",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "portal.example.com",
        "NAUTES_HTTPS": "true",
        "NAUTES_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def manifest_documents() -> list[tuple[str, dict[str, Any]]]:
    documents = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document and document.get("kind") != "Kustomization":
                documents.append((path.name, document))
    return documents


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("path", "document"),
    manifest_documents(),
    ids=lambda v: v if isinstance(v, str) else v.get("kind"),
)
def test_manifests_match_the_kubernetes_schema(path: str, document: dict[str, Any]) -> None:
    """Round-trip through the official client's models: an unknown or misspelt field is lost."""
    from kubernetes.client import ApiClient

    client = ApiClient()
    model = client._ApiClient__deserialize(document, MODEL_FOR_KIND[document["kind"]])  # type: ignore[attr-defined]
    again = _strip_none(client.sanitize_for_serialization(model))
    assert again == document, f"{path}: fields the Kubernetes schema does not know"


KUBERNETES_VERSION = "1.30.0"  # the oldest release docs/production.md promises


@pytest.mark.parametrize(
    ("path", "document"),
    manifest_documents(),
    ids=lambda v: v if isinstance(v, str) else v.get("kind"),
)
def test_manifests_validate_against_the_kubernetes_openapi_schema(
    path: str, document: dict[str, Any]
) -> None:
    """What `kubectl apply --dry-run=client` checks, offline: kubernetes-validate carries the
    JSON schemas of each Kubernetes release; strict mode also refuses unknown fields."""
    import kubernetes_validate

    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_schema_validation_catches_a_broken_manifest() -> None:
    import kubernetes_validate
    from jsonschema import ValidationError

    web = yaml.safe_load((MANIFESTS / "web-deployment.yaml").read_text())
    web["spec"]["replicas"] = "three"
    with pytest.raises(ValidationError, match="'three' is not of type 'integer'"):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)
    web = yaml.safe_load((MANIFESTS / "web-deployment.yaml").read_text())
    web["spec"]["template"]["spec"]["containers"][0]["imagePullPolicies"] = "Always"
    with pytest.raises(ValidationError, match="imagePullPolicies"):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in MANIFESTS.glob("*.yaml")} - {
        "kustomization.yaml",
        "secret.example.yaml",
    }
    assert listed == present


def test_production_keeps_database_connections_and_checks_them(settings: Any) -> None:
    config = yaml.safe_load((MANIFESTS / "configmap.yaml").read_text())["data"]
    assert int(config["DATABASE_CONN_MAX_AGE"]) > 0, "not one PostgreSQL connection per request"
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_web_runs_several_replicas_and_probes() -> None:
    web = yaml.safe_load((MANIFESTS / "web-deployment.yaml").read_text())
    assert web["spec"]["replicas"] >= 2
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    worker = yaml.safe_load((MANIFESTS / "worker-deployment.yaml").read_text())
    assert worker["spec"]["template"]["spec"]["containers"][0]["args"][-1] == "qcluster"


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    page = response.content.decode()
    assert "<script>" not in page and not re.search(r"<style[ >]", page) and ' style="' not in page


@pytest.mark.django_db
def test_swagger_ui_works_under_the_policy(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()
    assert re.search(r"<script>\s*\S", page) is None, "no inline script"
    assert "swagger-ui-bundle.js" in page


@pytest.mark.django_db
def test_readiness_names_what_is_missing(client: Client, settings: Any, secret_store: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    settings.VAULT_ADDR = "http://127.0.0.1:9"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "vault" in response.json()["problems"]
