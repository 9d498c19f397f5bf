"""What the console's actions on one runtime may reach in its cluster (#15), checked there.

SECURITY: the portal acts with its own cluster credentials, which reach every namespace; these
rules are what keeps a member of one product from restarting or deleting another product's
objects (or a component's in `argocd` or `kube-system`) by guessing their names:

* the runtime's Application is `<runtime>` in the cluster's Argo CD namespace, and only when
  it carries the product's owner label (an Application of that name of someone else's is not
  the runtime's);
* the runtime's namespaces are the ones the reconciler places it in (`plan_for`: its
  `destination.namespaces`, or its name), less the component namespaces the cluster's
  allow-list shares with the product (used, never owned) and any the product may not use at
  all; on the cluster each must carry the product's owner label;
* a workload (Deployment, StatefulSet, DaemonSet) is the runtime's when it is in one of those
  namespaces AND listed in the Application's `status.resources`;
* a pod is the runtime's when it is in one of those namespaces (two runtimes of one product
  naming the same namespace both reach its pods).

Anything else is answered as not found (404), exactly as a name that does not exist, so a
refusal tells nothing about other products. The same checks run before an action is queued
(a quick read) and again in its operation step, right before the write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clusters.models import Cluster
from deployments import desired
from deployments.deployer.planning import placement_for
from deployments.deployer.sync_options import SyncResource
from deployments.desired import ARGOCD_GROUP, ARGOCD_VERSION, OWNER_LABEL
from nautes_portal.errors import NotFound, RuleViolation
from nautes_portal.integrations.kube import ClusterApi
from nautes_portal.integrations.kube.interface import Obj
from products.models import DeploymentRuntime, Product

# What "restart" applies to, as `kubectl rollout restart` does: kind → plural, group apps/v1.
WORKLOAD_KINDS = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
}
WORKLOAD_GROUP, WORKLOAD_VERSION = "apps", "v1"
_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class RuntimeScope:
    """One runtime on its cluster: its Application and the namespaces it owns."""

    product_name: str
    product_id: str
    runtime_name: str
    cluster_name: str
    argocd_namespace: str
    namespaces: tuple[str, ...]

    @property
    def owner(self) -> str:
        return self.product_id


def scope_for(cluster: Cluster, product: Product, runtime: DeploymentRuntime) -> RuntimeScope:
    """The runtime's scope as the index says now (no query)."""
    placement = placement_for(cluster, product_id=product.resource_name, product_name=product.name)
    planned = desired.runtime_namespaces(runtime.name, runtime.destination_namespaces)
    return RuntimeScope(
        product_name=product.name,
        product_id=product.resource_name,
        runtime_name=runtime.name,
        cluster_name=cluster.name,
        argocd_namespace=placement.argocd_namespace,
        namespaces=tuple(
            ns for ns in planned if not placement.shared(ns) and placement.refusal(ns) is None
        ),
    )


def check_object_name(value: str, what: str) -> str:
    """A Kubernetes object name, or RuleViolation naming the rule (before any request)."""
    if not isinstance(value, str) or len(value) > 253 or not _OBJECT_NAME.match(value):
        raise RuleViolation(
            f"{what} must be a Kubernetes object name: lowercase letters, digits, '-' and '.', "
            "starting and ending with a letter or digit, at most 253 characters"
        )
    return value


def check_namespace_name(value: str) -> str:
    if len(value) > 63 or not _NAMESPACE.match(value):
        raise RuleViolation(
            "namespace must be a namespace name: lowercase letters, digits and '-', at most 63 "
            "characters"
        )
    return value


def _owner_of(obj: Obj) -> str:
    return str(((obj.get("metadata") or {}).get("labels") or {}).get(OWNER_LABEL) or "")


def _not_in_runtime(what: str, scope: RuntimeScope) -> NotFound:
    return NotFound(
        f"{what} is not found in runtime {scope.runtime_name}: the console reaches only the "
        "objects of the runtime's Argo CD Application in the runtime's own namespaces "
        f"({', '.join(scope.namespaces) or 'none'})",
        reason="RESOURCE_NOT_IN_RUNTIME",
    )


def owned_application(client: ClusterApi, scope: RuntimeScope) -> Obj:
    """The runtime's Application, or NotFound when it is absent or not the product's."""
    app = client.get_object(
        ARGOCD_GROUP, ARGOCD_VERSION, "applications", scope.argocd_namespace, scope.runtime_name
    )
    if app is None or _owner_of(app) != scope.owner:
        raise NotFound(
            f"Argo CD has no Application {scope.runtime_name} of this runtime on cluster "
            f"{scope.cluster_name}; re-apply the runtime first",
            reason="APPLICATION_NOT_FOUND",
        )
    return app


def owned_namespace(client: ClusterApi, scope: RuntimeScope, namespace: str) -> bool:
    """Whether `namespace` is one of the runtime's and carries the product's owner label."""
    if namespace not in scope.namespaces:
        return False
    found = client.get_object("", "v1", "namespaces", None, namespace)
    return found is not None and _owner_of(found) == scope.owner


def application_resources(application: Obj) -> set[tuple[str, str, str, str]]:
    """(group, kind, namespace, name) of every object listed in `status.resources`."""
    return {
        (
            str(item.get("group") or ""),
            str(item.get("kind") or ""),
            str(item.get("namespace") or ""),
            str(item.get("name") or ""),
        )
        for item in (application.get("status") or {}).get("resources") or []
        if isinstance(item, dict)
    }


def check_selected_resources(application: Obj, resources: tuple[SyncResource, ...]) -> None:
    """RuleViolation (400) naming every selected resource the Application does not list."""
    listed = application_resources(application)
    missing = [r.describe() for r in resources if r.key() not in listed]
    if missing:
        raise RuleViolation(
            "resources: a sync can select only resources of the runtime's Application (its "
            f"status.resources); not one of them: {', '.join(missing)}",
            reason="RESOURCE_NOT_IN_APPLICATION",
        )


def owned_workload(
    client: ClusterApi, scope: RuntimeScope, kind: str, name: str, namespace: str = ""
) -> Obj:
    """The runtime's Deployment/StatefulSet/DaemonSet `name` (in `namespace` when given), or
    NotFound. `kind` must be one of WORKLOAD_KINDS (the caller checked it)."""
    what = f"{kind} {name}"
    app = owned_application(client, scope)
    places = sorted(
        ns
        for group, listed_kind, ns, listed_name in application_resources(app)
        if (group, listed_kind, listed_name) == (WORKLOAD_GROUP, kind, name)
        and ns in scope.namespaces
        and (not namespace or ns == namespace)
    )
    for ns in places:
        if not owned_namespace(client, scope, ns):
            continue
        found = client.get_object(WORKLOAD_GROUP, WORKLOAD_VERSION, WORKLOAD_KINDS[kind], ns, name)
        if found is not None:
            return found
    raise _not_in_runtime(what, scope)


def owned_pod(client: ClusterApi, scope: RuntimeScope, name: str, namespace: str = "") -> Obj:
    """The runtime's pod `name` (searched in each of its namespaces unless `namespace` is
    given), or NotFound; RuleViolation when it is in two of them and no namespace was named."""
    if namespace and namespace not in scope.namespaces:
        raise _not_in_runtime(f"pod {namespace}/{name}", scope)
    found = []
    for ns in (namespace,) if namespace else scope.namespaces:
        if owned_namespace(client, scope, ns):
            pod = client.get_object("", "v1", "pods", ns, name)
            if pod is not None:
                found.append(pod)
    if not found:
        raise _not_in_runtime(f"pod {name}", scope)
    if len(found) > 1:
        spaces = ", ".join(str(p["metadata"].get("namespace")) for p in found)
        raise RuleViolation(
            f"pod {name} exists in several namespaces of runtime {scope.runtime_name} "
            f"({spaces}); name the namespace (?namespace=)"
        )
    return found[0]
