"""Cluster components: reading the API's `components_list` (and the v0.3 aliases), completing it
with the catalogue's defaults per cluster shape, and the component rules of the webhook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clusters import catalogue
from clusters.rules.common import (
    CLUSTER_TYPES,
    CONSTRUCT_PREFIX,
    NAME_MAX_LENGTH,
    NAMESPACE_PATTERN,
    USAGES,
    VALIDATE_PREFIX,
    _show,
    _string_field,
    _text,
)


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
