"""Turning an API save request (v0.4.2 `SaveRequest.Body`, v0.3 aliases accepted) into a
`ClusterInput` with upstream's defaults; type errors only, the rules run in `validation`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from clusters import catalogue
from clusters.rules.allow_lists import parse_allowed_cluster_resources, parse_reserved_namespaces
from clusters.rules.common import ClusterInput, _raise_if, _string_field, _text
from clusters.rules.components import _parse_aliases, _parse_components, resolve_components
from nautes_portal.errors import RuleViolation


def _url_port(url: str) -> str:
    """The explicit port of a URL, or "" (upstream `ExtractPortFromURL`)."""
    try:
        port = urlsplit(url).port
    except ValueError:
        return ""
    return "" if port is None else str(port)


def cluster_input_from_request(name: str, body: dict[str, Any]) -> ClusterInput:
    """Turn a v0.4.2 `SaveRequest.Body` (snake_case, §4.3) into a `ClusterInput`.

    Accepts the v0.3 aliases `argocd_host`, `tekton_host` and `traefik`, applies upstream's
    defaults (cluster kind, primary domain, components per shape, vcluster port) and raises
    `RuleViolation` listing every type error in the body. Rules are checked by
    `validate_cluster`, not here.
    """
    if not isinstance(name, str):
        raise RuleViolation("the cluster name must be a string")
    if not isinstance(body, Mapping):
        raise RuleViolation("the request body must be a JSON object")
    problems: list[str] = []
    api_server = _string_field(body, "api_server", problems)
    # The CRD defaults clusterKind to kubernetes, its only allowed value; upstream's API
    # insists on it being sent. Defaulting here spares API clients a meaningless field.
    cluster_kind = _string_field(body, "cluster_kind", problems) or "kubernetes"
    cluster_type = _string_field(body, "cluster_type", problems)
    usage = _string_field(body, "usage", problems)
    host_cluster = _string_field(body, "host_cluster", problems)
    worker_type = _string_field(body, "worker_type", problems)
    primary_domain = _string_field(body, "primary_domain", problems)
    kubeconfig = _string_field(body, "kubeconfig", problems)
    requested = _parse_components(body.get("components_list"), problems)
    _parse_aliases(body, requested, problems)
    reserved = parse_reserved_namespaces(body.get("reserved_namespaces_allowed_products"), problems)
    resources = parse_allowed_cluster_resources(
        body.get("product_allowed_cluster_resources"), problems
    )
    vcluster_port = _parse_vcluster_port(body.get("vcluster"), problems)
    _raise_if(problems)

    primary_domain = primary_domain or catalogue.primary_domain_for(api_server)
    spec: dict[str, Any] = {
        "apiServer": api_server,
        "clusterType": cluster_type,
        "clusterKind": cluster_kind,
        "usage": usage,
        "hostCluster": host_cluster,
        "primaryDomain": primary_domain,
        "workerType": worker_type,
        "componentsList": resolve_components(
            requested,
            cluster_name=name,
            usage=usage,
            cluster_type=cluster_type,
            worker_type=worker_type,
            primary_domain=primary_domain,
        ),
    }
    if reserved is not None:
        spec["reservedNamespacesAllowedProducts"] = reserved
    if resources is not None:
        spec["productAllowedClusterResources"] = resources
    # Upstream: the vcluster NodePort defaults to the port of api_server; physical: n/a.
    https_node_port = (
        (vcluster_port or _url_port(api_server)) if cluster_type == "virtual" else None
    )
    return ClusterInput(
        name=name,
        spec=spec,
        kubeconfig=kubeconfig or None,
        vcluster_https_node_port=https_node_port,
    )


def _parse_vcluster_port(raw: Any, problems: list[str]) -> str:
    """`vcluster.https_node_port` as a string ("" when absent)."""
    if raw is None:
        return ""
    if not isinstance(raw, Mapping):
        problems.append("vcluster must be an object with https_node_port")
        return ""
    value = raw.get("https_node_port")
    if value is None:
        return ""
    text = _text(value)
    if text is None:
        problems.append("vcluster.https_node_port must be a string")
        return ""
    return text
