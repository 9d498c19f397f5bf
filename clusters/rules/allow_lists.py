"""The cluster's allow-lists: reserved namespaces allowed to products and cluster resources
allowed to products (reading them, and the rule that a reserved namespace is a component's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clusters import catalogue
from clusters.rules.common import VALIDATE_PREFIX, _show


def parse_reserved_namespaces(
    raw: Any, problems: list[str], *, label: str = "reserved_namespaces_allowed_products"
) -> dict[str, list[str]] | None:
    """`{namespace: [product name, ...]}`; None when absent. Type errors go to `problems`."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"{label} must be an object mapping a namespace to a list of products")
        return None
    reserved: dict[str, list[str]] = {}
    for namespace, products in raw.items():
        if not isinstance(namespace, str):
            problems.append(f"{label} keys must be namespace names")
            continue
        if not isinstance(products, list):
            problems.append(
                f"the value of reserved namespace {_show(namespace)} must be a list of products"
            )
            continue
        if not all(isinstance(product, str) for product in products):
            # Upstream's text (service/cluster.go constructReservedNamespaces).
            problems.append("the value of the reserved namespace must be a string")
            continue
        reserved[namespace] = list(products)
    return reserved


def _parse_resource(product: str, item: Any, problems: list[str]) -> dict[str, str] | None:
    """One `{kind, group}` allowed cluster resource; unknown keys are dropped like Go's json."""
    if not isinstance(item, Mapping):
        problems.append(
            f"the cluster information of {product} must be an struct 'ClusterResourceInfo' type"
        )
        return None
    kind, group = item.get("kind"), item.get("group")
    if (kind is not None and not isinstance(kind, str)) or (
        group is not None and not isinstance(group, str)
    ):
        problems.append(
            f"failed to parsing cluster resource information of {product} to struct: "
            "'ClusterResourceInfo', err: kind and group must be strings"
        )
        return None
    if not kind or not group:
        problems.append(
            f"failed to get cluster resource information of {product}, "
            "the group and kind of the cluster resource cannot be empty"
        )
        return None
    return {"kind": kind, "group": group}


def parse_allowed_cluster_resources(
    raw: Any, problems: list[str], *, label: str = "product_allowed_cluster_resources"
) -> dict[str, list[dict[str, str]]] | None:
    """`{product name: [{kind, group}, ...]}`; None when absent. Type errors go to `problems`."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"{label} must be an object mapping a product to a list of resources")
        return None
    resources: dict[str, list[dict[str, str]]] = {}
    for product, items in raw.items():
        if not isinstance(product, str):
            problems.append(f"{label} keys must be product names")
            continue
        shown = _show(product)
        if not isinstance(items, list):
            problems.append(
                f"the cluster information of {shown} must be a list of "
                "'ClusterResourceInfo' objects"
            )
            continue
        parsed = [_parse_resource(shown, item, problems) for item in items]
        if all(entry is not None for entry in parsed):
            resources[product] = [entry for entry in parsed if entry is not None]
    return resources


def _reserved_namespace_problems(
    reserved: Mapping[str, list[str]] | None, components_raw: Any
) -> list[str]:
    """Every reserved-namespace key must be the namespace of a component (webhook rule)."""
    if not reserved:
        return []
    namespaces = (
        catalogue.component_namespaces(components_raw)
        if isinstance(components_raw, Mapping)
        else set()
    )
    return [
        f"{VALIDATE_PREFIX}reserved namespace {_show(namespace)} is not in component list"
        for namespace in sorted(reserved)
        if namespace not in namespaces
    ]


def _argocd_grant_problems(
    reserved: Mapping[str, list[str]] | None, components_raw: Any
) -> list[str]:
    """The cluster's Argo CD namespace is never granted to a product (#12): a runtime account
    there administers the namespace Argo CD reads AppProjects from, which is cluster-admin."""
    components = components_raw if isinstance(components_raw, Mapping) else None
    argocd = catalogue.argocd_namespace(components)
    return [
        f"reserved namespace {_show(namespace)} is Argo CD's namespace and can never be granted "
        "to a product (a runtime there could write Argo CD projects, and so reach the whole "
        "cluster): remove it from reserved_namespaces_allowed_products"
        for namespace, products in sorted((reserved or {}).items())
        if products and catalogue.is_argocd_namespace(namespace, argocd)
    ]
