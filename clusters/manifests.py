"""The Cluster manifest in the tenant configuration repository, and the API reply shape.

Rendering follows what upstream writes: the Go `Cluster` struct marshalled through its JSON
tags (`omitempty` fields dropped when empty) with keys sorted alphabetically. Reading is
tolerant: fields the portal does not know are kept, so a round trip never loses data.

Pure functions; no Django, no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from clusters import catalogue
from nautes_portal.errors import RuleViolation
from nautes_portal.limits import load_yaml_bounded
from nautes_portal.yaml_io import dump_yaml

API_VERSION = "nautes.resource.nautes.io/v1alpha1"
API_GROUP = "nautes.resource.nautes.io"
KIND = "Cluster"
NAMESPACE = "nautes"
CLUSTERS_DIR = "nautes/overlays/production/clusters"
KUSTOMIZATION_PATH = f"{CLUSTERS_DIR}/kustomization.yaml"

# ClusterSpec JSON tags (cluster_types.go): these have no `omitempty` and are always written.
_ALWAYS = ("apiServer", "clusterType", "clusterKind", "usage")
# These have `omitempty`: written only when non-empty.
_OMIT_EMPTY = ("hostCluster", "primaryDomain", "workerType")
_MAPS = ("reservedNamespacesAllowedProducts", "productAllowedClusterResources")
_KNOWN_SPEC_KEYS = frozenset({*_ALWAYS, *_OMIT_EMPTY, *_MAPS, "componentsList"})


def cluster_path(name: str) -> str:
    """The repository path of a cluster's manifest."""
    return f"{CLUSTERS_DIR}/{name}.yaml"


def _is_empty(value: Any) -> bool:
    """Go's `omitempty` notion of empty for the JSON values that can appear here."""
    return value is None or value == "" or (isinstance(value, (dict, list)) and not value)


def _str(spec: Mapping[str, Any], key: str) -> str:
    """A scalar field as a string ("" when absent or not a string)."""
    value = spec.get(key)
    return value if isinstance(value, str) else ""


def _render_component(component: Mapping[str, Any]) -> dict[str, Any]:
    """`{name, namespace, additions?}`; `additions` has `omitempty`; unknown keys are kept."""
    rendered = {
        key: copy.deepcopy(value)
        for key, value in component.items()
        if key not in ("name", "namespace", "additions") and not _is_empty(value)
    }
    rendered["name"] = component.get("name") or ""
    rendered["namespace"] = component.get("namespace") or ""
    additions = component.get("additions")
    if isinstance(additions, Mapping) and additions:
        rendered["additions"] = dict(additions)
    return rendered


def _render_components(components: Any) -> dict[str, Any]:
    """The `componentsList`: absent (nil) components are left out, like Go's `omitempty`."""
    if not isinstance(components, Mapping):
        return {}
    return {
        category: _render_component(component) if isinstance(component, Mapping) else component
        for category, component in components.items()
        if component is not None
    }


def _render_list_map(values: Mapping[str, Any]) -> dict[str, Any]:
    """A `{key: [...]}` allow-list; a null list becomes `[]` (the CRD has no nullable there).

    Anything else is copied as it is: rendering never judges, `rules.validate_cluster` does.
    """
    return {key: [] if items is None else copy.deepcopy(items) for key, items in values.items()}


def render_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The `spec` of the manifest, with Go's `omitempty` applied."""
    rendered: dict[str, Any] = {
        key: copy.deepcopy(value)
        for key, value in spec.items()
        if key not in _KNOWN_SPEC_KEYS and not _is_empty(value)
    }
    for key in _ALWAYS:
        rendered[key] = _str(spec, key)
    # The CRD default; an empty clusterKind would break the CRD's enum.
    rendered["clusterKind"] = rendered["clusterKind"] or "kubernetes"
    for key in _OMIT_EMPTY:
        if _str(spec, key):
            rendered[key] = _str(spec, key)
    rendered["componentsList"] = _render_components(spec.get("componentsList"))
    reserved = spec.get("reservedNamespacesAllowedProducts")
    if isinstance(reserved, Mapping) and reserved:
        rendered["reservedNamespacesAllowedProducts"] = _render_list_map(reserved)
    resources = spec.get("productAllowedClusterResources")
    if isinstance(resources, Mapping) and resources:
        rendered["productAllowedClusterResources"] = _render_list_map(resources)
    return rendered


def cluster_manifest(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The Cluster document written to `cluster_path(name)`."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": render_spec(spec),
    }


def cluster_manifest_yaml(name: str, spec: Mapping[str, Any]) -> bytes:
    """The Cluster file's bytes."""
    return dump_yaml(cluster_manifest(name, spec))


def cluster_from_manifest(doc: Any) -> tuple[str, dict[str, Any]]:
    """`(name, spec)` of a Cluster document; unknown fields of the spec are kept.

    Raises `RuleViolation` when the document is not a Cluster of the Nautes API group or has no
    name. The spec itself is not validated here (see `rules.validate_cluster`).
    """
    if not isinstance(doc, Mapping):
        raise RuleViolation("the Cluster manifest must be a YAML mapping")
    kind = doc.get("kind")
    if kind != KIND:
        raise RuleViolation(f"not a Cluster manifest: its kind is {str(kind)[:100]!r}")
    api_version = doc.get("apiVersion")
    if not isinstance(api_version, str) or api_version.split("/")[0] != API_GROUP:
        raise RuleViolation(
            f"not a Cluster manifest: its apiVersion is {str(api_version)[:100]!r}, "
            f"expected {API_VERSION}"
        )
    metadata = doc.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not name:
        raise RuleViolation("the Cluster manifest has no metadata.name")
    spec = doc.get("spec")
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise RuleViolation(f"the spec of Cluster {name} must be a mapping")
    return name, copy.deepcopy(dict(spec))


def cluster_from_yaml(text: str | bytes) -> tuple[str, dict[str, Any]]:
    """`cluster_from_manifest` of a YAML file's content."""
    try:
        doc = load_yaml_bounded(text, what="the Cluster file")  # limits: a RuleViolation
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise RuleViolation(f"the Cluster file is not valid YAML{where}") from None
    return cluster_from_manifest(doc)


def _reply_component(component: Any) -> dict[str, Any] | None:
    """An API `Component`, or None (protojson renders an unset message as null)."""
    if not isinstance(component, Mapping):
        return None
    additions = component.get("additions")
    return {
        "name": _str(component, "name"),
        "namespace": _str(component, "namespace"),
        "additions": dict(additions) if isinstance(additions, Mapping) else {},
    }


def _reply_reserved(reserved: Any) -> dict[str, list[Any]]:
    """`reserved_namespaces_allowed_products` of a reply (`{}` when absent)."""
    if not isinstance(reserved, Mapping):
        return {}
    return {
        namespace: list(products) if isinstance(products, list) else []
        for namespace, products in reserved.items()
    }


def _reply_resources(resources: Any) -> dict[str, list[dict[str, str]]]:
    """`product_allowed_cluster_resources` of a reply (`{}` when absent), `{kind, group}` only."""
    if not isinstance(resources, Mapping):
        return {}
    return {
        product: [
            {"kind": _str(item, "kind"), "group": _str(item, "group")}
            for item in items
            if isinstance(item, Mapping)
        ]
        for product, items in resources.items()
        if isinstance(items, list)
    }


def cluster_reply(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Upstream's `ClusterGetReply` (snake_case, every field present, §4.3).

    Unlike upstream, `components_list.event_listener` is filled (§8 item 10). The component
    keys are those of the API's `ComponentsList` message (no secret_management/oauth_proxy).
    The kubeconfig is never part of a spec and so never part of a reply.
    """
    components = spec.get("componentsList")
    if not isinstance(components, Mapping):
        components = {}
    return {
        "name": name,
        "cluster_kind": _str(spec, "clusterKind") or "kubernetes",
        "cluster_type": _str(spec, "clusterType"),
        "usage": _str(spec, "usage"),
        "host_cluster": _str(spec, "hostCluster"),
        "primary_domain": _str(spec, "primaryDomain"),
        "worker_type": _str(spec, "workerType"),
        "api_server": _str(spec, "apiServer"),
        "components_list": {
            api_key: _reply_component(components.get(catalogue.API_TO_CRD[api_key]))
            for api_key in catalogue.API_COMPONENT_KEYS
        },
        "reserved_namespaces_allowed_products": _reply_reserved(
            spec.get("reservedNamespacesAllowedProducts")
        ),
        "product_allowed_cluster_resources": _reply_resources(
            spec.get("productAllowedClusterResources")
        ),
    }


def clusters_kustomization(names: Iterable[str]) -> bytes:
    """`nautes/overlays/production/clusters/kustomization.yaml` listing every cluster file."""
    doc: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    }
    resources = sorted({f"{name}.yaml" for name in names})
    if resources:
        doc["resources"] = resources
    return dump_yaml(doc)
