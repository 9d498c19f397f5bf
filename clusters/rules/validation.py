"""Validating a whole cluster (every rule, in a fixed order) and guarding its updates and deletes
while other resources reference it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from clusters import catalogue
from clusters.rules.allow_lists import (
    _argocd_grant_problems,
    _reserved_namespace_problems,
    parse_allowed_cluster_resources,
    parse_reserved_namespaces,
)
from clusters.rules.common import ClusterInput, _dedupe, _raise_if, _spec_str
from clusters.rules.components import _components_problems
from clusters.rules.fields import (
    _api_server_problems,
    _enum_problems,
    _field_type_problems,
    _host_cluster_problems,
    _kubeconfig_problems,
    _name_problems,
    _primary_domain_problems,
    _shape_problems,
    _vcluster_problems,
)
from nautes_portal.errors import Conflict

# The spec fields whose change is refused while the cluster is referenced, in message order.
IMMUTABLE_WHEN_REFERENCED: tuple[str, ...] = (
    "clusterKind",
    "clusterType",
    "usage",
    "hostCluster",
    "workerType",
)


def cluster_problems(
    cluster: ClusterInput,
    *,
    existing: Mapping[str, Mapping[str, Any]],
    require_kubeconfig: bool = True,
) -> list[str]:
    """Every rule the cluster breaks, in a fixed order (empty when it is valid)."""
    spec: Mapping[str, Any] = cluster.spec if isinstance(cluster.spec, Mapping) else {}
    name = cluster.name if isinstance(cluster.name, str) else ""
    api_server = _spec_str(spec, "apiServer")
    cluster_kind = _spec_str(spec, "clusterKind") or (
        # The CRD default: a spec read from Git may omit it.
        "kubernetes" if spec.get("clusterKind") is None else ""
    )
    cluster_type = _spec_str(spec, "clusterType")
    usage = _spec_str(spec, "usage")
    host_cluster = _spec_str(spec, "hostCluster")
    worker_type = _spec_str(spec, "workerType")
    components_raw = spec.get("componentsList")

    allow_list_problems: list[str] = []
    reserved = parse_reserved_namespaces(
        spec.get("reservedNamespacesAllowedProducts"),
        allow_list_problems,
        label="spec.reservedNamespacesAllowedProducts",
    )
    parse_allowed_cluster_resources(
        spec.get("productAllowedClusterResources"),
        allow_list_problems,
        label="spec.productAllowedClusterResources",
    )

    problems = [
        *_name_problems(name),
        *_field_type_problems(spec),
        *_api_server_problems(api_server),
        *_enum_problems(cluster_kind, cluster_type, usage),
        *_shape_problems(cluster_type, usage, host_cluster, worker_type),
        *_host_cluster_problems(name, cluster_type, host_cluster, existing),
        *_primary_domain_problems(_spec_str(spec, "primaryDomain")),
        *_components_problems(name, usage, cluster_type, worker_type, components_raw),
        # Without a known shape the component list is not meaningful; upstream stops earlier.
        *(
            _reserved_namespace_problems(reserved, components_raw)
            if catalogue.categories_for(usage, cluster_type, worker_type) is not None
            else []
        ),
        *allow_list_problems,
        *_argocd_grant_problems(reserved, components_raw),
        *_vcluster_problems(cluster_type, cluster.vcluster_https_node_port),
        *_kubeconfig_problems(
            cluster_type, cluster.kubeconfig, api_server=api_server, required=require_kubeconfig
        ),
    ]
    return _dedupe(problems)


def validate_cluster(
    cluster: ClusterInput,
    *,
    existing: Mapping[str, Mapping[str, Any]],
    require_kubeconfig: bool = True,
) -> None:
    """Raise `RuleViolation` listing (joined with "; ") every rule of §3.1 the cluster breaks.

    `existing` maps the names of the registered clusters to their specs; it is used to check
    a virtual cluster's host. Pass `require_kubeconfig=False` when a physical cluster's
    kubeconfig is already stored (an update that keeps it) or when validating a spec read from
    Git; a kubeconfig that is given is always checked.
    """
    _raise_if(cluster_problems(cluster, existing=existing, require_kubeconfig=require_kubeconfig))


def _immutable_value(spec: Mapping[str, Any], key: str) -> str:
    """A field compared by the update rule; a missing clusterKind is the CRD default."""
    value = _spec_str(spec, key)
    if key == "clusterKind" and not value:
        return "kubernetes"
    return value


def _references(referenced_by: Iterable[str]) -> str:
    """Upstream's `[a|b]` rendering of the referencing resources (deduplicated)."""
    return "|".join(dict.fromkeys(referenced_by))


def validate_cluster_update(
    old_spec: Mapping[str, Any], new: ClusterInput, *, referenced_by: list[str]
) -> None:
    """Refuse changing kind/type/usage/host/worker type of a referenced cluster (409).

    Upstream only enforces this in the webhook (its API passes the new object as the old one,
    §8 item 5); the portal checks it before writing. `referenced_by` entries look like
    `cluster/vc1` or `environment/<product>/<env>` and are shown in the given order.
    """
    if not referenced_by:
        return
    if any(
        _immutable_value(old_spec, key) != _immutable_value(new.spec, key)
        for key in IMMUTABLE_WHEN_REFERENCED
    ):
        raise Conflict(
            f"cluster referenced by [{_references(referenced_by)}], modifying "
            "[cluster kind, cluster type, usage, host cluster, worker type] is not allowed",
            reason="RESOURCE_IN_USE",
        )


def validate_cluster_delete(name: str, *, referenced_by: list[str]) -> None:
    """Refuse deleting a cluster that other resources still reference (409)."""
    if referenced_by:
        raise Conflict(
            f"cluster referenced by [{_references(referenced_by)}], not allowed to be deleted",
            reason="RESOURCE_IN_USE",
        )
