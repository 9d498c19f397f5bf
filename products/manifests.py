"""Nautes manifests of `default.project`: file paths, documents ↔ index rows, YAML, kustomization.

This is the only module that knows the upstream layout (`reference/nautes.md` §5.2):

    envs/<env>.yaml                           Environment
    projects/<project>/<project>.yaml         Project
    projects/<project>/<ppr>.yaml             ProjectPipelineRuntime
    code-repos/repo-<pid>/repo-<pid>.yaml     CodeRepo
    code-repos/repo-<pid>/<binding>.yaml      CodeRepoBinding (bindings granting repo-<pid>)
    runtimes/<dr>.yaml                        DeploymentRuntime
    production/kustomization.yaml             generated: every file above
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from nautes_portal.yaml_io import ManifestError, dump_yaml, load_yaml

API_VERSION = "nautes.resource.nautes.io/v1alpha1"
KUSTOMIZATION_PATH = "production/kustomization.yaml"
LAYOUT_DIRS = ("envs", "projects", "code-repos", "runtimes", "artifact-repos")
KINDS = (
    "Environment",
    "Project",
    "CodeRepo",
    "CodeRepoBinding",
    "DeploymentRuntime",
    "ProjectPipelineRuntime",
)


# ---- Paths -----------------------------------------------------------------


def resource_path(kind: str, name: str, spec: dict[str, Any]) -> str:
    """Return where a resource of `kind` lives in `default.project`."""
    if kind == "Environment":
        return f"envs/{name}.yaml"
    if kind == "Project":
        return f"projects/{name}/{name}.yaml"
    if kind == "ProjectPipelineRuntime":
        return f"projects/{spec.get('project', '')}/{name}.yaml"
    if kind == "CodeRepo":
        return f"code-repos/{name}/{name}.yaml"
    if kind == "CodeRepoBinding":
        return f"code-repos/{spec.get('codeRepo', '')}/{name}.yaml"
    if kind == "DeploymentRuntime":
        return f"runtimes/{name}.yaml"
    raise ManifestError(f"unknown kind {kind}")


def kustomization(paths: Iterable[str]) -> bytes:
    """Render `production/kustomization.yaml` listing every resource file (upstream §5.1)."""
    document: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
    }
    resources = sorted(f"../{path}" for path in paths)
    if resources:
        document["resources"] = resources
    return dump_yaml(document)


def is_layout_path(path: str) -> bool:
    """Whether the API reads this file (upstream ignores other top-level entries, .md and .txt)."""
    top = path.split("/", 1)[0]
    return (
        top in LAYOUT_DIRS
        and "/" in path
        and not path.endswith((".md", ".txt"))
        and path.endswith((".yaml", ".yml"))
    )


def layout_problem(kind: str, name: str, path: str, spec: dict[str, Any]) -> str | None:
    """Return why `path` is the wrong place for this resource, or None (upstream's layout rule)."""
    parts = path.split("/")
    if kind == "Environment" and len(parts) == 2 and parts[0] == "envs":
        return None
    if kind in ("Project", "ProjectPipelineRuntime") and len(parts) == 3 and parts[0] == "projects":
        if kind == "Project" and parts[1] != name:
            return (
                "the resource directory name is inconsistent, "
                f"directory is {parts[1]}, but project name is {name}"
            )
        return None
    if kind in ("CodeRepo", "CodeRepoBinding") and len(parts) == 3 and parts[0] == "code-repos":
        if kind == "CodeRepo" and parts[1] != name:
            return (
                "the resource directory name is inconsistent, "
                f"directory is {parts[1]}, but code repo name is {name}"
            )
        return None
    if kind == "DeploymentRuntime" and len(parts) == 2 and parts[0] == "runtimes":
        return None
    return f"{path}: a {kind} is not allowed at this place of the product layout"


# ---- Documents ↔ index rows ---------------------------------------------------

# Spec keys the portal writes, per kind, with whether Go omits them when empty.
_MANAGED: dict[str, dict[str, bool]] = {
    "Environment": {"product": False, "cluster": False, "envType": False},
    "Project": {"product": False, "language": False},
    "CodeRepo": {
        "codeRepoProvider": False,
        "product": False,
        "project": False,
        "repoName": False,
        "url": True,
        "deploymentRuntime": False,
        "pipelineRuntime": False,
        "webhook": False,
    },
    "CodeRepoBinding": {
        "codeRepo": False,
        "product": False,
        "projects": True,
        "permissions": False,
    },
    "DeploymentRuntime": {
        "product": True,
        "projectsRef": True,
        "manifestSource": False,
        "destination": False,
        "account": True,
    },
    "ProjectPipelineRuntime": {
        "project": False,
        "pipelineSource": False,
        "pipelines": False,
        "destination": False,
        "eventSources": False,
        "isolation": False,
        "pipelineTriggers": False,
        "additionalResources": True,
        "hooks": True,
        "account": True,
    },
}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def build_document(
    kind: str, name: str, spec: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the manifest for `spec`, keeping what the previous document had beyond it."""
    document = copy.deepcopy(previous) if previous else {}
    document.pop("status", None)
    document["apiVersion"] = document.get("apiVersion") or API_VERSION
    document["kind"] = kind
    metadata = dict(document.get("metadata") or {})
    metadata["name"] = name
    # Upstream marshals ObjectMeta from Go, which always writes a null creationTimestamp.
    metadata.setdefault("creationTimestamp", None)
    document["metadata"] = metadata
    new_spec = dict(document.get("spec") or {})
    for key, omit_empty in _MANAGED[kind].items():
        value = spec.get(key)
        if omit_empty and _empty(value):
            new_spec.pop(key, None)
        else:
            new_spec[key] = value
    document["spec"] = new_spec
    return document


def _str(spec: dict[str, Any], key: str) -> str:
    value = spec.get(key)
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def index_fields(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Return the index columns of a resource of `kind` from its spec (tolerant of bad types)."""
    if kind == "Environment":
        return {"cluster": _str(spec, "cluster"), "env_type": _str(spec, "envType")}
    if kind == "Project":
        return {"language": _str(spec, "language")}
    if kind == "CodeRepo":
        webhook = spec.get("webhook")
        return {
            "repo_name": _str(spec, "repoName"),
            "project": _str(spec, "project"),
            "code_repo_provider": _str(spec, "codeRepoProvider"),
            "url": _str(spec, "url"),
            "deployment_runtime": spec.get("deploymentRuntime") is True,
            "pipeline_runtime": spec.get("pipelineRuntime") is True,
            "webhook_events": _list(webhook.get("events")) if isinstance(webhook, dict) else None,
        }
    if kind == "CodeRepoBinding":
        return {
            "code_repo": _str(spec, "codeRepo"),
            "projects": _list(spec.get("projects")),
            "permissions": _str(spec, "permissions"),
        }
    if kind == "DeploymentRuntime":
        source = _dict(spec.get("manifestSource"))
        destination = _dict(spec.get("destination"))
        return {
            "projects_ref": _list(spec.get("projectsRef")),
            "manifest_code_repo": _str(source, "codeRepo"),
            "manifest_target_revision": _str(source, "targetRevision"),
            "manifest_path": _str(source, "path"),
            "destination_environment": _str(destination, "environment"),
            "destination_namespaces": _list(destination.get("namespaces")),
            "account": _str(spec, "account"),
        }
    if kind == "ProjectPipelineRuntime":
        destination = _dict(spec.get("destination"))
        additional = spec.get("additionalResources")
        hooks = spec.get("hooks")
        return {
            "project": _str(spec, "project"),
            "pipeline_source": _str(spec, "pipelineSource"),
            "pipelines": _list(spec.get("pipelines")),
            "destination_environment": _str(destination, "environment"),
            "destination_namespace": _str(destination, "namespace"),
            "event_sources": _list(spec.get("eventSources")),
            "isolation": _str(spec, "isolation"),
            "pipeline_triggers": _list(spec.get("pipelineTriggers")),
            "additional_resources": additional if isinstance(additional, dict) else None,
            "hooks": hooks if isinstance(hooks, dict) else None,
            "account": _str(spec, "account"),
        }
    raise ManifestError(f"unknown kind {kind}")


@dataclass
class ParsedResource:
    """One resource file read from a repository."""

    kind: str
    name: str
    path: str
    document: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def spec(self) -> dict[str, Any]:
        return _dict(self.document.get("spec"))


@dataclass
class ParsedTree:
    """Every resource of a `default.project` tree, plus files that could not be read."""

    resources: list[ParsedResource]
    problems: list[dict[str, str]]


def parse_tree(files: dict[str, bytes]) -> ParsedTree:
    """Read the resources of a `default.project` tree; never raise for bad files."""
    resources: list[ParsedResource] = []
    problems: list[dict[str, str]] = []
    for path in sorted(files):
        if not is_layout_path(path):
            continue
        try:
            document = load_yaml(files[path], path)
        except ManifestError as exc:
            problems.append({"path": path, "message": str(exc)})
            continue
        kind = document.get("kind")
        name = _dict(document.get("metadata")).get("name")
        if kind not in KINDS:
            problems.append(
                {"path": path, "message": f"unable to generate resource node tree of type '{kind}'"}
            )
            continue
        if not isinstance(name, str) or not name:
            problems.append({"path": path, "message": f"{path}: metadata.name is missing"})
            continue
        resource = ParsedResource(kind=kind, name=name, path=path, document=document)
        if problem := column_problem(resource):
            problems.append({"path": path, "message": problem})
            continue
        if problem := layout_problem(kind, name, path, resource.spec):
            resource.problems.append(problem)
        resources.append(resource)
    _flag_duplicates(resources)
    return ParsedTree(resources=resources, problems=problems)


def column_problem(resource: ParsedResource) -> str | None:
    """Why the index cannot hold this resource (a value longer than its column), or None.

    A pushed file is bounded by its size only; its names and fields must also fit the index
    columns, or the product's whole import would fail on PostgreSQL.
    """
    from products.models import MODEL_BY_KIND  # the models import nothing of this module

    model = MODEL_BY_KIND[resource.kind]
    values = {"name": resource.name, "path": resource.path}
    values |= index_fields(resource.kind, resource.spec)
    for column, value in values.items():
        limit = getattr(model._meta.get_field(column), "max_length", None)
        if isinstance(value, str) and limit is not None and len(value) > limit:
            shown = "metadata.name" if column == "name" else column
            return f"{resource.path}: {shown} is longer than the limit of {limit} characters"
    return None


def _flag_duplicates(resources: list[ParsedResource]) -> None:
    """Upstream: the same kind and name twice is an error; the first file wins."""
    seen: dict[tuple[str, str], ParsedResource] = {}
    for resource in resources:
        key = (resource.kind, resource.name)
        if first := seen.get(key):
            resource.problems.append(
                "duplicate names are not allowed for resources, "
                f"duplicate files are {first.path} and {resource.path}"
            )
        else:
            seen[key] = resource
