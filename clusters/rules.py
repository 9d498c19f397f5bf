"""Cluster rules: parse a save request, validate a cluster, guard updates and deletes.

Pure functions over plain data (no Django, no I/O). The rules are upstream Nautes v0.4.2's
(API service checks, protoc-gen-validate rules, the Cluster webhook's `ValidateCluster`) plus a
few portal rules where upstream lets broken data through; the reference is `nautes.md` §3.1.

Upstream message texts are kept verbatim, with the prefix upstream adds in front of them:
`failed to validate save request, err: ` (API service checks), `failed to construct cluster,
err: ` (component resolution) and `failed to validate cluster, err: ` (webhook checks).
Portal-only rules have their own plain messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from clusters import catalogue
from clusters.kubeconfig import KUBECONFIG_REQUIRED_MESSAGE, normalize_kubeconfig
from nautes_portal.errors import Conflict, RuleViolation

SAVE_PREFIX = "failed to validate save request, err: "
CONSTRUCT_PREFIX = "failed to construct cluster, err: "
VALIDATE_PREFIX = "failed to validate cluster, err: "

CLUSTER_KINDS: tuple[str, ...] = ("kubernetes",)
CLUSTER_TYPES: tuple[str, ...] = ("physical", "virtual")
USAGES: tuple[str, ...] = ("host", "worker")
WORKER_TYPES: tuple[str, ...] = ("pipeline", "deployment")

# A cluster name becomes a file name, an Argo CD cluster name and a Vault path segment.
NAME_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
NAME_MAX_LENGTH = 63
# Kubernetes namespaces are DNS-1123 labels too.
NAMESPACE_PATTERN = NAME_PATTERN
# The CRD's spec.apiServer pattern (cluster_types.go); Kubernetes applies it as a search.
CRD_API_SERVER_PATTERN = (
    r"https?:\/\/(www\.)?[-a-zA-Z0-9@:%._\+~#=]{1,256}\.[a-zA-Z0-9()]{1,6}\b"
    r"([-a-zA-Z0-9()@:%_\+.~#?&\/\/=]*)"
)
_HTTP_PREFIX = re.compile(r"^(https?://)")
_PORT = re.compile(r"[0-9]+")
_MAX_SHOWN = 200

# The spec fields whose change is refused while the cluster is referenced, in message order.
IMMUTABLE_WHEN_REFERENCED: tuple[str, ...] = (
    "clusterKind",
    "clusterType",
    "usage",
    "hostCluster",
    "workerType",
)
_SCALAR_FIELDS: tuple[str, ...] = (
    "apiServer",
    "clusterType",
    "clusterKind",
    "usage",
    "hostCluster",
    "primaryDomain",
    "workerType",
)


@dataclass
class ClusterInput:
    """A cluster as the portal is asked to save it.

    `spec` is the CRD spec (camelCase). `kubeconfig` is the raw upload (YAML or base64) and
    never goes into the spec. `vcluster_https_node_port` is None when not applicable (physical
    clusters, specs read from Git) and "" when a virtual cluster has none.
    """

    name: str
    spec: dict[str, Any] = field(default_factory=dict)
    kubeconfig: str | None = None
    vcluster_https_node_port: str | None = None


# --------------------------------------------------------------------------- small helpers


def _show(value: object) -> str:
    """A user value for a message, cut short so a huge input cannot bloat the error."""
    text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


def _dedupe(messages: Iterable[str]) -> list[str]:
    """Drop repeated messages, keeping the first occurrence's position."""
    return list(dict.fromkeys(messages))


def _raise_if(problems: list[str]) -> None:
    """Raise one RuleViolation listing every problem, if there are any."""
    if problems:
        raise RuleViolation("; ".join(_dedupe(problems)))


def _spec_str(spec: Mapping[str, Any], key: str) -> str:
    """A scalar spec field as a string ("" when absent or of the wrong type)."""
    value = spec.get(key)
    return value if isinstance(value, str) else ""


def _url_port(url: str) -> str:
    """The explicit port of a URL, or "" (upstream `ExtractPortFromURL`)."""
    try:
        port = urlsplit(url).port
    except ValueError:
        return ""
    return "" if port is None else str(port)


def _text(value: Any) -> str | None:
    """A JSON string, or a JSON integer written as a string; None for anything else.

    Upstream's protojson would refuse numbers for string fields; accepting `30080` for a node
    port is friendlier and unambiguous. Booleans are not numbers here.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# --------------------------------------------------------------------------- request parsing


def _string_field(body: Mapping[str, Any], key: str, problems: list[str]) -> str:
    """A string body field; missing/null gives ""."""
    value = body.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    problems.append(f"the value of {key} must be a string")
    return ""


def _parse_additions(label: str, raw: Any, problems: list[str]) -> dict[str, str]:
    """A component's `additions` object (string → string)."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"{label} must be an object of strings")
        return {}
    additions: dict[str, str] = {}
    for key, value in raw.items():
        text = _text(value)
        if not isinstance(key, str) or text is None:
            problems.append(f"{label}.{_show(key)} must be a string")
            continue
        additions[key] = text
    return additions


def _parse_component(api_key: str, raw: Any, problems: list[str]) -> dict[str, Any] | None:
    """One API component `{name, namespace, additions}`; fields may still be empty."""
    label = f"components_list.{api_key}"
    if not isinstance(raw, Mapping):
        problems.append(f"{label} must be an object with name, namespace and additions")
        return None
    component: dict[str, Any] = {}
    for key in ("name", "namespace"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"{label}.{key} must be a string")
            value = None
        component[key] = value or ""
    component["additions"] = _parse_additions(f"{label}.additions", raw.get("additions"), problems)
    return component


def _parse_components(raw: Any, problems: list[str]) -> dict[str, dict[str, Any]]:
    """The API `components_list`, keyed by CRD category.

    Only the fields of upstream's `ComponentsList` message are read; anything else is ignored
    the way Kratos discards unknown JSON fields (so `secret_management` cannot be chosen).
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append("components_list must be an object")
        return {}
    components: dict[str, dict[str, Any]] = {}
    for api_key in catalogue.API_COMPONENT_KEYS:
        value = raw.get(api_key)
        if value is None:
            continue
        component = _parse_component(api_key, value, problems)
        if component is not None:
            components[catalogue.API_TO_CRD[api_key]] = component
    return components


def _apply_alias(
    components: dict[str, dict[str, Any]], category: str, key: str, value: str
) -> None:
    """Put a v0.3 alias value into a component's additions unless `components_list` set it."""
    if not value:
        return
    component = components.setdefault(category, {"name": "", "namespace": "", "additions": {}})
    if not component["additions"].get(key):
        component["additions"][key] = value


def _parse_aliases(
    body: Mapping[str, Any], components: dict[str, dict[str, Any]], problems: list[str]
) -> None:
    """Accept the v0.3 fields `argocd_host`, `tekton_host` and `traefik{...}` (§0.1)."""
    argocd_host = _string_field(body, "argocd_host", problems)
    _apply_alias(components, "deployment", catalogue.HOST_ADDITION, argocd_host)
    tekton_host = _string_field(body, "tekton_host", problems)
    _apply_alias(components, "pipeline", catalogue.HOST_ADDITION, tekton_host)
    traefik = body.get("traefik")
    if traefik is None:
        return
    if not isinstance(traefik, Mapping):
        problems.append("traefik must be an object with http_node_port and https_node_port")
        return
    for api_key, addition in (
        ("http_node_port", catalogue.HTTP_NODE_PORT),
        ("https_node_port", catalogue.HTTPS_NODE_PORT),
    ):
        value = traefik.get(api_key)
        if value is None:
            continue
        text = _text(value)
        if text is None:
            problems.append(f"traefik.{api_key} must be a string")
            continue
        _apply_alias(components, "gateway", addition, text)


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


def _complete_component(
    category: str, component: Mapping[str, Any], *, cluster_name: str, primary_domain: str
) -> dict[str, Any]:
    """Fill a user component's missing name, namespace and additions from the catalogue."""
    name = component.get("name") or ""
    namespace = component.get("namespace") or ""
    additions = dict(component.get("additions") or {})
    if not name:
        default = catalogue.default_component(category)
        if default is not None:
            name = default.name
            # Upstream also replaces the namespace here; keeping a given one is kinder.
            namespace = namespace or default.namespace
    known = catalogue.component_by_name(name)
    if known is not None:
        namespace = namespace or known.namespace
        defaults = catalogue.default_additions(
            known, cluster_name=cluster_name, primary_domain=primary_domain
        )
        for key, value in defaults.items():
            # An empty value counts as missing: a form's blank field means "use the default".
            if not additions.get(key):
                additions[key] = value
    return {"name": name, "namespace": namespace, "additions": additions}


def _default_component(category: str, *, cluster_name: str, primary_domain: str) -> dict[str, Any]:
    """The catalogue default component of a category, with its default additions."""
    return _complete_component(
        category, {}, cluster_name=cluster_name, primary_domain=primary_domain
    )


def resolve_components(
    requested: Mapping[str, Mapping[str, Any]],
    *,
    cluster_name: str,
    usage: str,
    cluster_type: str,
    worker_type: str,
    primary_domain: str,
) -> dict[str, dict[str, Any]]:
    """Upstream's component defaulting (`setDefaultValuesIfEmpty` + `setDefaultComponent`).

    Every category of the shape gets a component: the user's (completed) or the catalogue
    default. Categories outside the shape are dropped. `secretManagement` (vault) and
    `oauthProxy` (oauth2-proxy) are platform-managed: always the catalogue component, for the
    shapes that have them (host and physical pipeline workers — upstream v0.4.2 also leaves
    oauthProxy out of physical deployment workers). For an unsupported shape the user's
    components are kept as given (validation reports the shape) plus vault.
    """
    opts = {"cluster_name": cluster_name, "primary_domain": primary_domain}
    categories = catalogue.categories_for(usage, cluster_type, worker_type)
    if categories is None:
        resolved = {
            category: _complete_component(category, component, **opts)
            for category, component in requested.items()
            if category not in catalogue.PLATFORM_CATEGORIES
        }
        resolved["secretManagement"] = _default_component("secretManagement", **opts)
        return resolved
    resolved = {}
    for category in categories:
        if category in catalogue.PLATFORM_CATEGORIES or category not in requested:
            resolved[category] = _default_component(category, **opts)
        else:
            resolved[category] = _complete_component(category, requested[category], **opts)
    return resolved


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


# --------------------------------------------------------------------------- validation


def _name_problems(name: str) -> list[str]:
    """Portal rule: the cluster name must be a DNS-1123 label."""
    if not name:
        return ["the cluster name is required"]
    if len(name) > NAME_MAX_LENGTH or not NAME_PATTERN.fullmatch(name):
        return [
            f"the cluster name {_show(name)} is invalid: it must be a DNS-1123 label "
            f"(at most {NAME_MAX_LENGTH} lowercase letters, digits or '-', "
            "starting and ending with a letter or digit)"
        ]
    return []


def _field_type_problems(spec: Mapping[str, Any]) -> list[str]:
    """Scalar spec fields of the wrong type (possible in a hand-edited Git file)."""
    return [
        f"spec.{key} must be a string"
        for key in _SCALAR_FIELDS
        if spec.get(key) is not None and not isinstance(spec.get(key), str)
    ]


def _api_server_problems(api_server: str) -> list[str]:
    """PGV min_len, upstream's http(s) prefix check, then the portal's URL and CRD checks."""
    if not api_server:
        return ["invalid SaveRequest_Body.ApiServer: value length must be at least 1 runes"]
    shown = _show(api_server)
    if not _HTTP_PREFIX.match(api_server):
        return [f"{SAVE_PREFIX}the apiserver {shown} is not an https URL"]
    try:
        parts = urlsplit(api_server)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        host = None
    if not host or any(ch.isspace() for ch in api_server):
        return [f"the apiserver {shown} is not a valid URL: it needs a host and an optional port"]
    # Without this the rendered Cluster would be refused by the CRD when Argo CD syncs it.
    if not re.search(CRD_API_SERVER_PATTERN, api_server):
        return [
            f"the apiserver {shown} does not match the pattern of the Cluster resource: "
            f"{CRD_API_SERVER_PATTERN}"
        ]
    return []


def _enum_problems(cluster_kind: str, cluster_type: str, usage: str) -> list[str]:
    """PGV enums of the save request, and the CRD enum of clusterKind."""
    problems: list[str] = []
    if not cluster_kind:
        problems.append(
            "invalid SaveRequest_Body.ClusterKind: value length must be at least 1 runes"
        )
    elif cluster_kind not in CLUSTER_KINDS:
        # The Kubernetes API server's wording for a CRD enum failure.
        problems.append(
            f'spec.clusterKind: Unsupported value: "{_show(cluster_kind)}": '
            'supported values: "kubernetes"'
        )
    if cluster_type not in CLUSTER_TYPES:
        problems.append(
            "invalid SaveRequest_Body.ClusterType: value must be in list [physical virtual]"
        )
    if usage not in USAGES:
        problems.append("invalid SaveRequest_Body.Usage: value must be in list [host worker]")
    return problems


def _shape_problems(
    cluster_type: str, usage: str, host_cluster: str, worker_type: str
) -> list[str]:
    """The API service's checks, then the webhook's `staticCheck` shape rules."""
    problems: list[str] = []
    if usage == "worker" and cluster_type == "virtual" and not host_cluster:
        problems.append(f"{SAVE_PREFIX}the 'Host Cluster' for virtual cluster is required")
    if usage == "worker" and not worker_type:
        problems.append(
            f"{SAVE_PREFIX}when the cluster usage is 'worker', the 'WorkerType' field is required"
        )
    if usage == "host" and cluster_type == "virtual":
        problems.append(f"{VALIDATE_PREFIX}host cluster can not be a virtual cluster")
    if usage == "host" and worker_type:
        problems.append(f"{VALIDATE_PREFIX}host cluster's work type should be empty")
    if cluster_type == "physical" and host_cluster:
        problems.append(f"{VALIDATE_PREFIX}host cluster can not belong to another host")
    # For a virtual worker the API service's message above already says this.
    if cluster_type == "virtual" and not host_cluster and usage != "worker":
        problems.append(f"{VALIDATE_PREFIX}virtual cluster must have a host")
    return problems


def _host_cluster_problems(
    name: str, cluster_type: str, host_cluster: str, existing: Mapping[str, Mapping[str, Any]]
) -> list[str]:
    """Portal rule: a virtual cluster's host must be a registered `usage: host` cluster."""
    if cluster_type != "virtual" or not host_cluster:
        return []
    shown = _show(host_cluster)
    if host_cluster == name:
        return [f"cluster {name} cannot be its own host cluster"]
    host_spec = existing.get(host_cluster)
    if host_spec is None:
        return [f"the host cluster {shown} of virtual cluster {name} does not exist"]
    host_usage = host_spec.get("usage") if isinstance(host_spec, Mapping) else None
    if host_usage != "host":
        return [
            f"the host cluster {shown} of virtual cluster {name} is not a host cluster "
            f"(its usage is '{_show(host_usage or '')}')"
        ]
    return []


def _primary_domain_problems(primary_domain: str) -> list[str]:
    """Portal rule: the primary domain is a DNS name (component hosts are built from it)."""
    if primary_domain and not re.fullmatch(catalogue.HOSTNAME_REGEX, primary_domain):
        return [f"the primary domain {_show(primary_domain)} is not a valid domain name"]
    return []


def _component_shape_problems(category: str, component: Any) -> list[str]:
    """CRD structure of one component: `{name, namespace, additions: {str: str}}`."""
    if not isinstance(component, Mapping):
        return [f"spec.componentsList.{category} must be an object"]
    problems: list[str] = []
    for key in ("name", "namespace"):
        value = component.get(key)
        if not isinstance(value, str) or not value:
            problems.append(f"component {category} must have a {key}")
    additions = component.get("additions")
    if additions is not None and (
        not isinstance(additions, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in additions.items())
    ):
        problems.append(f"the additions of component {category} must map names to strings")
    return problems


def _component_problems(category: str, component: Mapping[str, Any]) -> str | None:
    """Upstream's `checkComponentValidity` (+ portal checks), joined with " | " like upstream."""
    name = component["name"]
    known = catalogue.component_by_name(name)
    if known is None:
        return f"failed to get component {_show(name)} from third-part components list"
    errors: list[str] = []
    if known.category != category:
        errors.append(f"component {name} is a {known.category} component, not a {category} one")
    namespace = component["namespace"]
    if len(namespace) > NAME_MAX_LENGTH or not NAMESPACE_PATTERN.fullmatch(namespace):
        errors.append(f"the namespace {_show(namespace)} of component {name} is not a valid name")
    additions = component.get("additions") or {}
    for prop in known.properties:
        if prop.required and prop.name not in additions:
            errors.append(f"the '{prop.name}' of component {name} is a required value")
        elif prop.name in additions and not prop.matches(additions[prop.name]):
            errors.append(
                f"the value {_show(additions[prop.name])} of the component matches incorrectly, "
                f"meeting the following rule: {prop.regex}"
            )
    return " | ".join(errors) if errors else None


def _components_problems(
    name: str, usage: str, cluster_type: str, worker_type: str, components_raw: Any
) -> list[str]:
    """Shape match, CRD structure, required categories, additions and reserved namespaces."""
    problems: list[str] = []
    if not isinstance(components_raw, Mapping):
        problems.append("spec.componentsList must be an object")
        components_raw = {}
    well_formed: dict[str, Mapping[str, Any]] = {}
    for category in catalogue.CATEGORIES:
        component = components_raw.get(category)
        if component is None:
            continue
        structure = _component_shape_problems(category, component)
        problems.extend(structure)
        if not structure:
            well_formed[category] = component

    categories = catalogue.categories_for(usage, cluster_type, worker_type)
    if categories is None:
        # Invalid enums and a missing worker type are reported already; do not add noise.
        if (
            usage in USAGES
            and cluster_type in CLUSTER_TYPES
            and not (usage == "worker" and not worker_type)
        ):
            key = catalogue.shape_key(usage, cluster_type, _show(worker_type))
            problems.append(
                f"{CONSTRUCT_PREFIX}failed to match component type [{key}], "
                f"please check if the cluster {name} is correct"
            )
    else:
        missing = [category for category in categories if components_raw.get(category) is None]
        if missing:
            problems.append(
                f"{VALIDATE_PREFIX}cluster {name} is missing the following components "
                f"[{' | '.join(missing)}]"
            )
        errors = [
            error
            for category in categories
            if category in well_formed
            and (error := _component_problems(category, well_formed[category])) is not None
        ]
        if errors:
            problems.append(
                f"{VALIDATE_PREFIX}validation of component list failed with errors: "
                + ", ".join(errors)
            )
    return problems


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


def _vcluster_problems(cluster_type: str, port: Any) -> list[str]:
    """The vcluster NodePort of a virtual cluster save (None means: not part of this input)."""
    if cluster_type != "virtual" or port is None:
        return []
    if not isinstance(port, str):
        return ["the vcluster https_node_port must be a string"]
    if not port:
        return [
            "the vcluster https_node_port is required for a virtual cluster: "
            "set vcluster.https_node_port or put the port in api_server"
        ]
    if not _PORT.fullmatch(port):
        return [f"the vcluster https_node_port {_show(port)} must be a port number"]
    return []


def _kubeconfig_problems(
    cluster_type: str, raw: Any, *, api_server: str, required: bool
) -> list[str]:
    """Physical clusters need a readable kubeconfig (virtual ones get theirs from the host)."""
    if cluster_type != "physical":
        return []
    if not isinstance(raw, str) or not raw.strip():
        return [KUBECONFIG_REQUIRED_MESSAGE] if required else []
    try:
        normalize_kubeconfig(raw, api_server=api_server)
    except RuleViolation as error:
        return [error.message]
    return []


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


# --------------------------------------------------------------------------- update and delete


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
