"""Cluster connectivity and readiness checks, run as the `cluster.check` operation.

Steps: find the kubeconfig (Vault; for a virtual cluster, discover it from the host's
`vc-<name>` secret and store it in Vault), reach the API server, check what the credentials may
do, and check that Argo CD is installed. Each step records what it found in `ClusterHealth`.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from clusters import catalogue
from clusters.kubeconfig import normalize_kubeconfig
from clusters.models import Cluster, ClusterHealth
from nautes_portal.errors import IntegrationError, RuleViolation
from nautes_portal.integrations.kube import ClusterError, KubeClient
from nautes_portal.integrations.vault import cluster_kubeconfig_location, secret_store
from nautes_portal.operations import Step, register
from nautes_portal.operations.kinds import CLUSTER_CHECK
from nautes_portal.operations.models import Operation

ARGOCD_CRDS = ("applications.argoproj.io", "appprojects.argoproj.io")


def _cluster(operation: Operation) -> Cluster:
    return Cluster.objects.get(name=operation.params["cluster"])


def _record(cluster: Cluster, **values: Any) -> None:
    ClusterHealth.objects.update_or_create(
        cluster=cluster, defaults={"checked_at": timezone.now(), **values}
    )


def kubeconfig_for(cluster: Cluster) -> str:
    """The cluster's kubeconfig from Vault; a clear error when it is missing."""
    location = cluster_kubeconfig_location(cluster.name)
    data = secret_store().read(engine=location.engine, path=location.path)
    if not data or not data.get("kubeconfig"):
        raise IntegrationError(
            "Vault",
            f"no kubeconfig is stored for cluster {cluster.name}; register it again with one",
            retryable=False,
        )
    return data["kubeconfig"]


def client_for(cluster: Cluster, *, timeout: float = 10.0) -> KubeClient:
    return KubeClient.from_kubeconfig(kubeconfig_for(cluster), timeout=timeout)


def _discover_virtual_kubeconfig(cluster: Cluster) -> str:
    """Read the vcluster's kubeconfig from its host (secret `vc-<name>` in namespace `<name>`)."""
    host = Cluster.objects.filter(name=cluster.host_cluster).first()
    if host is None:
        raise IntegrationError(
            "Kubernetes", f"host cluster {cluster.host_cluster} is not registered", retryable=False
        )
    with client_for(host) as client:
        data = client.read_secret_data(cluster.name, f"vc-{cluster.name}")
    if not data or "config" not in data:
        raise IntegrationError(
            "Kubernetes",
            f"the host cluster {host.name} has no secret vc-{cluster.name} with a kubeconfig in "
            f"namespace {cluster.name} yet; the vcluster may still be starting",
            retryable=True,
        )
    # Read from the host cluster: bounded and reduced to one context like a registered
    # kubeconfig, its server the address registered for the vcluster (as the cluster-operator
    # does), so the token never goes to a server the portal does not show.
    try:
        return normalize_kubeconfig(data["config"], api_server=cluster.api_server)
    except RuleViolation as exc:
        raise IntegrationError(
            "Kubernetes",
            f"the secret vc-{cluster.name} on host cluster {host.name} does not hold a usable "
            f"kubeconfig: {exc.message}",
            retryable=False,
        ) from None


def find_kubeconfig(operation: Operation) -> str:
    cluster = _cluster(operation)
    location = cluster_kubeconfig_location(cluster.name)
    store = secret_store()
    if cluster.cluster_type == Cluster.ClusterType.VIRTUAL:
        kubeconfig = _discover_virtual_kubeconfig(cluster)
        store.write(engine=location.engine, path=location.path, data={"kubeconfig": kubeconfig})
        store.ensure_policy(name=location.policy_name, engine=location.engine, path=location.path)
        return f"discovered from host {cluster.host_cluster} and stored in Vault"
    kubeconfig_for(cluster)
    return "found in Vault"


def reach_api_server(operation: Operation) -> str:
    cluster = _cluster(operation)
    try:
        with client_for(cluster) as client:
            version = client.version()
    except ClusterError as exc:
        _record(cluster, reachable=False, error=exc.message)
        raise
    _record(cluster, reachable=True, kubernetes_version=version, error="")
    return f"Kubernetes {version}"


def _argocd_namespace(cluster: Cluster) -> str:
    return catalogue.argocd_namespace(cluster.components_list)


def check_permissions(operation: Operation) -> str:
    cluster = _cluster(operation)
    namespace = _argocd_namespace(cluster)
    with client_for(cluster) as client:
        namespaces = client.can_i("create", "namespaces")
        argocd = all(
            client.can_i(verb, plural, group="argoproj.io", namespace=namespace)
            for verb in ("create", "update", "delete")
            for plural in ("applications", "appprojects")
        )
    _record(cluster, can_create_namespaces=namespaces, can_manage_argocd=argocd)
    missing = [
        what
        for what, ok in (("create namespaces", namespaces), ("manage Argo CD objects", argocd))
        if not ok
    ]
    if missing:
        raise IntegrationError(
            "Kubernetes",
            f"the stored credentials may not {' or '.join(missing)} on cluster {cluster.name}",
            retryable=False,
        )
    return "may create namespaces and manage Argo CD applications and projects"


def check_argocd(operation: Operation) -> str:
    cluster = _cluster(operation)
    namespace = _argocd_namespace(cluster)
    with client_for(cluster) as client:
        installed = all(client.crd_exists(name) for name in ARGOCD_CRDS)
        present = client.namespace_exists(namespace)
    _record(cluster, argocd_installed=installed, argocd_namespace_present=present)
    if not installed or not present:
        problems = [] if installed else ["the Argo CD CRDs are not installed"]
        problems += [] if present else [f"namespace {namespace} does not exist"]
        raise IntegrationError(
            "Kubernetes", f"cluster {cluster.name}: {'; '.join(problems)}", retryable=True
        )
    return f"Argo CD CRDs installed, namespace {namespace} present"


register(
    CLUSTER_CHECK,
    [
        Step("kubeconfig", "Find the kubeconfig", find_kubeconfig),
        Step("reach", "Reach the API server", reach_api_server),
        Step("permissions", "Check what the credentials may do", check_permissions),
        Step("argocd", "Check that Argo CD is installed", check_argocd),
    ],
)
