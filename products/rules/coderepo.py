"""Code repositories and their bindings: static checks, global checks (the owning project and
the bound repository and projects exist), and which project may use which repository."""

from __future__ import annotations

from typing import Any

from products.rules.common import (
    PERMISSIONS,
    WEBHOOK_EVENTS,
    _exists,
    _Peers,
    _show,
    _spec,
    _str,
    _strings,
)
from products.rules.fields import _Static
from products.rules.messages import (
    BINDING_PROJECT_MISSING,
    BINDING_REPO_MISSING,
    INVALID_WEBHOOK,
    NOT_PERMITTED,
    UNAVAILABLE,
)
from products.state import ProductState, Resource


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
