"""The entry points: `check_static` (one resource), `check_global` (every resource against the
others, as upstream's global validation), `check_update` (fields that may not change) and
`delete_blockers` (references that forbid a delete). Each kind's rules live in its module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from products.rules.coderepo import (
    _global_binding,
    _global_coderepo,
    _static_binding,
    _static_coderepo,
)
from products.rules.common import (
    KIND_ORDER,
    KINDS_WITH_PRODUCT,
    NOT_ALLOWED_MODIFY,
    RESOURCE_IN_USE,
    RESOURCE_NOT_EXIST,
    VALIDATOR,
    Problem,
    _env_of,
    _NotExist,
    _Peers,
    _show,
    _spec,
    _str,
    _strings,
    dns_problem,
)
from products.rules.deployment import _dr_repo, _global_dr, _static_dr
from products.rules.environment import _global_environment, _static_environment, _static_project
from products.rules.fields import _Static
from products.rules.messages import (
    BINDING_REPO_IMMUTABLE,
    ENV_CLUSTER_LOCKED,
    PPR_PROJECT_IMMUTABLE,
    PRODUCT_MISMATCH,
    REFERENCED_BY,
    UNKNOWN_KIND,
)
from products.rules.namespaces import namespace_problems
from products.rules.pipeline import _global_ppr, _ppr_repos, _static_ppr
from products.state import ProductState, Resource

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


def _ordered(state: ProductState) -> list[Resource]:
    """Every resource, by kind (upstream's apply order) and then name."""
    rank = {kind: index for index, kind in enumerate(KIND_ORDER)}
    return sorted(
        state.all_resources(), key=lambda r: (rank.get(r.kind, len(rank)), r.kind, str(r.name))
    )


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
