"""The component catalogue and the component categories of each cluster shape.

Mirrors upstream Nautes v0.4.2 (`config/apps/base/third_part_components.yaml` and
`config/apps/base/component_category_definition.yaml`). Categories are the CRD keys of
`spec.componentsList` (camelCase); the REST API uses snake_case keys, see `API_TO_CRD`.

Pure data and pure functions: no Django, no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# The CRD keys of spec.componentsList, in the order of the Go struct (cluster_types.go).
CATEGORIES: tuple[str, ...] = (
    "certManagement",
    "deployment",
    "eventListener",
    "gateway",
    "multiTenant",
    "pipeline",
    "progressiveDelivery",
    "secretManagement",
    "secretSync",
    "oauthProxy",
)

# snake_case (REST API) -> camelCase (CRD), for every category.
API_TO_CRD: dict[str, str] = {
    "cert_management": "certManagement",
    "deployment": "deployment",
    "event_listener": "eventListener",
    "gateway": "gateway",
    "multi_tenant": "multiTenant",
    "pipeline": "pipeline",
    "progressive_delivery": "progressiveDelivery",
    "secret_management": "secretManagement",
    "secret_sync": "secretSync",
    "oauth_proxy": "oauthProxy",
}
CRD_TO_API: dict[str, str] = {crd: api for api, crd in API_TO_CRD.items()}

# The fields of the API's `ComponentsList` message (cluster.proto), in proto order. Upstream
# has no `secret_management` / `oauth_proxy` fields: those components are not a user choice,
# so they are neither read from a request nor shown in a reply.
API_COMPONENT_KEYS: tuple[str, ...] = (
    "multi_tenant",
    "cert_management",
    "secret_sync",
    "gateway",
    "deployment",
    "progressive_delivery",
    "pipeline",
    "event_listener",
)

# Categories the platform always fills itself (service/cluster.go `setDefaultComponent`).
PLATFORM_CATEGORIES: frozenset[str] = frozenset({"secretManagement", "oauthProxy"})

# Upstream's hostname rule for the `host` addition of tekton and argocd.
HOSTNAME_REGEX = (
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)$"
)
PORT_REGEX = r"^[0-9]+$"

HOST_ADDITION = "host"
HTTP_NODE_PORT = "httpNodePort"
HTTPS_NODE_PORT = "httpsNodePort"


@dataclass(frozen=True)
class Property:
    """One `additions` key a component understands.

    `default` is a fixed default; `host_prefix` marks a computed host default
    (`<host_prefix>.<cluster>.<primary domain>`, see `default_additions`).
    """

    name: str
    regex: str | None = None
    required: bool = False
    default: str | None = None
    host_prefix: str | None = None

    def matches(self, value: str) -> bool:
        """Whether `value` satisfies the property's regex (Go `regexp.MatchString`, a search).

        Python's `$` also matches before a final newline, Go's does not; no catalogue value
        may contain a newline, so refusing them keeps both engines in agreement.
        """
        if self.regex is None:
            return True
        return "\n" not in value and re.search(self.regex, value) is not None


@dataclass(frozen=True)
class ComponentDef:
    """A catalogue entry: a third-party component that implements one category."""

    name: str
    namespace: str
    category: str
    properties: tuple[Property, ...] = ()
    # Additions the runtime-operator reads but the catalogue neither requires nor checks
    # (documentation for forms; they are passed through untouched).
    optional_additions: tuple[str, ...] = ()


COMPONENTS: tuple[ComponentDef, ...] = (
    ComponentDef(
        "tekton",
        "tekton-pipelines",
        "pipeline",
        (Property(HOST_ADDITION, HOSTNAME_REGEX, required=True, host_prefix="tekton"),),
    ),
    ComponentDef(
        "argocd",
        "argocd",
        "deployment",
        (Property(HOST_ADDITION, HOSTNAME_REGEX, required=True, host_prefix="argocd"),),
    ),
    ComponentDef("argo-events", "argo-events", "eventListener"),
    ComponentDef("argo-rollouts", "argo-rollouts", "progressiveDelivery"),
    ComponentDef(
        "hnc",
        "hnc-system",
        "multiTenant",
        optional_additions=(
            "productResourceKustomizeFileFolder",
            "productResourceRevision",
            "syncResourceTypes",
        ),
    ),
    ComponentDef("cert-manager", "cert-manager", "certManagement"),
    ComponentDef("vault", "vault", "secretManagement"),
    ComponentDef("external-secrets", "external-secrets", "secretSync"),
    ComponentDef("oauth2-proxy", "oauth2-proxy", "oauthProxy"),
    ComponentDef(
        "traefik",
        "traefik",
        "gateway",
        (
            Property(HTTP_NODE_PORT, PORT_REGEX, required=True, default="30080"),
            Property(HTTPS_NODE_PORT, PORT_REGEX, required=True, default="30443"),
        ),
    ),
)

# (usage, clusterType, workerType) -> categories, as in component_category_definition.yaml.
# The host shape has an empty workerType: upstream builds the key "host|physical|".
SHAPE_CATEGORIES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("host", "physical", ""): ("oauthProxy", "gateway", "secretManagement"),
    ("worker", "virtual", "deployment"): (
        "multiTenant",
        "secretSync",
        "deployment",
        "progressiveDelivery",
        "secretManagement",
    ),
    ("worker", "virtual", "pipeline"): (
        "multiTenant",
        "secretSync",
        "gateway",
        "deployment",
        "eventListener",
        "pipeline",
        "secretManagement",
    ),
    ("worker", "physical", "deployment"): (
        "multiTenant",
        "secretSync",
        "gateway",
        "deployment",
        "progressiveDelivery",
        "secretManagement",
    ),
    ("worker", "physical", "pipeline"): (
        "multiTenant",
        "secretSync",
        "gateway",
        "deployment",
        "eventListener",
        "oauthProxy",
        "secretManagement",
        "pipeline",
    ),
}


def component_by_name(name: str) -> ComponentDef | None:
    """The catalogue entry called `name`, or None."""
    return next((c for c in COMPONENTS if c.name == name), None)


def default_component(category: str) -> ComponentDef | None:
    """The catalogue's default component for `category` (one per category), or None."""
    return next((c for c in COMPONENTS if c.category == category), None)


def categories_for(usage: str, cluster_type: str, worker_type: str) -> tuple[str, ...] | None:
    """The component categories of a cluster shape, or None when the shape is not supported."""
    return SHAPE_CATEGORIES.get((usage, cluster_type, worker_type))


def shape_key(usage: str, cluster_type: str, worker_type: str) -> str:
    """Upstream's shape key `<usage>|<type>|<worker>` used in its error message."""
    return f"{usage}|{cluster_type}|{worker_type}"


def primary_domain_for(api_server: str) -> str:
    """Upstream's default primary domain: the API server's hostname, + `.nip.io` if an IP.

    Returns "" when `api_server` has no parseable hostname (validation reports the URL).
    """
    try:
        host = urlsplit(api_server).hostname or ""
    except ValueError:
        return ""
    if not host:
        return ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"{host}.nip.io"


def default_host(prefix: str, cluster_name: str, primary_domain: str) -> str | None:
    """A component's default host: `<prefix>.<cluster>.<primary domain>`.

    Upstream computes `<prefix>.<cluster>.<ip>.nip.io` from the API server address. Using the
    primary domain gives the same value for the default primary domain of an IP API server
    (`<ip>.nip.io`), and a meaningful one when the API server is a hostname
    (`argocd.c1.k8s.example.com` instead of resolving the name and using nip.io).
    """
    if not primary_domain:
        return None
    return f"{prefix}.{cluster_name}.{primary_domain}"


def default_additions(
    component: ComponentDef, *, cluster_name: str, primary_domain: str
) -> dict[str, str]:
    """The additions a component gets by default (fixed defaults and computed hosts)."""
    additions: dict[str, str] = {}
    for prop in component.properties:
        if prop.default is not None:
            additions[prop.name] = prop.default
        elif prop.host_prefix is not None:
            host = default_host(prop.host_prefix, cluster_name, primary_domain)
            if host is not None:
                additions[prop.name] = host
    return additions


def component_namespaces(components_list: Mapping[str, Any]) -> set[str]:
    """The namespaces of every component present in a CRD `componentsList`."""
    namespaces: set[str] = set()
    for component in components_list.values():
        if isinstance(component, Mapping) and isinstance(component.get("namespace"), str):
            namespaces.add(component["namespace"])
    return namespaces


# Argo CD's own namespace when a cluster's componentsList does not name one.
DEFAULT_ARGOCD_NAMESPACE = "argocd"


def argocd_namespace(components_list: Mapping[str, Any] | None) -> str:
    """The Argo CD namespace of a cluster: `componentsList.deployment.namespace` or `argocd`."""
    deployment = (components_list or {}).get("deployment") or {}
    namespace = deployment.get("namespace") if isinstance(deployment, Mapping) else None
    return namespace if isinstance(namespace, str) and namespace else DEFAULT_ARGOCD_NAMESPACE


def is_argocd_namespace(namespace: str, cluster_argocd_namespace: str) -> bool:
    """Whether `namespace` is where Argo CD reads AppProjects on a cluster whose Argo CD
    namespace is `cluster_argocd_namespace` (`argocd_namespace`), or the default `argocd` in any
    case. Whoever may write there can write an AppProject that lets any Application deploy
    anything anywhere: cluster-admin (#12)."""
    return namespace in (cluster_argocd_namespace, DEFAULT_ARGOCD_NAMESPACE)
