"""What every product rule shares: names and kinds, `Problem`, tolerant reads of a spec (wrong
types read as empty; the static checks report them), DNS-1123 checks, and lookups in the
product's state (a runtime's environment, cluster and namespaces; pairs of peers)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from products.rules.messages import (
    CLUSTER_MISSING,
    DR_NOT_DEPLOYMENT_CLUSTER,
    INVALID_LABEL,
    INVALID_SUBDOMAIN,
    PPR_NOT_PIPELINE_CLUSTER,
)
from products.state import ProductState, Resource

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN_MAX_LENGTH = 253
LABEL_MAX_LENGTH = 63

# GitLab project hook events upstream accepts (`nodestree/reference.go` gitlabWebhook).
WEBHOOK_EVENTS: frozenset[str] = frozenset(
    {
        "confidential_issues_events",
        "confidential_note_events",
        "deployment_events",
        "issues_events",
        "job_events",
        "merge_requests_events",
        "note_events",
        "pipeline_events",
        "push_events",
        "releases_events",
        "tag_push_events",
    }
)
PERMISSIONS: tuple[str, ...] = ("readonly", "readwrite")
ISOLATIONS: tuple[str, ...] = ("shared", "exclusive")
KIND_ORDER: tuple[str, ...] = (
    "Environment",
    "Project",
    "CodeRepo",
    "CodeRepoBinding",
    "DeploymentRuntime",
    "ProjectPipelineRuntime",
)
# Kinds whose spec carries `product` (a ProjectPipelineRuntime has none).
KINDS_WITH_PRODUCT = frozenset(KIND_ORDER) - {"ProjectPipelineRuntime"}

VALIDATOR = "VALIDATOR"
RESOURCE_NOT_EXIST = "RESOURCE_NOT_EXIST"
NOT_ALLOWED_MODIFY = "NOT_ALLOWED_MODIFY"
RESOURCE_IN_USE = "RESOURCE_IN_USE"
_MAX_SHOWN = 100


@dataclass(frozen=True)
class Problem:
    """One broken rule: which resource, what is wrong, and how the API should answer."""

    kind: str
    name: str
    message: str
    status: int = 400  # 400: the input breaks a rule; 409: it conflicts with other resources
    reason: str = VALIDATOR  # upstream's reason where it has one


def _show(value: object) -> str:
    """A user value for a message, cut short so a huge input cannot bloat the error."""
    text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


def _str(data: Any, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def _list(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def _dict(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _strings(data: Any, key: str) -> list[str]:
    return [item for item in _list(data, key) if isinstance(item, str) and item]


def _spec(resource: Resource | None) -> dict[str, Any]:
    spec = resource.spec if resource is not None else None
    return spec if isinstance(spec, dict) else {}


def is_subdomain(value: str) -> bool:
    """Whether `value` is a DNS-1123 subdomain (Kubernetes object names)."""
    return len(value) <= SUBDOMAIN_MAX_LENGTH and bool(DNS1123_SUBDOMAIN.match(value))


def is_label(value: str) -> bool:
    """Whether `value` is a DNS-1123 label (Kubernetes namespaces)."""
    return len(value) <= LABEL_MAX_LENGTH and bool(DNS1123_LABEL.match(value))


def dns_problem(field: str, value: str, dns: str) -> str | None:
    """The message for a value breaking the DNS-1123 rule `dns` ("subdomain", "label" or "")."""
    if dns == "subdomain" and not is_subdomain(value):
        return INVALID_SUBDOMAIN.format(field=field, value=_show(value))
    if dns == "label" and not is_label(value):
        return INVALID_LABEL.format(field=field, value=_show(value))
    return None


class _Peers:
    """The pairwise rules (two environments on one cluster, two runtimes deploying the same
    source to the same place) compare a resource only with the resources of its kind that share
    a key and are named after it, so each pair is reported once. Grouping by the key first keeps
    a check of the whole product near-linear: comparing every pair cost a product of 500 runtimes
    125,000 comparisons on every save. Built once per `check_global`."""

    def __init__(self, state: ProductState) -> None:
        self.state = state
        self._groups: dict[tuple[str, Callable[[Resource], Any]], dict[Any, list[Resource]]] = {}

    def later(self, resource: Resource, key: Callable[[Resource], Any]) -> list[Resource]:
        groups = self._groups.get((resource.kind, key))
        if groups is None:
            groups = {}
            for other in sorted(self.state.of_kind(resource.kind).values(), key=_name):
                groups.setdefault(key(other), []).append(other)
            self._groups[(resource.kind, key)] = groups
        group = groups.get(key(resource), [])
        return group[bisect.bisect_right(group, _name(resource), key=_name) :]


def _name(resource: Resource) -> str:
    return str(resource.name)


def _exists(state: ProductState, kind: str, name: str) -> bool:
    return state.get(kind, name) is not None


def _env_of(spec: dict[str, Any]) -> str:
    return _str(_dict(spec, "destination"), "environment")


def _runtime_cluster(state: ProductState, runtime: Resource) -> str:
    """The cluster a runtime deploys to: its destination environment's `spec.cluster`."""
    return _str(_spec(state.get("Environment", _env_of(_spec(runtime)))), "cluster")


def _dr_namespaces(runtime: Resource) -> list[str]:
    """The namespaces a deployment runtime uses (its name when none are given)."""
    return _strings(_dict(_spec(runtime), "destination"), "namespaces") or [runtime.name]


def _ppr_namespace(runtime: Resource) -> str:
    """The namespace a pipeline runtime uses (its name when none is given)."""
    return _str(_dict(_spec(runtime), "destination"), "namespace") or runtime.name


def _cluster_problem(state: ProductState, runtime: Resource, worker_type: str) -> str | None:
    """Why the runtime's cluster cannot host it (missing, or not a worker of that type)."""
    name = _runtime_cluster(state, runtime)
    cluster = state.clusters.get(name)
    if not isinstance(cluster, dict):
        return CLUSTER_MISSING.format(cluster=name)
    if _str(cluster, "usage") != "worker" or _str(cluster, "workerType") != worker_type:
        return (
            DR_NOT_DEPLOYMENT_CLUSTER if worker_type == "deployment" else PPR_NOT_PIPELINE_CLUSTER
        )
    return None


class _NotExist(str):
    """A message upstream sends with reason RESOURCE_NOT_EXIST instead of VALIDATOR."""

    __slots__ = ()
