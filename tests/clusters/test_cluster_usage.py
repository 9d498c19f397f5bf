"""What products and deployments do about a cluster, told through `clusters.signals` (clusters
import neither app, #13): a cluster an environment uses cannot be deleted nor change its usage,
and a change of its allow-lists re-applies the runtimes deployed on it."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from rest_framework.test import APIClient

from clusters.models import Cluster
from nautes_portal.operations.models import Operation
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db

BASE = "/api/v1/products/nautes-labs"
CLUSTER = "/api/v1/clusters/cluster-dev"


def _cluster_body(server: FakeKubeServer, **changes: Any) -> dict[str, Any]:
    return {
        "api_server": server.url,
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "kubeconfig": base64.b64encode(server.kubeconfig().encode()).decode(),
        **changes,
    }


@pytest.fixture
def server(
    admin_api: APIClient, alice_api: APIClient, secret_store: Any, fake_kube_factory: Any
) -> FakeKubeServer:
    """cluster-dev, and product nautes-labs with environment env-dev and runtime dr-dev on it."""
    (server,) = fake_kube_factory(argocd_installed=True)
    assert admin_api.post(CLUSTER, _cluster_body(server), format="json").status_code == 200
    runtime = {
        "projects_ref": ["api-server"],
        "manifest_source": {"code_repo": "api-server", "target_revision": "HEAD", "path": "m"},
        "destination": {"environment": "env-dev", "namespaces": ["dr-dev"]},
    }
    for path, payload in (
        ("", {"git": {"gitlab": {"visibility": "private"}}}),
        ("/environments/env-dev", {"cluster": "cluster-dev", "env_type": "development"}),
        ("/projects/api-server", {"language": "Go"}),
        (
            "/coderepos/api-server",
            {"project": "api-server", "git": {"gitlab": {"visibility": "private"}}},
        ),
        ("/deploymentruntimes/dr-dev", runtime),
    ):
        response = alice_api.post(BASE + path, payload, format="json")
        assert response.status_code == 200, response.json()
    return server


def test_a_cluster_an_environment_uses_is_neither_deleted_nor_repurposed(
    admin_api: APIClient, server: FakeKubeServer
) -> None:
    response = admin_api.delete(CLUSTER)
    assert response.status_code == 409
    assert response.json()["message"] == (
        "cluster referenced by [environment/nautes-labs/env-dev], not allowed to be deleted"
    )
    assert Cluster.objects.filter(name="cluster-dev").exists()

    body = _cluster_body(server, worker_type="pipeline")
    response = admin_api.post(CLUSTER, body, format="json")
    assert response.status_code == 409
    assert "cluster referenced by [environment/nautes-labs/env-dev]" in response.json()["message"]


def test_changing_the_allow_lists_reapplies_the_runtimes_on_the_cluster(
    admin_api: APIClient, server: FakeKubeServer
) -> None:
    def deploys() -> int:
        """Reconcile passes of the cluster asked for because the cluster changed (#14)."""
        return Operation.objects.filter(
            kind="cluster.reconcile",
            target="cluster-dev",
            params__reason="cluster cluster-dev changed",
        ).count()

    before = deploys()
    unchanged = _cluster_body(server, primary_domain="dev.example.com")
    assert admin_api.post(CLUSTER, unchanged, format="json").status_code == 200
    assert deploys() == before  # the allow-lists did not change: nothing to re-apply

    granted = _cluster_body(
        server, reserved_namespaces_allowed_products={"argo-rollouts": ["nautes-labs"]}
    )
    assert admin_api.post(CLUSTER, granted, format="json").status_code == 200
    assert deploys() == before + 1
