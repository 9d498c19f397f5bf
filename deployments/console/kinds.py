"""The kinds the console knows: where each lives in the API, which it lists, how nodes are named."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """A resource type's place in the API."""

    group: str
    version: str
    plural: str
    kind: str


# Listed in every namespace of the runtime (one LIST per kind per namespace), in tree order.
LISTED: tuple[Kind, ...] = (
    Kind("apps", "v1", "deployments", "Deployment"),
    Kind("apps", "v1", "statefulsets", "StatefulSet"),
    Kind("apps", "v1", "daemonsets", "DaemonSet"),
    Kind("apps", "v1", "replicasets", "ReplicaSet"),
    Kind("batch", "v1", "cronjobs", "CronJob"),
    Kind("batch", "v1", "jobs", "Job"),
    Kind("", "v1", "pods", "Pod"),
    Kind("", "v1", "services", "Service"),
    Kind("networking.k8s.io", "v1", "ingresses", "Ingress"),
    Kind("", "v1", "configmaps", "ConfigMap"),
    Kind("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
)
# Kinds an Application often holds besides those: read one by one for a diff, never listed.
OTHER: tuple[Kind, ...] = (
    Kind("", "v1", "secrets", "Secret"),
    Kind("", "v1", "serviceaccounts", "ServiceAccount"),
    Kind("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    Kind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"),
    Kind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget"),
    Kind("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
)
_KNOWN = {(k.group, k.kind): k for k in LISTED + OTHER}
_ORDER = {k.kind: index for index, k in enumerate(LISTED)}


def known_kind(group: str, kind: str) -> Kind | None:
    """The API place of a kind the console knows; None for any other (a CRD...)."""
    return _KNOWN.get((group, kind))


def kind_order(kind: str) -> int:
    """Where a kind comes in the tree: workloads first, then the rest, then other kinds."""
    return _ORDER.get(kind, len(_ORDER))


def node_id(group: str, kind: str, namespace: str, name: str) -> str:
    """A node's stable id: the same object has the same id in every reading."""
    return f"{group or 'core'}/{kind}/{namespace or '-'}/{name}"


def api_group(api_version: str) -> str:
    """The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → "")."""
    return api_version.rpartition("/")[0]
