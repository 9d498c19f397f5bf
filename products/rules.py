"""Product rules: the checks a product's resources must pass before the portal commits them.

Pure functions over a `ProductState` snapshot (no Django, no Git, no network). They reproduce
upstream Nautes v0.4.2 (`reference/nautes.md` §3.0, §3.2–§3.7): the protoc-gen-validate and
service checks of one request (`check_static`), the "global validation" that re-checks every
resource of the product against the others (`check_global`), the update guards
(`check_update`) and the reference checks before a delete (`delete_blockers`).

Upstream message texts are kept verbatim where upstream has one, including its prefixes
(`verify deployment runtime failed, err: `, ...) and its typos. Portal-only rules (names,
required fields, wrong types) have plain messages that name the field by its spec path
(camelCase, as in the YAML file, e.g. `destination.environment`).

Where upstream stops at the first error, these functions report every problem they find, in
a deterministic order, so the caller can show them all.

Namespace ownership (`namespace_problems`) is a security rule, not part of upstream's global
validation: it runs in `check_static`, which services run whatever `insecure_skip_check` says.
A runtime may use only its product's namespaces: never a system namespace (`kube-*`,
`default`), `nautes`, another product's `product-<gid>`, a namespace another product's runtime
uses on that cluster, nor a namespace of a cluster component (Argo CD, Tekton...) unless the
cluster's `reservedNamespacesAllowedProducts` names the product for it. The cluster's Argo CD
namespace is never granted, whatever the allow-list says: a runtime account that administers it
can write AppProjects, which is cluster-admin.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from clusters import catalogue
from clusters.catalogue import COMPONENTS
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

DR_PREFIX = "verify deployment runtime failed, err: "
PPR_PREFIX = "verify project pipeline runtime failed, err: "
HOOK_PREFIX = "hook is illegal: "

_MAX_SHOWN = 100


@dataclass(frozen=True)
class Problem:
    """One broken rule: which resource, what is wrong, and how the API should answer."""

    kind: str
    name: str
    message: str
    status: int = 400  # 400: the input breaks a rule; 409: it conflicts with other resources
    reason: str = VALIDATOR  # upstream's reason where it has one


# ---- Messages: upstream's texts verbatim (typos included), filled with str.format ------

PRODUCT_MISMATCH = (
    "the product name of resource {name} does not match the current product name, "
    "expected is {expected}, but now is {actual}"
)
INVALID_WEBHOOK = (
    "invalid webhook {event} please refer to gitlab api documentation: "
    "https://docs.gitlab.com/ee/api/projects.html#edit-project-hook"
)
# biz `_ResourceDoesNotExistOrUnavailable`.
UNAVAILABLE = (
    "during global validation, it was found that {kind} '{name}' does not exist or is "
    "unavailable. Please check {owner_kind} '{owner}' in directory '{directory}'"
)
# biz `ResourceDoesNotExistOrUnavailable` (reason RESOURCE_NOT_EXIST), used for runtimes.
DR_UNAVAILABLE = (
    "During global validation, it was found that {name} '{kind}' does not exist or is "
    "unavailable. Please check resource path of default project: runtimes/{runtime}"
)
DR_REPO_UNAVAILABLE = DR_UNAVAILABLE + ", err: failed to get codeRepo {name}"
DR_PROJECT_MISSING = (
    "the referenced project {project} by the deployment runtime {runtime} does not exist "
    "while verifying the validity of the global template"
)
BINDING_REPO_MISSING = (
    "the authorization repository {repo} does not exist when checking CodeRepoBinding {binding}"
)
BINDING_PROJECT_MISSING = "project resource {project} does not exist or is invalid"
ENV_CLUSTER_SHARED = "duplicate reference cluster resources sbetween resource {a} and resource {b}"
DUPLICATE_REFERENCE = "duplicate reference found between resource {a} and resource {b}"
# Upstream's text is misleading, so the portal says what is actually wrong after it.
DUPLICATE_PIPELINE_PATH = (
    "ProjectPipelineRuntime {runtime} uses the same code repository for both codeSource and "
    "pipelineSource under {project} directory, as found in the global validation: "
    "pipelines {a} and {b} have the same path {path}"
)
BINDING_REPO_IMMUTABLE = (
    "It is not allowed to modify the authorized repository. If you want to change the "
    "authorized repository, please delete the authorization"
)
PPR_PROJECT_IMMUTABLE = "existing pipeline runtime is not allow modifying the project field"
PPR_DESTINATION_MISSING = (
    "pipeline deployment target configuration not submitted, please checked '.Destination' field"
)
REFERENCED_BY = "{noun} referenced by [{referrers}], not allowed to be deleted"
# `DeploymentRuntime.Validate` / `ProjectPipelineRuntime.Validate` and StaticCheck; the global
# validation puts DR_PREFIX / PPR_PREFIX in front of them.
CLUSTER_MISSING = "get cluster by runtime failed: cluster {cluster} does not exist"
DR_NOT_DEPLOYMENT_CLUSTER = "cluster is not a deployment cluster"
DR_COMPONENT_NAMESPACE = "deployment runtime can not use component namespace {namespace}"
DR_NAMESPACES_TAKEN = "namespaces [{namespaces}] is used by other product"
DR_PROJECT_ILLEGAL = "project {project} is illegal: {error}"
NOT_PERMITTED = "not permitted to use repository {repo}"
PPR_NOT_PIPELINE_CLUSTER = "cluster is not a pipeline cluster"
PPR_ADDITIONAL_NOT_PERMITTED = (
    "pipeline can not use code repo {repo} in additional resource: {error}"
)
PPR_NAMESPACE_TAKEN = "namespace {namespace} is used by other runtime"
PPR_NO_PIPELINE_COMPONENT = "cluster component pipeline is empty"
EVENT_SOURCE_DUPLICATE = "event source {name} is duplicate"
PIPELINE_DUPLICATE = "pipeline {name} is duplicate"
ADDITIONAL_GIT_EMPTY = "code repo and url can not be empty at the same time"
TRIGGER_SOURCE_MISSING = "found non-existent event source {name} in trigger"
TRIGGER_PIPELINE_MISSING = "found non-existent pipeline {name} in trigger"
TRIGGER_DUPLICATE = (
    "trigger is duplicate, event source {source}, pipeline {pipeline}, trigger {revision}"
)
INPUT_SOURCE_EMPTY = "builtInVar and fromEvent cannot be empty at the same time"
INPUT_SOURCE_BOTH = "both builtInVar and fromEvent has value"
INPUT_TRANSMISSION_NIL = "transmission method can not be nil"
HOOK_DUPLICATE = "a duplicate hook {name} was found"
HOOK_ALIAS_TAKEN = "hook alias {alias} is used by other hook"

# ---- Messages: the portal's own ---------------------------------------------------

INVALID_SUBDOMAIN = (
    "{field} '{value}' is invalid: must be a lowercase RFC 1123 subdomain (lowercase letters, "
    "digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters)"
)
INVALID_LABEL = (
    "{field} '{value}' is invalid: must be a lowercase RFC 1123 label (lowercase letters, "
    "digits and '-', starting and ending with a letter or digit, at most 63 characters)"
)
REQUIRED = "{field} is required"
WRONG_TYPE = "{field} must be {expected}"
NOT_ONE_OF = "{field} must be one of {allowed}, but is '{value}'"
TOO_FEW = "{field} must have at least {count} item(s)"
EMPTY_ITEM = "{field} must not be empty"
UNKNOWN_KIND = "unknown kind {kind}"
# Upstream dereferences a missing DR destination (a 500 panic); the portal says what to send.
DR_DESTINATION_MISSING = (
    "destination is required: set destination.environment to the environment to deploy to"
)
# The docs' rule upstream never enforced (nautes.md §3.2, §8 item 13).
ENV_CLUSTER_LOCKED = (
    "the cluster of environment {env} cannot be changed from {old} to {new} while runtimes "
    "are deployed to it: [{referrers}]; delete them first"
)
DEFAULT_NAMESPACE_FIELD = "{field} (default: the runtime name)"
# Namespace ownership (a security rule; upstream has the component and "used by" parts only).
_ONLY_OWN = "a runtime may use only its product's namespaces"
NS_SYSTEM = "namespace {namespace} is reserved for the cluster (system namespace); " + _ONLY_OWN
NS_PLATFORM = "namespace {namespace} is reserved for the Nautes platform; " + _ONLY_OWN
NS_OTHER_PRODUCT = "namespace {namespace} is the product namespace of another product; " + _ONLY_OWN
# Why the Argo CD namespace is never granted (#12): a runtime account administering it could
# write AppProjects, and an AppProject may allow any destination and any cluster resource.
ARGOCD_NEVER_GRANTED = (
    "it is the cluster's Argo CD namespace, which no allow-list can grant (a runtime there "
    "could write Argo CD projects, and so reach the whole cluster)"
)
NS_ARGOCD = (
    "namespace {namespace} is reserved for the cluster (namespace of a cluster component): "
    + ARGOCD_NEVER_GRANTED
    + "; "
    + _ONLY_OWN
)
NS_COMPONENT = (
    "namespace {namespace} is reserved for the cluster (namespace of a cluster component); "
    + _ONLY_OWN
    + ", or a component namespace the cluster's reserved_namespaces_allowed_products names "
    "this product for"
)


def _show(value: object) -> str:
    """A user value for a message, cut short so a huge input cannot bloat the error."""
    text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


# ---- Tolerant reads (wrong types read as empty; check_static reports them) ---------


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


# ---- Namespace ownership (pure; shared with the deployer) -------------------------

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


# ---- Static checks -------------------------------------------------------------


class _Static:
    """Reads one spec with the expected types, recording every deviation as a message."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def wrong(self, field: str, expected: str) -> None:
        self.add(WRONG_TYPE.format(field=field, expected=expected))

    def text(
        self, data: dict[str, Any], key: str, field: str, *, needed: bool = False, dns: str = ""
    ) -> str:
        """A string field ("" when absent or wrong); `dns` is "subdomain" or "label"."""
        value = data.get(key)
        if value is None or value == "":
            if needed:
                self.add(REQUIRED.format(field=field))
            return ""
        if not isinstance(value, str):
            self.wrong(field, "a string")
            return ""
        if problem := dns_problem(field, value, dns):
            self.add(problem)
        return value

    def choice(self, data: dict[str, Any], key: str, field: str, allowed: tuple[str, ...]) -> None:
        """An enum field; absent or empty is not one of the allowed values either."""
        raw = data.get(key)
        if raw is not None and not isinstance(raw, str):
            self.wrong(field, "a string")
        elif (raw or "") not in allowed:
            self.add(
                NOT_ONE_OF.format(field=field, allowed=", ".join(allowed), value=_show(raw or ""))
            )

    def mapping(
        self, data: dict[str, Any], key: str, field: str, *, needed: bool = False
    ) -> dict[str, Any] | None:
        """An object field; None when absent (reported when needed) or of the wrong type."""
        value = data.get(key)
        if value is None and needed:
            self.add(REQUIRED.format(field=field))
        elif value is not None and not isinstance(value, dict):
            self.wrong(field, "an object")
        return value if isinstance(value, dict) else None

    def items(self, data: dict[str, Any], key: str, field: str, *, min_items: int = 0) -> list[Any]:
        """A list field ([] when absent or wrong), with upstream's min_items rule."""
        value = data.get(key)
        if value is not None and not isinstance(value, list):
            self.wrong(field, "a list")
            return []
        value = value or []
        if len(value) < min_items:
            self.add(TOO_FEW.format(field=field, count=min_items))
        return value

    def objects(
        self, data: dict[str, Any], key: str, field: str, *, min_items: int = 0
    ) -> list[tuple[str, dict[str, Any]]]:
        """A list of objects, each with its field path; wrong items are reported and skipped."""
        result = []
        for index, item in enumerate(self.items(data, key, field, min_items=min_items)):
            if isinstance(item, dict):
                result.append((f"{field}[{index}]", item))
            else:
                self.wrong(f"{field}[{index}]", "an object")
        return result

    def strings(self, data: dict[str, Any], key: str, field: str, *, dns: str = "") -> None:
        """A list of non-empty strings."""
        for index, item in enumerate(self.items(data, key, field)):
            path = f"{field}[{index}]"
            if not isinstance(item, str):
                self.wrong(path, "a string")
            elif item == "":
                self.add(EMPTY_ITEM.format(field=path))
            elif problem := dns_problem(path, item, dns):
                self.add(problem)

    def flag(self, data: dict[str, Any], key: str, field: str) -> None:
        if data.get(key) is not None and not isinstance(data.get(key), bool):
            self.wrong(field, "true or false")

    def string_map(self, data: dict[str, Any], key: str, field: str) -> None:
        value = self.mapping(data, key, field)
        if value and not all(isinstance(v, str) for v in value.values()):
            self.wrong(field, "a map of strings")


def _static_environment(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """PGV: cluster and env_type min_len 1."""
    c.text(spec, "cluster", "cluster", needed=True)
    c.text(spec, "envType", "envType", needed=True)


def _static_project(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """Upstream does not validate `language`; only its type is checked."""
    c.text(spec, "language", "language")


def _static_coderepo(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """Field types, and webhook events from GitLab's list (upstream checks them globally)."""
    for key in ("codeRepoProvider", "project", "repoName", "url"):
        c.text(spec, key, key)
    c.flag(spec, "deploymentRuntime", "deploymentRuntime")
    c.flag(spec, "pipelineRuntime", "pipelineRuntime")
    webhook = c.mapping(spec, "webhook", "webhook") or {}
    for index, event in enumerate(c.items(webhook, "events", "webhook.events")):
        if not isinstance(event, str):
            c.wrong(f"webhook.events[{index}]", "a string")
        elif event and event not in WEBHOOK_EVENTS:  # upstream skips empty entries
            c.add(INVALID_WEBHOOK.format(event=_show(event)))


def _static_binding(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """PGV: permissions readonly|readwrite, coderepo min_len 1."""
    c.text(spec, "codeRepo", "codeRepo", needed=True)
    c.choice(spec, "permissions", "permissions", PERMISSIONS)
    c.strings(spec, "projects", "projects")


def _static_dr(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """PGV manifest_source rules, plus a required destination (upstream panics without one)."""
    c.strings(spec, "projectsRef", "projectsRef")
    c.text(spec, "account", "account")
    source = c.mapping(spec, "manifestSource", "manifestSource", needed=True)
    for key in ("codeRepo", "targetRevision", "path") if source is not None else ():
        c.text(source, key, f"manifestSource.{key}", needed=True)
    if spec.get("destination") is None:
        c.add(DR_DESTINATION_MISSING)
    destination = c.mapping(spec, "destination", "destination")
    if destination is None:
        return
    c.text(destination, "environment", "destination.environment", needed=True)
    c.strings(destination, "namespaces", "destination.namespaces", dns="label")
    if destination.get("namespaces") in (None, []):
        # Upstream deploys into a namespace named after the runtime when none is given.
        field = DEFAULT_NAMESPACE_FIELD.format(field="destination.namespaces")
        if problem := dns_problem(field, resource.name, "label"):
            c.add(problem)


def _static_ppr(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """PGV rules of a pipeline runtime plus upstream's StaticCheck."""
    c.text(spec, "project", "project", needed=True)
    c.text(spec, "pipelineSource", "pipelineSource", needed=True)
    c.text(spec, "account", "account")
    c.choice(spec, "isolation", "isolation", ISOLATIONS)
    pipelines = _ppr_pipelines(c, spec)
    sources = _ppr_event_sources(c, spec)
    _ppr_triggers(c, spec, pipelines, sources)
    _ppr_destination(c, spec, resource)
    _ppr_additional_resources(c, spec)
    _ppr_hooks_shape(c, spec)


def _ppr_pipelines(c: _Static, spec: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for field, pipeline in c.objects(spec, "pipelines", "pipelines", min_items=1):
        name = c.text(pipeline, "name", f"{field}.name", needed=True, dns="subdomain")
        c.text(pipeline, "path", f"{field}.path", needed=True)
        c.text(pipeline, "label", f"{field}.label")
        if name and name in names:
            c.add(PPR_PREFIX + PIPELINE_DUPLICATE.format(name=name))
        names.add(name)
    return names


def _ppr_event_sources(c: _Static, spec: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for field, source in c.objects(spec, "eventSources", "eventSources", min_items=1):
        name = c.text(source, "name", f"{field}.name", needed=True, dns="subdomain")
        if name and name in names:
            c.add(PPR_PREFIX + EVENT_SOURCE_DUPLICATE.format(name=name))
        names.add(name)
        gitlab = c.mapping(source, "gitlab", f"{field}.gitlab")
        if gitlab is not None:
            c.text(gitlab, "repoName", f"{field}.gitlab.repoName", needed=True)
            c.text(gitlab, "revision", f"{field}.gitlab.revision")
            c.strings(gitlab, "events", f"{field}.gitlab.events")
        calendar = c.mapping(source, "calendar", f"{field}.calendar")
        if calendar is not None:
            for key in ("schedule", "interval", "timezone"):
                c.text(calendar, key, f"{field}.calendar.{key}")
            c.strings(calendar, "exclusionDates", f"{field}.calendar.exclusionDates")
    return names


def _ppr_triggers(c: _Static, spec: dict[str, Any], pipelines: set[str], sources: set[str]) -> None:
    seen: set[tuple[str, str, str]] = set()
    for field, trigger in c.objects(spec, "pipelineTriggers", "pipelineTriggers", min_items=1):
        source = c.text(
            trigger, "eventSource", f"{field}.eventSource", needed=True, dns="subdomain"
        )
        pipeline = c.text(trigger, "pipeline", f"{field}.pipeline", needed=True, dns="subdomain")
        revision = c.text(trigger, "revision", f"{field}.revision")
        if source and source not in sources:
            c.add(PPR_PREFIX + TRIGGER_SOURCE_MISSING.format(name=source))
        if pipeline and pipeline not in pipelines:
            c.add(PPR_PREFIX + TRIGGER_PIPELINE_MISSING.format(name=pipeline))
        tag = (source, pipeline, revision)
        if source and pipeline and tag in seen:
            message = TRIGGER_DUPLICATE.format(source=source, pipeline=pipeline, revision=revision)
            c.add(PPR_PREFIX + message)
        seen.add(tag)
        for input_field, item in c.objects(trigger, "inputs", f"{field}.inputs"):
            _ppr_input(c, item, input_field)


def _ppr_input(c: _Static, item: dict[str, Any], field: str) -> None:
    """An input takes exactly one source and needs a transmission method."""
    source = c.mapping(item, "source", f"{field}.source") or {}
    built_in = c.text(source, "builtInVar", f"{field}.source.builtInVar")
    from_event = c.text(source, "fromEvent", f"{field}.source.fromEvent")
    # Empty strings count as unset (upstream's pointers cannot say "set but empty" from the API).
    if not built_in and not from_event:
        c.add(PPR_PREFIX + INPUT_SOURCE_EMPTY)
    elif built_in and from_event:
        c.add(PPR_PREFIX + INPUT_SOURCE_BOTH)
    field = f"{field}.transmissionMethod"
    method = c.mapping(item, "transmissionMethod", field)
    # Kustomization is the only transmission method, so an object without it names none.
    if item.get("transmissionMethod") is None or (
        method is not None and not method.get("kustomization")
    ):
        c.add(PPR_PREFIX + INPUT_TRANSMISSION_NIL)
    elif method is not None:
        kustomization = c.mapping(method, "kustomization", f"{field}.kustomization")
        if kustomization is not None:
            c.text(kustomization, "path", f"{field}.kustomization.path", needed=True)


def _ppr_destination(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    if spec.get("destination") is None:
        c.add(PPR_DESTINATION_MISSING)
    destination = c.mapping(spec, "destination", "destination")
    if destination is None:
        return
    c.text(destination, "environment", "destination.environment", needed=True)
    c.text(destination, "namespace", "destination.namespace", dns="label")
    if destination.get("namespace") in (None, ""):
        # Upstream runs the pipelines in a namespace named after the runtime when none is given.
        field = DEFAULT_NAMESPACE_FIELD.format(field="destination.namespace")
        if problem := dns_problem(field, resource.name, "label"):
            c.add(problem)


def _ppr_additional_resources(c: _Static, spec: dict[str, Any]) -> None:
    additional = c.mapping(spec, "additionalResources", "additionalResources") or {}
    git = c.mapping(additional, "git", "additionalResources.git")
    if git is None:
        return
    repo = c.text(git, "codeRepo", "additionalResources.git.codeRepo")
    url = c.text(git, "url", "additionalResources.git.url")
    if not repo and not url:
        c.add(PPR_PREFIX + ADDITIONAL_GIT_EMPTY)
    c.text(git, "revision", "additionalResources.git.revision", needed=True)
    c.text(git, "path", "additionalResources.git.path", needed=True)


def _ppr_hooks_shape(c: _Static, spec: dict[str, Any]) -> None:
    """Hook types only; duplicates and aliases are checked globally, as upstream does."""
    hooks = c.mapping(spec, "hooks", "hooks") or {}
    for phase in ("preHooks", "postHooks"):
        for field, hook in c.objects(hooks, phase, f"hooks.{phase}"):
            c.text(hook, "name", f"{field}.name", needed=True)
            c.text(hook, "alias", f"{field}.alias")
            c.string_map(hook, "vars", f"{field}.vars")


_STATIC: dict[str, Callable[[_Static, dict[str, Any], Resource], None]] = {
    "Environment": _static_environment,
    "Project": _static_project,
    "CodeRepo": _static_coderepo,
    "CodeRepoBinding": _static_binding,
    "DeploymentRuntime": _static_dr,
    "ProjectPipelineRuntime": _static_ppr,
}


def check_static(resource: Resource, state: ProductState) -> list[Problem]:
    """Check one resource on its own: name, field types, required fields, upstream StaticCheck,
    and the namespace ownership rule (`namespace_problems`)."""
    return _check_static(resource, state, namespaces=True)


def _check_static(resource: Resource, state: ProductState, *, namespaces: bool) -> list[Problem]:
    c = _Static()
    name = resource.name if isinstance(resource.name, str) else ""
    if problem := dns_problem("name", name, "subdomain"):
        c.add(problem)
    checker = _STATIC.get(resource.kind)
    if checker is None:
        c.add(UNKNOWN_KIND.format(kind=_show(resource.kind)))
    elif not isinstance(resource.spec, dict):
        c.wrong("spec", "an object")
    else:
        product = resource.spec.get("product")
        if resource.kind in KINDS_WITH_PRODUCT and product != state.product_id:
            actual = "" if product is None else _show(product)
            c.add(PRODUCT_MISMATCH.format(name=name, expected=state.product_id, actual=actual))
        checker(c, resource.spec, resource)
        if namespaces and not c.messages:
            c.messages += namespace_problems(resource, state)
    return [Problem(resource.kind, resource.name, m) for m in dict.fromkeys(c.messages)]


# ---- Global checks ---------------------------------------------------------------


def _ordered(state: ProductState) -> list[Resource]:
    """Every resource, by kind (upstream's apply order) and then name."""
    rank = {kind: index for index, kind in enumerate(KIND_ORDER)}
    return sorted(
        state.all_resources(), key=lambda r: (rank.get(r.kind, len(rank)), r.kind, str(r.name))
    )


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


def _binding_grants(binding: Resource, project: str) -> bool:
    """A binding with no projects grants the whole product; otherwise the listed ones."""
    projects = _spec(binding).get("projects")
    if projects is None or projects == []:
        return True
    # A malformed `projects` grants nothing (reading it as "empty" would grant everyone).
    return isinstance(projects, list) and project in projects


def permission_error(state: ProductState, project: str, repo: str) -> str | None:
    """Why `project` may not use code repo `repo` (upstream `hasCodeRepoPermission`), or None."""
    if _str(_spec(state.get("CodeRepo", repo)), "project") == project:
        return None
    for binding in state.of_kind("CodeRepoBinding").values():
        if _str(_spec(binding), "codeRepo") == repo and _binding_grants(binding, project):
            return None
    return NOT_PERMITTED.format(repo=repo)


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


def _env_cluster(env: Resource) -> str:
    return _str(_spec(env), "cluster")


def _global_environment(
    env: Resource, state: ProductState, clean: bool, peers: _Peers
) -> list[str]:
    """The cluster exists, and no other environment of the product uses it."""
    cluster = _env_cluster(env)
    if not cluster:
        return []
    messages = []
    if cluster not in state.clusters:
        messages.append(
            UNAVAILABLE.format(
                kind="Cluster", name=cluster, owner_kind=env.kind, owner=env.name, directory="envs"
            )
        )
    messages += [
        ENV_CLUSTER_SHARED.format(a=env.name, b=other.name)
        for other in peers.later(env, _env_cluster)
    ]
    return messages


def _global_coderepo(repo: Resource, state: ProductState, clean: bool, _: _Peers) -> list[str]:
    """The owning project, when set, exists."""
    spec = _spec(repo)
    project = _str(spec, "project")
    if not project or _exists(state, "Project", project):
        return []
    owner = _str(spec, "repoName") or repo.name  # upstream names the repository here
    directory = f"code-repos/{repo.name}"
    return [
        UNAVAILABLE.format(
            kind="Project", name=project, owner_kind=repo.kind, owner=owner, directory=directory
        )
    ]


def _global_binding(binding: Resource, state: ProductState, clean: bool, _: _Peers) -> list[str]:
    """The authorized repository and every listed project exist."""
    spec = _spec(binding)
    repo = _str(spec, "codeRepo")
    messages = []
    if repo and not _exists(state, "CodeRepo", repo):
        messages.append(BINDING_REPO_MISSING.format(repo=repo, binding=binding.name))
    messages += [
        BINDING_PROJECT_MISSING.format(project=project)
        for project in _strings(spec, "projects")
        if not _exists(state, "Project", project)
    ]
    return messages


def _dr_source(dr: Resource) -> tuple[str, str, str]:
    source = _dict(_spec(dr), "manifestSource")
    return _str(source, "codeRepo"), _str(source, "targetRevision"), _str(source, "path")


class _NotExist(str):
    """A message upstream sends with reason RESOURCE_NOT_EXIST instead of VALIDATOR."""

    __slots__ = ()


def _dr_target(dr: Resource) -> tuple[tuple[str, str, str], str]:
    """What a runtime deploys and where: two runtimes alike in both are duplicates."""
    return _dr_source(dr), _env_of(_spec(dr))


def _global_dr(dr: Resource, state: ProductState, clean: bool, peers: _Peers) -> list[str]:
    """References and duplicates, then upstream's `DeploymentRuntime.Validate`."""
    spec = _spec(dr)
    messages = [
        DR_PROJECT_MISSING.format(project=project, runtime=dr.name)
        for project in _strings(spec, "projectsRef")
        if not _exists(state, "Project", project)
    ]
    env = _env_of(spec)
    if env and not _exists(state, "Environment", env):
        messages.append(
            _NotExist(DR_UNAVAILABLE.format(name=env, kind="Environment", runtime=dr.name))
        )
    repo = _dr_source(dr)[0]
    if repo and not _exists(state, "CodeRepo", repo):
        messages.append(
            _NotExist(DR_REPO_UNAVAILABLE.format(name=repo, kind="CodeRepo", runtime=dr.name))
        )
    # Upstream's `Compare`. `Validate`'s "can not deploy same repo to the same destination" is
    # the same test over the same runtimes, so it can never add anything: it is not repeated.
    if env:
        messages += [
            DUPLICATE_REFERENCE.format(a=dr.name, b=other.name)
            for other in peers.later(dr, _dr_target)
        ]
    if clean and not messages:
        messages += [DR_PREFIX + m for m in _validate_dr(dr, state)]
    return messages


def _validate_dr(dr: Resource, state: ProductState) -> list[str]:
    """Upstream `DeploymentRuntime.Validate` (messages without their prefix)."""
    # Its component and "used by other product" rules are namespace ownership, checked with
    # the static rules (`namespace_problems`) whatever `insecure_skip_check` says.
    messages = []
    if problem := _cluster_problem(state, dr, "deployment"):
        messages.append(problem)
    repo = _dr_source(dr)[0]
    illegal = [
        DR_PROJECT_ILLEGAL.format(project=project, error=error)
        for project in _strings(_spec(dr), "projectsRef")
        if (error := permission_error(state, project, repo))
    ]
    if illegal:
        messages.append("; ".join(illegal))
    return messages


def _ppr_target(ppr: Resource) -> tuple[str, str, str]:
    """Source, environment and namespace: runtimes alike in these may share a pipeline path."""
    spec = _spec(ppr)
    destination = _dict(spec, "destination")
    return (
        _str(spec, "pipelineSource"),
        _str(destination, "environment"),
        _str(destination, "namespace"),
    )


def _global_ppr(ppr: Resource, state: ProductState, clean: bool, peers: _Peers) -> list[str]:
    """Pipeline paths, references, duplicates, hooks, then upstream's `Validate`."""
    spec = _spec(ppr)
    project = _str(spec, "project")
    messages = _duplicate_paths(ppr)
    repos = [_str(spec, "pipelineSource")]
    repos += [_str(_dict(source, "gitlab"), "repoName") for source in _list(spec, "eventSources")]
    # Upstream fails later on a missing additional repo ("returned 0 results"); name it here.
    repos.append(_additional_repo(spec))
    wanted = [("Project", project), ("Environment", _env_of(spec))]
    wanted += [("CodeRepo", repo) for repo in repos]
    messages += [
        UNAVAILABLE.format(
            kind=kind,
            name=name,
            owner_kind=ppr.kind,
            owner=ppr.name,
            directory=f"projects/{project}",
        )
        for kind, name in dict.fromkeys(wanted)
        if name and not _exists(state, kind, name)
    ]
    references_ok = not messages
    messages += [
        DUPLICATE_REFERENCE.format(a=ppr.name, b=other.name)
        for other in peers.later(ppr, _ppr_target)
        if _ppr_duplicates(ppr, other)
    ]
    messages += [PPR_PREFIX + HOOK_PREFIX + m for m in _hook_problems(_dict(spec, "hooks"))]
    if clean and references_ok:
        messages += [PPR_PREFIX + m for m in _validate_ppr(ppr, state)]
    return messages


def _additional_repo(spec: dict[str, Any]) -> str:
    return _str(_dict(_dict(spec, "additionalResources"), "git"), "codeRepo")


def _duplicate_paths(ppr: Resource) -> list[str]:
    """No two pipelines of one runtime may share a path (upstream reports the first pair)."""
    seen: dict[str, str] = {}
    for pipeline in _list(_spec(ppr), "pipelines"):
        path, name = _str(pipeline, "path"), _str(pipeline, "name")
        if path in seen:
            project = _str(_spec(ppr), "project")
            return [
                DUPLICATE_PIPELINE_PATH.format(
                    runtime=ppr.name, project=project, a=seen[path], b=name, path=_show(path)
                )
            ]
        if path:
            seen[path] = name
    return []


def _ppr_duplicates(a: Resource, b: Resource) -> bool:
    """Upstream `Compare`: same pipelineSource and destination, and a shared pipeline path."""
    spec_a, spec_b = _spec(a), _spec(b)
    source = _str(spec_a, "pipelineSource")
    if not source or source != _str(spec_b, "pipelineSource"):
        return False
    dest_a, dest_b = _dict(spec_a, "destination"), _dict(spec_b, "destination")
    if any(_str(dest_a, key) != _str(dest_b, key) for key in ("environment", "namespace")):
        return False
    paths_a = {_str(p, "path") for p in _list(spec_a, "pipelines")} - {""}
    return bool(paths_a & {_str(p, "path") for p in _list(spec_b, "pipelines")})


def _hook_problems(hooks: dict[str, Any]) -> list[str]:
    """Upstream `validateHooks` without the hooks catalogue (the portal has no metadata)."""
    messages = []
    aliases: set[str] = set()
    for phase in ("preHooks", "postHooks"):
        names: set[str] = set()  # a hook may run once per phase; aliases are unique overall
        for hook in _list(hooks, phase):
            name = _str(hook, "name")
            alias = _str(hook, "alias") or name  # an empty alias counts as none
            if not name:
                continue
            if name in names:
                messages.append(HOOK_DUPLICATE.format(name=name))
            elif alias in aliases:
                messages.append(HOOK_ALIAS_TAKEN.format(alias=alias))
            names.add(name)
            aliases.add(alias)
    return messages


def _validate_ppr(ppr: Resource, state: ProductState) -> list[str]:
    """Upstream `ProjectPipelineRuntime.Validate` after StaticCheck (messages unprefixed)."""
    spec = _spec(ppr)
    project = _str(spec, "project")
    cluster_name = _runtime_cluster(state, ppr)
    cluster_problem = _cluster_problem(state, ppr, "pipeline")
    messages = [cluster_problem] if cluster_problem else []
    if error := permission_error(state, project, _str(spec, "pipelineSource")):
        messages.append(error)
    extra = _additional_repo(spec)
    if extra and (error := permission_error(state, project, extra)):
        messages.append(PPR_ADDITIONAL_NOT_PERMITTED.format(repo=extra, error=error))
    namespace = _ppr_namespace(ppr)
    # Other products' runtimes are namespace ownership (`namespace_problems`); here only this
    # product's other runtimes count.
    used = _namespaces_in_use(state, cluster_name, ppr, foreign=False)
    if not cluster_problem and namespace in used:
        messages.append(PPR_NAMESPACE_TAKEN.format(namespace=namespace))
    illegal = [
        error
        for source in _list(spec, "eventSources")
        if (repo := _str(_dict(source, "gitlab"), "repoName"))
        and (error := permission_error(state, project, repo))
    ]
    if illegal:
        messages.append("; ".join(dict.fromkeys(illegal)))
    components = _dict(state.clusters.get(cluster_name), "componentsList")
    if not cluster_problem and not isinstance(components.get("pipeline"), dict):
        messages.append(PPR_NO_PIPELINE_COMPONENT)
    return messages


_GLOBAL: dict[str, Callable[[Resource, ProductState, bool, _Peers], list[str]]] = {
    "Environment": _global_environment,
    "CodeRepo": _global_coderepo,
    "CodeRepoBinding": _global_binding,
    "DeploymentRuntime": _global_dr,
    "ProjectPipelineRuntime": _global_ppr,
}


def _problem(resource: Resource, message: str) -> Problem:
    reason = RESOURCE_NOT_EXIST if isinstance(message, _NotExist) else VALIDATOR
    return Problem(resource.kind, resource.name, str(message), reason=reason)


def check_global(state: ProductState) -> list[Problem]:
    """Upstream's global validation: every resource of the product, against all the others.

    Per resource: its static problems, then its reference problems; the checks that need a
    sound resource (upstream's `Validate`) run only when both are clean.

    The namespace ownership rule is checked for the resources being saved or imported (those
    without an indexed `manifest`), not again for the ones already indexed: a runtime that
    breaks it (say, from Git) carries its problem in the index, and it must not block every
    other save of its product, nor may another product's later runtime block this one's.
    """
    problems: list[Problem] = []
    peers = _Peers(state)
    for resource in _ordered(state):
        static = _check_static(resource, state, namespaces=resource.manifest is None)
        problems += static
        checker = _GLOBAL.get(resource.kind)
        messages = checker(resource, state, not static, peers) if checker else []
        problems += [_problem(resource, m) for m in dict.fromkeys(messages)]
    return problems


# ---- Updates and deletes ---------------------------------------------------------


def _ppr_repos(spec: dict[str, Any]) -> set[str]:
    """Every code repo a pipeline runtime uses: pipelines, event sources, extra resources."""
    repos = {_str(spec, "pipelineSource"), _additional_repo(spec)}
    repos.update(_str(_dict(s, "gitlab"), "repoName") for s in _list(spec, "eventSources"))
    return repos - {""}


# Who can reference a kind: (referring kind, label in messages, does this spec reference name?).
_REFERENCES: dict[str, tuple[tuple[str, str, Callable[[dict[str, Any], str], bool]], ...]] = {
    "Environment": (
        ("DeploymentRuntime", "deploymentRuntime", lambda s, n: _env_of(s) == n),
        ("ProjectPipelineRuntime", "pipelineRuntime", lambda s, n: _env_of(s) == n),
    ),
    "Project": (
        ("CodeRepo", "codeRepo", lambda s, n: _str(s, "project") == n),
        ("CodeRepoBinding", "codeRepoBinding", lambda s, n: n in _strings(s, "projects")),
        ("DeploymentRuntime", "deploymentRuntime", lambda s, n: n in _strings(s, "projectsRef")),
        ("ProjectPipelineRuntime", "pipelineRuntime", lambda s, n: _str(s, "project") == n),
    ),
    "CodeRepo": (
        ("DeploymentRuntime", "deploymentRuntime", lambda s, n: _dr_repo(s) == n),
        ("ProjectPipelineRuntime", "pipelineRuntime", lambda s, n: n in _ppr_repos(s)),
        ("CodeRepoBinding", "codeRepoBinding", lambda s, n: _str(s, "codeRepo") == n),
    ),
}
_DELETE_NOUNS = {"Environment": "environment", "Project": "project", "CodeRepo": "coderepo"}


def _dr_repo(spec: dict[str, Any]) -> str:
    return _str(_dict(spec, "manifestSource"), "codeRepo")


def _referrers(kind: str, name: str, state: ProductState) -> list[str]:
    """`<kind>/<name>` of every resource that references the given one, in a stable order."""
    return [
        f"{label}/{other.name}"
        for of_kind, label, uses in _REFERENCES.get(kind, ())
        for other in sorted(state.of_kind(of_kind).values(), key=lambda r: str(r.name))
        if uses(_spec(other), name)
    ]


def check_update(kind: str, old: Resource, new: Resource, state: ProductState) -> list[Problem]:
    """Fields that may not change on an existing resource."""
    old_spec, new_spec = _spec(old), _spec(new)
    if kind == "CodeRepoBinding" and _str(old_spec, "codeRepo") != _str(new_spec, "codeRepo"):
        return [Problem(kind, new.name, BINDING_REPO_IMMUTABLE, reason=NOT_ALLOWED_MODIFY)]
    if kind == "ProjectPipelineRuntime" and _str(old_spec, "project") != _str(new_spec, "project"):
        return [Problem(kind, new.name, PPR_PROJECT_IMMUTABLE, reason=NOT_ALLOWED_MODIFY)]
    before, after = _str(old_spec, "cluster"), _str(new_spec, "cluster")
    if kind == "Environment" and before != after and (refs := _referrers(kind, new.name, state)):
        message = ENV_CLUSTER_LOCKED.format(
            env=new.name, old=before, new=after, referrers="|".join(refs)
        )
        return [Problem(kind, new.name, message, status=409, reason=RESOURCE_IN_USE)]
    return []


def delete_blockers(kind: str, name: str, state: ProductState) -> list[Problem]:
    """Resources that still reference the one to delete (bindings and runtimes have none)."""
    refs = _referrers(kind, name, state)
    if not refs:
        return []
    message = REFERENCED_BY.format(noun=_DELETE_NOUNS[kind], referrers="|".join(refs))
    return [Problem(kind, name, message, status=409, reason=RESOURCE_IN_USE)]
