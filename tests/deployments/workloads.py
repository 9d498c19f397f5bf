"""A cluster with deployed runtimes of two products and the workloads their Applications made,
for the console's actions (#15): who may touch what, on the fake API server over HTTP.

`console_world` deploys, through a real reconcile pass on `cluster_dev`:
* product nautes-labs (`product-12`), runtime dr-dev in namespace dr-dev: Deployment
  api-server (ReplicaSet api-server-6f9c, pod api-server-6f9c-x2x4q), listed in its
  Application's `status.resources`, which also keeps two deployments in its history;
* product other (`product-13`), runtime dr-other in namespace dr-other: Deployment web and
  pod web-5b7d-k8s2p;
* components: Deployment argocd/argocd-server, Deployment and pod kube-system/coredns.

The fake serves workloads itself (`tests/fakes/kube_workloads.py`, with its controllers: a
Deployment created here also gets the ReplicaSet and Pod its controller makes, besides the ones
named below); `serve_workloads` is kept for the tests that ask for it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from products.models import AccessLevel, Membership, Product, Project
from tests.deployments.test_deployer import (
    add_environment,
    add_repo,
    add_runtime,
    deploy,
    dr_dev_index,
    make_product,
)
from tests.fakes.kube_server import FakeKubeServer

ARGO = ("argoproj.io", "applications")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
REV_NOW = "4f2c0a9d1e6b7c8f9a0b1c2d3e4f5a6b7c8d9e0f"
REV_BEFORE = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291817"
SOURCE = {
    "repoURL": "git@gitlab.example.com:nautes-labs/api-server.git",
    "path": "manifests/development",
    "targetRevision": "HEAD",
}


@pytest.fixture
def serve_workloads() -> None:
    """Nothing to do: the fake serves workloads and pods (#15's `kube_workloads`)."""


def workload(kind: str, namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": f"registry.example.com/{name}"}]},
            },
        },
    }


def pod(namespace: str, name: str, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {"app": name}}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "main", "image": "registry.example.com/main"}]},
        "status": {"phase": "Running"},
    }


def deployment_with_pod(server: FakeKubeServer, namespace: str, name: str, pod_name: str) -> None:
    deployment = server.create(workload("Deployment", namespace, name))
    rs_name = pod_name.rsplit("-", 1)[0]
    replica_set = server.create(
        {
            **workload("ReplicaSet", namespace, rs_name),
            "metadata": {
                "name": rs_name,
                "namespace": namespace,
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": name,
                        "uid": deployment["metadata"]["uid"],
                        "controller": True,
                    }
                ],
            },
        }
    )
    server.create(pod(namespace, pod_name, owner=replica_set))


def resource(kind: str, namespace: str, name: str, group: str = "apps") -> dict[str, Any]:
    return {
        "group": group,
        "version": "v1",
        "kind": kind,
        "namespace": namespace,
        "name": name,
        "status": "Synced",
        "health": {"status": "Healthy"},
    }


def app_status(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """An Application's status: synced at REV_NOW, two deployments in its history."""
    return {
        "sync": {"status": "Synced", "revision": REV_NOW},
        "health": {"status": "Healthy"},
        "resources": resources,
        "history": [
            {
                "id": 1,
                "revision": REV_BEFORE,
                "deployedAt": "2024-05-01T09:00:00Z",
                "deployStartedAt": "2024-05-01T08:59:58Z",
                "source": copy.deepcopy(SOURCE),
            },
            {
                "id": 2,
                "revision": REV_NOW,
                "deployedAt": "2024-05-01T10:00:00Z",
                "deployStartedAt": "2024-05-01T09:59:58Z",
                "source": copy.deepcopy(SOURCE),
            },
        ],
    }


@dataclass
class ConsoleWorld:
    server: FakeKubeServer
    product: Product
    other: Product

    def writes(self) -> list[str]:
        """Every write the cluster received since the last `forget_requests()`."""
        return [f"{r.method} {r.path}" for r in self.server.requests if r.method in WRITES]

    def forget_requests(self) -> None:
        self.server.clear_requests()

    def application(self, name: str = "dr-dev") -> dict[str, Any]:
        found = self.server.get(ARGO, "argocd", name)
        assert found is not None
        return found

    def set_application_status(self, name: str, resources: list[dict[str, Any]]) -> None:
        self.server.set_status(*ARGO, "argocd", name, app_status(resources))

    def manual_sync_policy(self, name: str = "dr-dev") -> None:
        """The Application without automated sync (as someone may set it in Argo CD)."""
        self.server.update_stored(*ARGO, "argocd", name, {"spec": {"syncPolicy": None}})


@pytest.fixture
def console_world(
    cluster_dev: FakeKubeServer, serve_workloads: None, make_user: Any
) -> ConsoleWorld:
    """Two products deployed on cluster-dev with their workloads; alice Developer, bob
    Reporter, mona Maintainer of nautes-labs; carol a member of nothing; olga Owner of other."""
    product = dr_dev_index()
    other = make_product("other", 13)
    add_environment(other, "env-dev", "cluster-dev")
    Project.objects.create(product=other, name="web", path="projects/web")
    add_repo(other, 35, "web", "git@gitlab.example.com:other/web.git")
    add_runtime(other, "dr-other", repo="repo-35", projects=["web"])
    operation = deploy()
    assert operation.status == "succeeded", operation.error
    server = cluster_dev
    deployment_with_pod(server, "dr-dev", "api-server", "api-server-6f9c-x2x4q")
    deployment_with_pod(server, "dr-other", "web", "web-5b7d-k8s2p")
    deployment_with_pod(server, "kube-system", "coredns", "coredns-5d78-abcde")
    server.create(workload("Deployment", "argocd", "argocd-server"))
    world = ConsoleWorld(server=server, product=product, other=other)
    world.set_application_status(
        "dr-dev",
        [
            resource("Service", "dr-dev", "api-server", group=""),
            resource("Deployment", "dr-dev", "api-server"),
        ],
    )
    world.set_application_status("dr-other", [resource("Deployment", "dr-other", "web")])
    for username, level in (
        ("alice", AccessLevel.DEVELOPER),
        ("bob", AccessLevel.REPORTER),
        ("mona", AccessLevel.MAINTAINER),
    ):
        Membership.objects.create(user=make_user(username), product=product, access_level=level)
    Membership.objects.create(user=make_user("olga"), product=other, access_level=AccessLevel.OWNER)
    make_user("carol")
    world.forget_requests()
    return world
