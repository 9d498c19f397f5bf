"""Cluster connectivity and readiness checks against fake Kubernetes API servers."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml
from rest_framework.test import APIClient

from clusters.models import Cluster, ClusterHealth
from clusters.services import cluster_check_start
from nautes_portal.integrations.vault import cluster_kubeconfig_location
from nautes_portal.operations.models import Operation
from tests.fakes.kube_server import FakeKubeServer

pytestmark = pytest.mark.django_db


def register(api: APIClient, name: str, server: FakeKubeServer, **extra: Any) -> None:
    body = {
        "api_server": server.url,
        "cluster_kind": "kubernetes",
        "cluster_type": "physical",
        "usage": "worker",
        "worker_type": "deployment",
        "kubeconfig": base64.b64encode(server.kubeconfig().encode()).decode(),
        **extra,
    }
    response = api.post(f"/api/v1/clusters/{name}", body, format="json")
    assert response.status_code == 200, response.json()


def check(name: str) -> Operation:
    return cluster_check_start(cluster=Cluster.objects.get(name=name), actor=None, inline=True)


def test_a_ready_cluster(admin_api: APIClient, secret_store: Any, fake_kube_factory: Any) -> None:
    (server,) = fake_kube_factory(argocd_installed=True, git_version="v1.28.2")
    register(admin_api, "cluster-dev", server)
    operation = check("cluster-dev")
    assert operation.status == "succeeded", operation.error
    health = admin_api.get("/api/v1/clusters/cluster-dev/health").json()
    assert health["ready"] is True and health["kubernetes_version"] == "v1.28.2"
    assert health["reachable"] and health["argocd_installed"] and health["can_create_namespaces"]


def test_a_cluster_without_argocd_is_not_ready(
    admin_api: APIClient, secret_store: Any, fake_kube: FakeKubeServer
) -> None:
    register(admin_api, "cluster-dev", fake_kube)
    operation = check("cluster-dev")
    assert operation.status == "failed"
    assert "the Argo CD CRDs are not installed" in operation.error
    health = ClusterHealth.objects.get(cluster__name="cluster-dev")
    assert health.reachable is True and health.argocd_installed is False and not health.ready


def test_missing_permissions_are_named(
    admin_api: APIClient, secret_store: Any, fake_kube_factory: Any
) -> None:
    (server,) = fake_kube_factory(argocd_installed=True)
    server.deny("create", "namespaces")
    register(admin_api, "cluster-dev", server)
    operation = check("cluster-dev")
    assert operation.status == "failed"
    assert "may not create namespaces" in operation.error
    assert ClusterHealth.objects.get().can_create_namespaces is False


def test_a_dead_cluster_is_unreachable_not_a_crash(
    admin_api: APIClient, secret_store: Any, fake_kube: FakeKubeServer
) -> None:
    register(admin_api, "cluster-dev", fake_kube)
    fake_kube.stop()
    operation = check("cluster-dev")
    assert operation.status == "failed"
    step = operation.steps.get(name="reach")
    assert step.status == "failed" and fake_kube.url.split("//")[1] in step.error
    health = ClusterHealth.objects.get()
    assert health.reachable is False and health.error


def test_a_virtual_cluster_kubeconfig_is_discovered_on_its_host(
    admin_api: APIClient, secret_store: Any, fake_kube_factory: Any
) -> None:
    host, vcluster = fake_kube_factory(count=2)
    vcluster.install_argocd()
    register(admin_api, "cluster-host", host, usage="host", worker_type="")
    host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "vc-dev"}})
    host.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "vc-vc-dev", "namespace": "vc-dev"},
            "data": {"config": base64.b64encode(vcluster.kubeconfig().encode()).decode()},
        }
    )
    response = admin_api.post(
        "/api/v1/clusters/vc-dev",
        {
            "api_server": vcluster.url,
            "cluster_kind": "kubernetes",
            "cluster_type": "virtual",
            "usage": "worker",
            "worker_type": "deployment",
            "host_cluster": "cluster-host",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    operation = check("vc-dev")
    assert operation.status == "succeeded", operation.error
    location = cluster_kubeconfig_location("vc-dev")
    stored = yaml.safe_load(
        secret_store.read(engine=location.engine, path=location.path)["kubeconfig"]
    )
    assert stored["clusters"][0]["cluster"]["server"] == vcluster.url


def test_check_through_the_api_needs_cluster_rights(
    admin_api: APIClient,
    alice_api: APIClient,
    secret_store: Any,
    fake_kube: FakeKubeServer,
    django_capture_on_commit_callbacks: Any,
) -> None:
    register(admin_api, "cluster-dev", fake_kube)
    assert alice_api.post("/api/v1/clusters/cluster-dev/health").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/clusters/cluster-dev/health")
    assert response.status_code == 202
    operation = Operation.objects.get(pk=response.json()["operation"])
    assert operation.kind == "cluster.check" and operation.status in ("succeeded", "failed")
    assert ClusterHealth.objects.get().reachable is True


def test_the_clusters_page_shows_health(
    admin_user: Any, admin_api: APIClient, secret_store: Any, fake_kube_factory: Any, client: Any
) -> None:
    (server,) = fake_kube_factory(argocd_installed=True, git_version="v1.29.0")
    register(admin_api, "cluster-dev", server)
    register(admin_api, "cluster-new", server)
    check("cluster-dev")
    client.force_login(admin_user)
    page = client.get("/clusters/").content.decode()
    assert "ready" in page and "v1.29.0" in page and "not checked yet" in page


def test_a_cluster_without_a_health_row_reads_not_checked_yet(admin_user: Any, client: Any) -> None:
    from clusters.models import Cluster

    Cluster.objects.create(name="cluster-bare", cluster_type="physical", usage="worker")
    assert not ClusterHealth.objects.exists()
    client.force_login(admin_user)
    page = client.get("/clusters/").content.decode()
    assert "cluster-bare" in page and "not checked yet" in page
