"""Saving a deployment runtime deploys it; deleting it removes what was deployed (both through
a reconcile pass of the environment's cluster, #14)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from rest_framework.test import APIClient

from nautes_portal.operations.models import Operation
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products/nautes-labs"
DR = {
    "projects_ref": ["api-server"],
    "manifest_source": {"code_repo": "api-server", "target_revision": "HEAD", "path": "manifests"},
    "destination": {"environment": "env-dev", "namespaces": ["dr-dev"]},
}


@pytest.fixture
def product_on_cluster(
    admin_api: APIClient, alice_api: APIClient, secret_store: Any, fake_kube_factory: Any
) -> FakeKubeServer:
    (server,) = fake_kube_factory(argocd_installed=True)
    body = {
        "api_server": server.url,
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "kubeconfig": base64.b64encode(server.kubeconfig().encode()).decode(),
    }
    assert admin_api.post("/api/v1/clusters/cluster-dev", body, format="json").status_code == 200
    for path, payload in (
        ("", {"git": {"gitlab": {"visibility": "private"}}}),
        ("/environments/env-dev", {"cluster": "cluster-dev", "env_type": "development"}),
        ("/projects/api-server", {"language": "Go"}),
        (
            "/coderepos/api-server",
            {"project": "api-server", "git": {"gitlab": {"visibility": "private"}}},
        ),
    ):
        assert alice_api.post(BASE + path, payload, format="json").status_code == 200
    return server


def test_save_deploys_and_delete_removes(
    alice_api: APIClient,
    product_on_cluster: FakeKubeServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    server = product_on_cluster
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.post(BASE + "/deploymentruntimes/dr-dev", DR, format="json")
    assert response.status_code == 200, response.json()
    deploy = (
        Operation.objects.filter(kind="cluster.reconcile", target="cluster-dev")
        .order_by("pk")
        .last()
    )
    assert deploy is not None and deploy.status == "succeeded", deploy and deploy.error
    assert server.get(("argoproj.io", "applications"), "argocd", "dr-dev") is not None
    assert server.get(("", "namespaces"), "", "dr-dev") is not None

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_api.delete(BASE + "/deploymentruntimes/dr-dev")
    assert response.status_code == 200, response.json()
    remove = (
        Operation.objects.filter(kind="cluster.reconcile", target="cluster-dev")
        .order_by("pk")
        .last()
    )
    assert remove is not None and remove.pk != deploy.pk
    assert remove.status == "succeeded", remove.error
    assert server.get(("argoproj.io", "applications"), "argocd", "dr-dev") is None
    assert server.get(("", "namespaces"), "", "dr-dev") is None
