"""Deployment runtimes: the static check, the global check (references and duplicates), and
upstream's `DeploymentRuntime.Validate`."""

from __future__ import annotations

from typing import Any

from products.rules.coderepo import permission_error
from products.rules.common import (
    _cluster_problem,
    _dict,
    _env_of,
    _exists,
    _NotExist,
    _Peers,
    _spec,
    _str,
    _strings,
    dns_problem,
)
from products.rules.fields import _Static
from products.rules.messages import (
    DEFAULT_NAMESPACE_FIELD,
    DR_DESTINATION_MISSING,
    DR_PREFIX,
    DR_PROJECT_ILLEGAL,
    DR_PROJECT_MISSING,
    DR_REPO_UNAVAILABLE,
    DR_UNAVAILABLE,
    DUPLICATE_REFERENCE,
)
from products.state import ProductState, Resource


def _static_dr(c: _Static, spec: dict[str, Any], resource: Resource) -> None:
    """PGV manifest_source rules, plus a required destination (upstream panics without one)."""
    c.strings(spec, "projectsRef", "projectsRef")
    c.text(spec, "account", "account")
    source = c.mapping(spec, "manifestSource", "manifestSource", needed=True)
    if source is not None:
        for key in ("codeRepo", "targetRevision", "path"):
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


def _dr_source(dr: Resource) -> tuple[str, str, str]:
    source = _dict(_spec(dr), "manifestSource")
    return _str(source, "codeRepo"), _str(source, "targetRevision"), _str(source, "path")


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


def _dr_repo(spec: dict[str, Any]) -> str:
    return _str(_dict(spec, "manifestSource"), "codeRepo")
