"""A runtime with live workloads on a fake cluster, for the console tests (#15).

Product `nautes-labs` (group 12), runtime `dr-dev` in namespace `dr-dev` of `cluster-dev` (as
`test_deployer.dr_dev_index` and the `cluster_dev` fixture make them), its namespace and
Application created as the reconciler leaves them, and workloads Argo CD would have synced.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.kube_server import FakeKubeServer

OWNER = "resource.nautes.io/belongsto"
PRODUCT_ID = "product-12"
NS = "dr-dev"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
REV = "4f2c0a9d6b1e8c7a5d3f2e1b0a9c8d7e6f5a4b3c"
APPS = ("argoproj.io", "applications")


def namespace(server: FakeKubeServer, name: str, owner: str | None = PRODUCT_ID) -> None:
    labels = {OWNER: owner} if owner else {}
    server.create(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
    )


def applied(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with the annotation Argo CD's client-side apply leaves: the body itself."""
    result = json.loads(json.dumps(body))
    annotations = result.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[LAST_APPLIED] = json.dumps(body, sort_keys=True)
    return result


def deployment(name: str, replicas: int = 1, ns: str = NS, image: str = "nginx:1.27") -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def service(name: str, ns: str = NS, kind: str = "ClusterIP") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": 80}]},
    }


def config_map(name: str, ns: str = NS) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": {"LOG_LEVEL": "info"},
    }


def resource(obj: dict[str, Any], sync: str = "Synced", health: str | None = None) -> dict:
    """An entry of the Application's `status.resources` for `obj`."""
    group, _, version = obj["apiVersion"].rpartition("/")
    entry: dict[str, Any] = {
        "group": group,
        "version": version,
        "kind": obj["kind"],
        "namespace": obj["metadata"].get("namespace", ""),
        "name": obj["metadata"]["name"],
        "status": sync,
    }
    if health:
        entry["health"] = {"status": health}
    return entry


def application(
    server: FakeKubeServer,
    resources: list[dict[str, Any]],
    *,
    owner: str = PRODUCT_ID,
    sync: str = "Synced",
    health: str = "Healthy",
) -> None:
    """The runtime's Application, with the status Argo CD reports."""
    server.create(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "dr-dev", "namespace": "argocd", "labels": {OWNER: owner}},
            "spec": {
                "project": PRODUCT_ID,
                "source": {"repoURL": "git@example:x.git", "path": "m", "targetRevision": "HEAD"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": NS},
            },
        }
    )
    server.set_status(
        *APPS,
        "argocd",
        "dr-dev",
        {
            "sync": {"status": sync, "revision": REV},
            "health": {"status": health},
            "resources": resources,
        },
    )


def deploy_workloads(server: FakeKubeServer, count: int = 1, first: int = 0) -> list[dict]:
    """`count` Deployments (one Pod each) with a Service each, and (from the first) one
    ConfigMap, as Argo CD syncs them. Returns their `status.resources` entries."""
    entries = []
    for index in range(first, first + count):
        name = "api-server" if index == 0 else f"svc-{index}"
        for body in (deployment(name), service(name)):
            stored = server.create(applied(body))
            entries.append(resource(stored, health="Healthy"))
    if first == 0:
        stored = server.create(applied(config_map("api-server-config")))
        entries.append(resource(stored))
    return entries


def pod_of(server: FakeKubeServer, deployment_name: str, ns: str = NS) -> str:
    """The name of the (first) Pod of a Deployment."""
    for pod in server.objects("", "pods", ns):
        if pod["metadata"]["name"].startswith(f"{deployment_name}-"):
            return str(pod["metadata"]["name"])
    raise AssertionError(f"no pod of {deployment_name} in {ns}")


def seed(server: FakeKubeServer, count: int = 1) -> list[dict[str, Any]]:
    """The runtime's namespace, its workloads and its Application."""
    namespace(server, NS)
    entries = deploy_workloads(server, count)
    application(server, entries)
    return entries
