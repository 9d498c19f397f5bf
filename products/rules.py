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
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

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
ENV_CLUSTER_SHARED = (
    "duplicate reference cluster resources sbetween resource {a} and resource {b}"
)
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
PPR_ADDITIONAL_NOT_PERMITTED = "pipeline can not use code repo {repo} in additional resource: {error}"
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


def _spec(resource: Resource) -> dict[str, Any]:
    return resource.spec if isinstance(resource.spec, dict) else {}


# ---- Static checks -------------------------------------------------------------


class _Static:
    """Reads one spec with the expected types, recording every deviation as a message."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def text(
        self, data: dict[str, Any], key: str, field: str, *, needed: bool = False, dns: str = ""
    ) -> str:
        """A string field ("" when absent or wrong); `dns` is "subdomain" or "label"."""
        value = data.get(key)
        if value is None or value == "":
            if needed:
                self.add(required(field))
            return ""
        if not isinstance(value, str):
            self.add(wrong_type(field, "a string"))
            return ""
        if problem := dns_problem(field, value, dns):
            self.add(problem)
        return value

    def choice(self, data: dict[str, Any], key: str, field: str, allowed: tuple[str, ...]) -> str:
        """An enum field; absent or empty is not one of the allowed values either."""
        raw = data.get(key)
        if raw is not None and not isinstance(raw, str):
            self.add(wrong_type(field, "a string"))
            return ""
        value = raw or ""
        if value not in allowed:
            self.add(not_one_of(field, value, allowed))
        return value

    def mapping(
        self, data: dict[str, Any], key: str, field: str, *, needed: bool = False
    ) -> dict[str, Any] | None:
        """An object field; None when absent (reported when needed) or of the wrong type."""
        value = data.get(key)
        if value is None:
            if needed:
                self.add(required(field))
            return None
        if not isinstance(value, dict):
            self.add(wrong_type(field, "an object"))
            return None
        return value

    def items(self, data: dict[str, Any], key: str, field: str, *, min_items: int = 0) -> list[Any]:
        """A list field ([] when absent or wrong), with upstream's min_items rule."""
        value = data.get(key)
        if value is None:
            value = []
        elif not isinstance(value, list):
            self.add(wrong_type(field, "a list"))
            return []
        if len(value) < min_items:
            self.add(f"{field} must have at least {min_items} item(s)")
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
                self.add(wrong_type(f"{field}[{index}]", "an object"))
        return result

    def strings(self, data: dict[str, Any], key: str, field: str, *, dns: str = "") -> list[str]:
        """A list of non-empty strings (the valid ones are returned)."""
        result = []
        for index, item in enumerate(self.items(data, key, field)):
            path = f"{field}[{index}]"
            if not isinstance(item, str):
                self.add(wrong_type(path, "a string"))
            elif item == "":
                self.add(f"{path} must not be empty")
            elif problem := dns_problem(path, item, dns):
                self.add(problem)
            else:
                result.append(item)
        return result

    def flag(self, data: dict[str, Any], key: str, field: str) -> None:
        if data.get(key) is not None and not isinstance(data.get(key), bool):
            self.add(wrong_type(field, "true or false"))

    def string_map(self, data: dict[str, Any], key: str, field: str) -> None:
        value = self.mapping(data, key, field)
        if value and not all(isinstance(v, str) for v in value.values()):
            self.add(wrong_type(field, "a map of strings"))


def is_subdomain(value: str) -> bool:
    """Whether `value` is a DNS-1123 subdomain (Kubernetes object names)."""
    return len(value) <= SUBDOMAIN_MAX_LENGTH and bool(DNS1123_SUBDOMAIN.match(value))


def is_label(value: str) -> bool:
    """Whether `value` is a DNS-1123 label (Kubernetes namespaces)."""
    return len(value) <= LABEL_MAX_LENGTH and bool(DNS1123_LABEL.match(value))


def dns_problem(field: str, value: str, dns: str) -> str | None:
    """The message for a value breaking the DNS-1123 rule `dns` ("subdomain", "label" or "")."""
    if dns == "subdomain" and not is_subdomain(value):
        return invalid_subdomain(field, value)
    if dns == "label" and not is_label(value):
        return invalid_label(field, value)
    return None


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
    webhook = c.mapping(spec, "webhook", "webhook")
    if webhook is not None:
        for index, event in enumerate(c.items(webhook, "events", "webhook.events")):
            if not isinstance(event, str):
                c.add(wrong_type(f"webhook.events[{index}]", "a string"))
            elif event and event not in WEBHOOK_EVENTS:  # upstream skips empty entries
                c.add(invalid_webhook(event))


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
    if source is not None:
        for key in ("codeRepo", "targetRevision", "path"):
            c.text(source, key, f"manifestSource.{key}", needed=True)
    if spec.get("destination") is None:
        c.add(DESTINATION_MISSING)
        return
    destination = c.mapping(spec, "destination", "destination")
    if destination is not None:
        c.text(destination, "environment", "destination.environment", needed=True)
        c.strings(destination, "namespaces", "destination.namespaces", dns="label")
        if destination.get("namespaces") in (None, []) and not is_label(resource.name):
            # Upstream deploys into a namespace named after the runtime when none is given.
            c.add(
                invalid_label("destination.namespaces (default: the runtime name)", resource.name)
            )


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
        if name in names:
            c.add(f"{PPR_PREFIX}pipeline {name} is duplicate")
        names.add(name)
    return names


def _ppr_event_sources(c: _Static, spec: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for field, source in c.objects(spec, "eventSources", "eventSources", min_items=1):
        name = c.text(source, "name", f"{field}.name", needed=True, dns="subdomain")
        if name in names:
            c.add(f"{PPR_PREFIX}event source {name} is duplicate")
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
            c.add(f"{PPR_PREFIX}found non-existent event source {source} in trigger")
        if pipeline and pipeline not in pipelines:
            c.add(f"{PPR_PREFIX}found non-existent pipeline {pipeline} in trigger")
        tag = (source, pipeline, revision)
        if source and pipeline and tag in seen:
            c.add(
                f"{PPR_PREFIX}trigger is duplicate, event source {source}, "
                f"pipeline {pipeline}, trigger {revision}"
            )
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
        c.add(f"{PPR_PREFIX}{INPUT_SOURCE_EMPTY}")
    elif built_in and from_event:
        c.add(f"{PPR_PREFIX}{INPUT_SOURCE_BOTH}")
    field = f"{field}.transmissionMethod"
    method = c.mapping(item, "transmissionMethod", field)
    # Kustomization is the only transmission method, so an object without it names none.
    if item.get("transmissionMethod") is None or (
        method is not None and not method.get("kustomization")
    ):
        c.add(f"{PPR_PREFIX}{INPUT_TRANSMISSION_NIL}")
        return
    kustomization = c.mapping(method or {}, "kustomization", f"{field}.kustomization")
    if kustomization is not None:
        c.text(kustomization, "path", f"{field}.kustomization.path", needed=True)


def _ppr_destination(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    if spec.get("destination") is None:
        c.add(PPR_DESTINATION_MISSING)
        return
    destination = c.mapping(spec, "destination", "destination")
    if destination is None:
        return
    c.text(destination, "environment", "destination.environment", needed=True)
    namespace = c.text(destination, "namespace", "destination.namespace", dns="label")
    if not namespace and destination.get("namespace") in (None, "") and not is_label(resource.name):
        # Upstream runs the pipelines in a namespace named after the runtime when none is given.
        c.add(invalid_label("destination.namespace (default: the runtime name)", resource.name))


def _ppr_additional_resources(c: _Static, spec: dict[str, Any]) -> None:
    additional = c.mapping(spec, "additionalResources", "additionalResources")
    git = c.mapping(additional, "git", "additionalResources.git") if additional else None
    if git is None:
        return
    repo = c.text(git, "codeRepo", "additionalResources.git.codeRepo")
    url = c.text(git, "url", "additionalResources.git.url")
    if not repo and not url:
        c.add(f"{PPR_PREFIX}{ADDITIONAL_GIT_EMPTY}")
    c.text(git, "revision", "additionalResources.git.revision", needed=True)
    c.text(git, "path", "additionalResources.git.path", needed=True)


def _ppr_hooks_shape(c: _Static, spec: dict[str, Any]) -> None:
    """Hook types only; duplicates and aliases are checked globally, as upstream does."""
    hooks = c.mapping(spec, "hooks", "hooks")
    if hooks is None:
        return
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
    """Check one resource on its own: name, field types, required fields, upstream StaticCheck."""
    c = _Static()
    if not isinstance(resource.name, str) or not is_subdomain(resource.name):
        c.add(invalid_subdomain("name", str(resource.name)))
    checker = _STATIC.get(resource.kind)
    if checker is None:
        c.add(f"unknown kind {_show(resource.kind)}")
    elif not isinstance(resource.spec, dict):
        c.add(wrong_type("spec", "an object"))
    else:
        if resource.kind in KINDS_WITH_PRODUCT:
            product = resource.spec.get("product")
            if product != state.product_id:
                actual = "" if product is None else _show(product)
                c.add(product_mismatch(resource.name, state.product_id, actual))
        checker(c, resource.spec, resource)
    return [Problem(resource.kind, resource.name, m) for m in dict.fromkeys(c.messages)]


# ---- Global checks ---------------------------------------------------------------


def _ordered(state: ProductState) -> list[Resource]:
    """Every resource, by kind (upstream's apply order) and then name."""
    rank = {kind: index for index, kind in enumerate(KIND_ORDER)}
    return sorted(
        state.all_resources(),
        key=lambda r: (rank.get(r.kind, len(rank)), r.kind, str(r.name)),
    )


def _others(state: ProductState, resource: Resource) -> list[Resource]:
    """Resources of the same kind named after `resource`, so each pair is reported once."""
    return sorted(
        (r for r in state.of_kind(resource.kind).values() if str(r.name) > str(resource.name)),
        key=lambda r: str(r.name),
    )


def _exists(state: ProductState, kind: str, name: str) -> bool:
    return state.get(kind, name) is not None


def _runtime_env(resource: Resource) -> str:
    return _str(_dict(_spec(resource), "destination"), "environment")


def _runtime_cluster(state: ProductState, resource: Resource) -> str:
    """The cluster a runtime deploys to: its destination environment's `spec.cluster`."""
    env = state.get("Environment", _runtime_env(resource))
    return _str(_spec(env), "cluster") if env else ""


def _dr_namespaces(resource: Resource) -> list[str]:
    """The namespaces a deployment runtime uses (its name when none are given)."""
    return _strings(_dict(_spec(resource), "destination"), "namespaces") or [resource.name]


def _ppr_namespace(resource: Resource) -> str:
    """The namespace a pipeline runtime uses (its name when none is given)."""
    return _str(_dict(_spec(resource), "destination"), "namespace") or resource.name


def _component_namespaces(cluster: dict[str, Any]) -> set[str]:
    components = _dict(cluster, "componentsList")
    return {_str(c, "namespace") for c in components.values() if _str(c, "namespace")}


def _binding_grants(binding: Resource, project: str) -> bool:
    """A binding with no projects grants the whole product; otherwise the listed ones."""
    projects = _spec(binding).get("projects")
    if projects is None or projects == []:
        return True
    # A malformed `projects` grants nothing (reading it as "empty" would grant everyone).
    return isinstance(projects, list) and project in projects


def permission_error(state: ProductState, project: str, repo: str) -> str | None:
    """Why `project` may not use code repo `repo` (upstream `hasCodeRepoPermission`), or None."""
    code_repo = state.get("CodeRepo", repo)
    if code_repo is not None and _str(_spec(code_repo), "project") == project:
        return None
    for binding in state.of_kind("CodeRepoBinding").values():
        if _str(_spec(binding), "codeRepo") == repo and _binding_grants(binding, project):
            return None
    return not_permitted(repo)


def _namespaces_in_use(
    state: ProductState, cluster: str, exclude: Resource, *, own_product: bool
) -> set[str]:
    """Namespaces other runtimes use on `cluster`: other products', and this one's if asked."""
    used: set[str] = set()
    for runtime in state.foreign_runtimes:
        if runtime.cluster == cluster and runtime.product_id != state.product_id:
            used.update(runtime.namespaces)
    if own_product:
        for kind in ("DeploymentRuntime", "ProjectPipelineRuntime"):
            for runtime in state.of_kind(kind).values():
                itself = (runtime.kind, runtime.name) == (exclude.kind, exclude.name)
                if itself or _runtime_cluster(state, runtime) != cluster:
                    continue
                if kind == "DeploymentRuntime":
                    used.update(_dr_namespaces(runtime))
                else:
                    used.add(_ppr_namespace(runtime))
    return used


def _global_environment(env: Resource, state: ProductState, clean: bool) -> list[Problem]:
    """The cluster exists, and no other environment of the product uses it."""
    problems = []
    cluster = _str(_spec(env), "cluster")
    if cluster and cluster not in state.clusters:
        problems.append(
            Problem(
                env.kind, env.name, unavailable("Cluster", cluster, "Environment", env.name, "envs")
            )
        )
    for other in _others(state, env):
        if cluster and _str(_spec(other), "cluster") == cluster:
            problems.append(Problem(env.kind, env.name, env_cluster_shared(env.name, other.name)))
    return problems


def _global_project(project: Resource, state: ProductState, clean: bool) -> list[Problem]:
    return []


def _global_coderepo(repo: Resource, state: ProductState, clean: bool) -> list[Problem]:
    """The owning project, when set, exists."""
    spec = _spec(repo)
    project = _str(spec, "project")
    if not project or _exists(state, "Project", project):
        return []
    shown = _str(spec, "repoName") or repo.name
    message = unavailable("Project", project, "CodeRepo", shown, f"code-repos/{repo.name}")
    return [Problem(repo.kind, repo.name, message)]


def _global_binding(binding: Resource, state: ProductState, clean: bool) -> list[Problem]:
    """The authorized repository and every listed project exist."""
    spec = _spec(binding)
    messages = []
    repo = _str(spec, "codeRepo")
    if repo and not _exists(state, "CodeRepo", repo):
        messages.append(binding_repo_missing(repo, binding.name))
    for project in _strings(spec, "projects"):
        if not _exists(state, "Project", project):
            messages.append(binding_project_missing(project))
    return [Problem(binding.kind, binding.name, m) for m in messages]


def _global_dr(dr: Resource, state: ProductState, clean: bool) -> list[Problem]:
    """References, duplicates, then upstream's `DeploymentRuntime.Validate`."""
    spec = _spec(dr)
    problems = [
        Problem(dr.kind, dr.name, dr_project_missing(project, dr.name))
        for project in _strings(spec, "projectsRef")
        if not _exists(state, "Project", project)
    ]
    env = _runtime_env(dr)
    if env and not _exists(state, "Environment", env):
        problems.append(
            Problem(
                dr.kind,
                dr.name,
                dr_unavailable(env, "Environment", dr.name),
                reason=RESOURCE_NOT_EXIST,
            )
        )
    repo = _str(_dict(spec, "manifestSource"), "codeRepo")
    if repo and not _exists(state, "CodeRepo", repo):
        message = dr_unavailable(repo, "CodeRepo", dr.name, f"failed to get codeRepo {repo}")
        problems.append(Problem(dr.kind, dr.name, message, reason=RESOURCE_NOT_EXIST))
    source = _dr_source(dr)
    for other in _others(state, dr):
        # Upstream's `Compare`, which `Validate`'s "can not deploy same repo to the same
        # destination" repeats: within one product both fire for the same pair, so one is enough.
        if env and _dr_source(other) == source and _runtime_env(other) == env:
            problems.append(Problem(dr.kind, dr.name, duplicate_reference(dr.name, other.name)))
    if clean and not problems:
        problems += [Problem(dr.kind, dr.name, DR_PREFIX + m) for m in _validate_dr(dr, state)]
    return problems


def _dr_source(dr: Resource) -> tuple[str, str, str]:
    source = _dict(_spec(dr), "manifestSource")
    return _str(source, "codeRepo"), _str(source, "targetRevision"), _str(source, "path")


def _validate_dr(dr: Resource, state: ProductState) -> list[str]:
    """Upstream `DeploymentRuntime.Validate` (messages without their prefix)."""
    messages = []
    cluster_name = _runtime_cluster(state, dr)
    cluster = state.clusters.get(cluster_name)
    namespaces = _dr_namespaces(dr)
    if not isinstance(cluster, dict):
        messages.append(f"get cluster by runtime failed: cluster {cluster_name} does not exist")
    elif _str(cluster, "usage") != "worker" or _str(cluster, "workerType") != "deployment":
        messages.append(DR_NOT_DEPLOYMENT_CLUSTER)
    else:
        components = _component_namespaces(cluster)
        messages += [
            f"deployment runtime can not use component namespace {ns}"
            for ns in namespaces
            if ns in components
        ]
        used = _namespaces_in_use(state, cluster_name, dr, own_product=False)
        taken = [ns for ns in dict.fromkeys(namespaces) if ns in used]
        if taken:
            messages.append(f"namespaces [{'|'.join(taken)}] is used by other product")
    repo = _dr_source(dr)[0]
    illegal = [
        f"project {project} is illegal: {error}"
        for project in _strings(_spec(dr), "projectsRef")
        if (error := permission_error(state, project, repo))
    ]
    if illegal:
        messages.append("; ".join(illegal))
    return messages


def _global_ppr(ppr: Resource, state: ProductState, clean: bool) -> list[Problem]:
    """Pipeline paths, references, duplicates, hooks, then upstream's `Validate`."""
    spec = _spec(ppr)
    project = _str(spec, "project")
    messages = _duplicate_paths(ppr)
    directory = f"projects/{project}"

    def missing(kind: str, name: str) -> None:
        if name and not _exists(state, kind, name):
            messages.append(unavailable(kind, name, ppr.kind, ppr.name, directory))

    missing("Project", project)
    missing("Environment", _runtime_env(ppr))
    missing("CodeRepo", _str(spec, "pipelineSource"))
    for source in _list(spec, "eventSources"):
        missing("CodeRepo", _str(_dict(source, "gitlab"), "repoName"))
    # Upstream would fail on it later ("returned 0 results"); the portal names it instead.
    missing("CodeRepo", _str(_dict(_dict(spec, "additionalResources"), "git"), "codeRepo"))
    references_ok = not messages
    for other in _others(state, ppr):
        if _ppr_duplicates(ppr, other):
            messages.append(duplicate_reference(ppr.name, other.name))
    messages += [PPR_PREFIX + HOOK_PREFIX + m for m in _hook_problems(_dict(spec, "hooks"))]
    if clean and references_ok:
        messages += [PPR_PREFIX + m for m in _validate_ppr(ppr, state)]
    return [Problem(ppr.kind, ppr.name, m) for m in dict.fromkeys(messages)]


def _duplicate_paths(ppr: Resource) -> list[str]:
    """No two pipelines of one runtime may share a path (upstream reports the first pair)."""
    seen: dict[str, str] = {}
    for pipeline in _list(_spec(ppr), "pipelines"):
        path, name = _str(pipeline, "path"), _str(pipeline, "name")
        if path and path in seen:
            project = _str(_spec(ppr), "project")
            return [duplicate_pipeline_path(ppr.name, project, seen[path], name, path)]
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
    if (_str(dest_a, "environment"), _str(dest_a, "namespace")) != (
        _str(dest_b, "environment"),
        _str(dest_b, "namespace"),
    ):
        return False
    paths_a = {_str(p, "path") for p in _list(spec_a, "pipelines")} - {""}
    return bool(paths_a & {_str(p, "path") for p in _list(spec_b, "pipelines")})


def _hook_problems(hooks: dict[str, Any]) -> list[str]:
    """Upstream `validateHooks` without the hooks catalogue (the portal has no metadata)."""
    messages = []
    aliases: set[str] = set()
    for phase in ("preHooks", "postHooks"):
        names: set[str] = set()  # duplicates count per phase, aliases across both
        for hook in _list(hooks, phase):
            name = _str(hook, "name")
            if not name:
                continue
            alias = _str(hook, "alias") or name  # an empty alias counts as none
            if name in names:
                messages.append(f"a duplicate hook {name} was found")
            elif alias in aliases:
                messages.append(f"hook alias {alias} is used by other hook")
            names.add(name)
            aliases.add(alias)
    return messages


def _validate_ppr(ppr: Resource, state: ProductState) -> list[str]:
    """Upstream `ProjectPipelineRuntime.Validate` after StaticCheck (messages unprefixed)."""
    spec = _spec(ppr)
    project = _str(spec, "project")
    messages = []
    cluster_name = _runtime_cluster(state, ppr)
    cluster = state.clusters.get(cluster_name)
    cluster_ok = False
    if not isinstance(cluster, dict):
        messages.append(f"get cluster by runtime failed: cluster {cluster_name} does not exist")
    elif _str(cluster, "usage") != "worker" or _str(cluster, "workerType") != "pipeline":
        messages.append(PPR_NOT_PIPELINE_CLUSTER)
    else:
        cluster_ok = True
    if error := permission_error(state, project, _str(spec, "pipelineSource")):
        messages.append(error)
    extra = _str(_dict(_dict(spec, "additionalResources"), "git"), "codeRepo")
    if extra and (error := permission_error(state, project, extra)):
        messages.append(f"pipeline can not use code repo {extra} in additional resource: {error}")
    if cluster_ok:
        namespace = _ppr_namespace(ppr)
        if namespace in _namespaces_in_use(state, cluster_name, ppr, own_product=True):
            messages.append(f"namespace {namespace} is used by other runtime")
    illegal = [
        error
        for source in _list(spec, "eventSources")
        if (repo := _str(_dict(source, "gitlab"), "repoName"))
        and (error := permission_error(state, project, repo))
    ]
    if illegal:
        messages.append("; ".join(dict.fromkeys(illegal)))
    if cluster_ok and not isinstance(_dict(cluster, "componentsList").get("pipeline"), dict):
        messages.append(PPR_NO_PIPELINE_COMPONENT)
    return messages


_GLOBAL: dict[str, Callable[[Resource, ProductState, bool], list[Problem]]] = {
    "Environment": _global_environment,
    "Project": _global_project,
    "CodeRepo": _global_coderepo,
    "CodeRepoBinding": _global_binding,
    "DeploymentRuntime": _global_dr,
    "ProjectPipelineRuntime": _global_ppr,
}


def check_global(state: ProductState) -> list[Problem]:
    """Upstream's global validation: every resource of the product, against all the others.

    Each resource's static problems come first, then its reference problems; the checks that
    need a sound resource (upstream's `Validate`) run only when both are clean.
    """
    problems: list[Problem] = []
    for resource in _ordered(state):
        static = check_static(resource, state)
        problems += static
        checker = _GLOBAL.get(resource.kind)
        if checker is not None:
            problems += checker(resource, state, not static)
    return problems


# ---- Updates and deletes ---------------------------------------------------------


def _referrers(kind: str, name: str, state: ProductState) -> list[str]:
    """`<kind>/<name>` of every resource that references the given one, in a stable order."""
    refs: list[str] = []

    def scan(of_kind: str, label: str, uses: Callable[[dict[str, Any]], bool]) -> None:
        for resource in sorted(state.of_kind(of_kind).values(), key=lambda r: str(r.name)):
            if uses(_spec(resource)):
                refs.append(f"{label}/{resource.name}")

    if kind == "Environment":
        scan("DeploymentRuntime", "deploymentRuntime", lambda s: _env_of(s) == name)
        scan("ProjectPipelineRuntime", "pipelineRuntime", lambda s: _env_of(s) == name)
    elif kind == "Project":
        scan("CodeRepo", "codeRepo", lambda s: _str(s, "project") == name)
        scan("CodeRepoBinding", "codeRepoBinding", lambda s: name in _strings(s, "projects"))
        scan("DeploymentRuntime", "deploymentRuntime", lambda s: name in _strings(s, "projectsRef"))
        scan("ProjectPipelineRuntime", "pipelineRuntime", lambda s: _str(s, "project") == name)
    elif kind == "CodeRepo":
        scan("CodeRepoBinding", "codeRepoBinding", lambda s: _str(s, "codeRepo") == name)
        scan(
            "DeploymentRuntime",
            "deploymentRuntime",
            lambda s: _str(_dict(s, "manifestSource"), "codeRepo") == name,
        )
        scan("ProjectPipelineRuntime", "pipelineRuntime", lambda s: name in _ppr_repos(s))
    return refs


def _env_of(spec: dict[str, Any]) -> str:
    return _str(_dict(spec, "destination"), "environment")


def _ppr_repos(spec: dict[str, Any]) -> set[str]:
    """Every code repo a pipeline runtime uses: pipelines, event sources, extra resources."""
    repos = {_str(spec, "pipelineSource")}
    repos.update(_str(_dict(s, "gitlab"), "repoName") for s in _list(spec, "eventSources"))
    repos.add(_str(_dict(_dict(spec, "additionalResources"), "git"), "codeRepo"))
    return repos - {""}


def check_update(kind: str, old: Resource, new: Resource, state: ProductState) -> list[Problem]:
    """Fields that may not change on an existing resource."""
    old_spec, new_spec = _spec(old), _spec(new)
    if kind == "CodeRepoBinding" and _str(old_spec, "codeRepo") != _str(new_spec, "codeRepo"):
        return [Problem(kind, new.name, BINDING_REPO_IMMUTABLE, reason=NOT_ALLOWED_MODIFY)]
    if kind == "ProjectPipelineRuntime" and _str(old_spec, "project") != _str(new_spec, "project"):
        return [Problem(kind, new.name, PPR_PROJECT_IMMUTABLE, reason=NOT_ALLOWED_MODIFY)]
    if kind == "Environment":
        before, after = _str(old_spec, "cluster"), _str(new_spec, "cluster")
        refs = _referrers(kind, new.name, state) if before != after else []
        if refs:
            message = env_cluster_locked(new.name, before, after, refs)
            return [Problem(kind, new.name, message, status=409, reason=RESOURCE_IN_USE)]
    return []


_DELETE_NOUNS = {"Environment": "environment", "Project": "project", "CodeRepo": "coderepo"}


def delete_blockers(kind: str, name: str, state: ProductState) -> list[Problem]:
    """Resources that still reference the one to delete (bindings and runtimes have none)."""
    noun = _DELETE_NOUNS.get(kind)
    refs = _referrers(kind, name, state) if noun else []
    if not refs or noun is None:
        return []
    return [Problem(kind, name, referenced_by(noun, refs), status=409, reason=RESOURCE_IN_USE)]
