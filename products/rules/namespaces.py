"""Namespace ownership (pure; shared with the reconciler): which namespaces a cluster reserves,
which of them a product was allowed, why a runtime may not use a namespace, and the rule as a
runtime's static check (`namespace_problems`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from clusters import catalogue
from clusters.catalogue import COMPONENTS
from products.rules.common import (
    _dict,
    _dr_namespaces,
    _list,
    _ppr_namespace,
    _runtime_cluster,
    is_label,
)
from products.rules.messages import (
    ARGOCD_NEVER_GRANTED,
    DR_COMPONENT_NAMESPACE,
    DR_NAMESPACES_TAKEN,
    DR_PREFIX,
    NS_ARGOCD,
    NS_COMPONENT,
    NS_OTHER_PRODUCT,
    NS_PLATFORM,
    NS_SYSTEM,
    PPR_NAMESPACE_TAKEN,
    PPR_PREFIX,
)
from products.state import ProductState, Resource

PLATFORM_NAMESPACE = "nautes"
DEFAULT_ARGOCD_NAMESPACE = catalogue.DEFAULT_ARGOCD_NAMESPACE
_PRODUCT_NAMESPACE = re.compile(r"^product-[0-9]+$")
# Where the Nautes installer puts the catalogue's components on every runtime cluster, whether
# or not the cluster's componentsList names them (cert-manager is in no cluster shape).
CATALOGUE_NAMESPACES = frozenset(component.namespace for component in COMPONENTS)


@dataclass(frozen=True)
class NamespaceRefusal:
    """Why a product may not use a namespace: the rule's name and a message naming it."""

    rule: str  # "system" | "platform" | "product" | "argocd" | "component"
    message: str


def is_system_namespace(namespace: str) -> bool:
    """Kubernetes' own namespaces: `default` and every `kube-*`."""
    return namespace == "default" or namespace.startswith("kube-")


def never_allowed(namespace: str, product_id: str) -> bool:
    """Namespaces no allow-list can open to a product's runtimes."""
    return (
        is_system_namespace(namespace)
        or namespace == PLATFORM_NAMESPACE
        or (bool(_PRODUCT_NAMESPACE.match(namespace)) and namespace != product_id)
    )


def reserved_namespaces(
    components: Mapping[str, Any] | None, allowed: Mapping[str, Any] | None
) -> frozenset[str]:
    """The namespaces a cluster reserves: its components' (Argo CD, Tekton...), the keys of its
    `reservedNamespacesAllowedProducts`, and the catalogue's namespaces (`argocd`,
    `cert-manager`, `tekton-pipelines`...) in any case."""
    names = {
        component["namespace"]
        for component in (components or {}).values()
        if isinstance(component, Mapping) and isinstance(component.get("namespace"), str)
    }
    names |= {key for key in (allowed or {}) if isinstance(key, str)}
    return frozenset((names | CATALOGUE_NAMESPACES | {DEFAULT_ARGOCD_NAMESPACE}) - {""})


def allowed_namespaces(
    product_name: str,
    product_id: str,
    allowed: Mapping[str, Any] | None,
    *,
    argocd_namespace: str,
) -> frozenset[str]:
    """Reserved namespaces whose allow-list names the product (never a system namespace,
    `nautes`, another product's namespace or the cluster's Argo CD namespace
    (`catalogue.argocd_namespace`), whatever the list says)."""
    return frozenset(
        namespace
        for namespace, products in (allowed or {}).items()
        if isinstance(namespace, str)
        and isinstance(products, list)
        and product_name in products
        and not never_allowed(namespace, product_id)
        and not catalogue.is_argocd_namespace(namespace, argocd_namespace)
        and not _PRODUCT_NAMESPACE.match(namespace)  # its own is owned, never merely shared
    )


def namespace_refusal(
    namespace: str,
    *,
    product_id: str,
    reserved: Collection[str],
    allowed: Collection[str],
    argocd_namespace: str,
) -> NamespaceRefusal | None:
    """Why a runtime of product `product_id` may not use `namespace`, or None when it may.

    `reserved` and `allowed` are the cluster's reserved namespaces and those of them allowed
    to this product (`reserved_namespaces`, `allowed_namespaces`); the cluster's Argo CD
    namespace `argocd_namespace` is refused even if `allowed` has it.
    """
    if is_system_namespace(namespace):
        return NamespaceRefusal("system", NS_SYSTEM.format(namespace=namespace))
    if namespace == PLATFORM_NAMESPACE:
        return NamespaceRefusal("platform", NS_PLATFORM.format(namespace=namespace))
    if _PRODUCT_NAMESPACE.match(namespace) and namespace != product_id:
        return NamespaceRefusal("product", NS_OTHER_PRODUCT.format(namespace=namespace))
    if catalogue.is_argocd_namespace(namespace, argocd_namespace):
        return NamespaceRefusal("argocd", NS_ARGOCD.format(namespace=namespace))
    if namespace in reserved and namespace not in allowed:
        return NamespaceRefusal("component", NS_COMPONENT.format(namespace=namespace))
    return None


def _namespaces_in_use(
    state: ProductState, cluster: str, runtime: Resource, *, foreign: bool
) -> set[str]:
    """Namespaces other runtimes use on `cluster`: other products' when `foreign`, else this
    product's other runtimes'."""
    used: set[str] = set()
    if foreign:
        for other_product in state.foreign_runtimes:
            if other_product.cluster == cluster and other_product.product_id != state.product_id:
                used.update(other_product.namespaces)
        return used
    for kind in ("DeploymentRuntime", "ProjectPipelineRuntime"):
        for other in state.of_kind(kind).values():
            itself = (other.kind, other.name) == (runtime.kind, runtime.name)
            if not itself and _runtime_cluster(state, other) == cluster:
                is_dr = kind == "DeploymentRuntime"
                used.update(_dr_namespaces(other) if is_dr else [_ppr_namespace(other)])
    return used


def namespace_problems(runtime: Resource, state: ProductState) -> list[str]:
    """The namespace ownership rule for a deployment or pipeline runtime (see the module doc).

    Upstream's own texts where upstream has the rule (a deployment runtime in a component
    namespace, a namespace another product's runtime uses); the portal's, naming the rule,
    elsewhere.
    """
    is_dr = runtime.kind == "DeploymentRuntime"
    if is_dr:
        namespaces = _dr_namespaces(runtime)
    elif runtime.kind == "ProjectPipelineRuntime":
        namespaces = [_ppr_namespace(runtime)]
    else:
        return []
    cluster_name = _runtime_cluster(state, runtime)
    cluster = state.clusters.get(cluster_name) if cluster_name else None
    allow_list = _dict(cluster, "reservedNamespacesAllowedProducts")
    components = _dict(cluster, "componentsList")
    reserved = reserved_namespaces(components, allow_list)
    argocd = catalogue.argocd_namespace(components)
    allowed = allowed_namespaces(
        state.product_name, state.product_id, allow_list, argocd_namespace=argocd
    )
    messages: list[str] = []
    free: list[str] = []
    for namespace in dict.fromkeys(ns for ns in namespaces if is_label(ns)):
        refusal = namespace_refusal(
            namespace,
            product_id=state.product_id,
            reserved=reserved,
            allowed=allowed,
            argocd_namespace=argocd,
        )
        if refusal is None:
            if namespace not in allowed:  # allowed component namespaces may be shared
                free.append(namespace)
        elif is_dr and refusal.rule == "component":
            messages.append(DR_PREFIX + DR_COMPONENT_NAMESPACE.format(namespace=namespace))
        elif is_dr and refusal.rule == "argocd":
            # Upstream's text; and why, when the allow-list says otherwise.
            granted = state.product_name in _list(allow_list, namespace)
            messages.append(
                DR_PREFIX
                + DR_COMPONENT_NAMESPACE.format(namespace=namespace)
                + (f": {ARGOCD_NEVER_GRANTED}" if granted else "")
            )
        else:
            messages.append(refusal.message)
    used = _namespaces_in_use(state, cluster_name, runtime, foreign=True) if cluster_name else set()
    if taken := [ns for ns in free if ns in used]:
        if is_dr:
            messages.append(DR_PREFIX + DR_NAMESPACES_TAKEN.format(namespaces="|".join(taken)))
        else:
            messages.append(PPR_PREFIX + PPR_NAMESPACE_TAKEN.format(namespace=taken[0]))
    return messages
