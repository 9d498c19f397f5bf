"""Code repositories: a Git project plus its manifest `code-repos/repo-<pid>/`, then its
deploy keys, token and webhook (`products.repo_provisioning`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from nautes_portal.errors import NautesError, NotFound, RuleViolation
from nautes_portal.git_index import SaveOutcome
from nautes_portal.integrations.config_repo import GitHost
from nautes_portal.types import Actor
from products.adoption import (
    check_code_project,
    code_repo_pid,
    is_own_code_project,
    is_tenant_repository,
    is_verified_code_repo,
)
from products.indexing import product_state
from products.manifests import resource_path
from products.models import CodeRepo, Product
from products.services.base import PRODUCT_NAME, VISIBILITIES
from products.services.provision import _provision
from products.services.resources import _checked_state, _write, resource_delete
from products.state import ProductState, Resource


def coderepo_save(
    *,
    product: Product,
    repo_name: str,
    spec: dict[str, Any],
    git: dict[str, str],
    actor: Actor,
    host: GitHost,
    skip_check: bool = False,
) -> SaveOutcome:
    """Create or update a code repository: its Git project and `code-repos/repo-<pid>/`.

    Everything is validated before the project is created; a failed commit removes a project
    this call created, so a failed save leaves no orphan.
    """
    if repo_name == settings.NAUTES_DEFAULT_PROJECT:
        raise RuleViolation(f"'{repo_name}' is reserved for the product configuration repository")
    if not PRODUCT_NAME.match(repo_name):
        raise RuleViolation(
            f"code repository name '{repo_name}' is invalid: use at most 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit (RFC 1123 label)"
        )
    visibility = git.get("visibility") or "private"
    if visibility not in VISIBILITIES:
        raise RuleViolation(f"visibility must be one of {', '.join(VISIBILITIES)}")
    product.refresh_from_db(fields=["commit_sha"])
    state = product_state(product)
    existing_row = CodeRepo.objects.filter(product=product, repo_name=repo_name).first()
    project = host.get_project(product.name, repo_name)
    # Only this product's own indexed code repository is ever updated; nothing is adopted (#12).
    check_code_project(product=product, repo_name=repo_name, project=project)
    planned_name = (
        existing_row.name if existing_row else (f"repo-{project.id}" if project else "repo-0")
    )
    spec = {
        **spec,
        "repoName": repo_name,
        "codeRepoProvider": settings.NAUTES_CODE_REPO_PROVIDER,
        "product": product.resource_name,
    }

    def check(name: str) -> ProductState:
        new = Resource("CodeRepo", name, resource_path("CodeRepo", name, spec), spec)
        return _checked_state(state, new, old=state.get("CodeRepo", name), skip_check=skip_check)

    check(planned_name)  # everything is validated before the first side effect
    created = project is None
    # Create-only when none was there: one made since the lookup is refused (409), not adopted.
    project = (host.create_project if created else host.ensure_project)(
        namespace_path=product.name,
        path=repo_name,
        name=git.get("name") or repo_name,
        visibility=visibility,
        description=git.get("description", ""),
    )
    name = f"repo-{project.id}"
    try:
        after = check(name)
        new = after.get("CodeRepo", name)
        assert new is not None
        outcome = _write(
            product,
            host,
            "CodeRepo",
            name,
            new,
            state.get("CodeRepo", name),
            after,
            actor=actor,
            action="Save",
        )
    except NautesError:
        if created:
            host.delete_project(product.name, repo_name)
        raise
    CodeRepo.objects.filter(product=product, name=name).update(
        git_project_id=project.id,
        git_name=project.name,
        git_visibility=project.visibility,
        git_description=project.description,
        ssh_url=project.ssh_url,
        http_url=project.http_url,
    )
    events = (spec.get("webhook") or {}).get("events") or []
    warning = _provision(
        "products.repo_provisioning.CODEREPO_PROVISION",
        target=repo_name,
        product=product,
        actor=actor,
        params={
            "product": product.name,
            "repo_name": repo_name,
            "repo_id": name,
            "project_id": project.id,
            "webhook_events": list(events),
            "webhook_url": settings.NAUTES_CODEREPO_WEBHOOK_URL,
            "webhook_token_configured": bool(settings.GITLAB_WEBHOOK_SECRET),
        },
    )
    return SaveOutcome(
        commit_sha=outcome.commit_sha, path=outcome.path, created=outcome.created, warning=warning
    )


def coderepo_delete(
    *, product: Product, repo_name: str, actor: Actor, host: GitHost, skip_check: bool = False
) -> SaveOutcome:
    """Remove a code repository's manifest, then its Git project.

    The project is deleted only when it is the one the manifest names (`repo-<project id>`):
    a project at that path that is not this code repository's (the tenant repository, or a
    project that replaced it) is left in place and the reply says so (#12).
    """
    row = CodeRepo.objects.filter(product=product, repo_name=repo_name).first()
    if row is None:
        raise NotFound(
            f"CodeRepo resource {repo_name} not found or invalid. "
            "Please check whether the resource exists under the default project",
            reason="NODE_NOT_FOUND",
        )
    project = host.get_project(product.name, repo_name)
    foreign = project is not None and not is_own_code_project(product, repo_name, project)
    # Its keys and secrets are deleted only when Git confirms (now, or at the last save or
    # sync) that `repo-<id>` is this product's own project: the name alone may be another's.
    verified = (project is not None and not foreign) or is_verified_code_repo(
        row.name, row.git_project_id
    )
    outcome = resource_delete(
        product=product,
        kind="CodeRepo",
        name=row.name,
        actor=actor,
        host=host,
        skip_check=skip_check,
    )
    if foreign or is_tenant_repository(product.name, repo_name):
        return SaveOutcome(
            commit_sha=outcome.commit_sha,
            path=outcome.path,
            created=False,
            warning=(
                f"[warning] the Git project {product.name}/{repo_name} is not this code "
                "repository's project; only the manifest was removed, the project was kept"
            ),
        )
    if not host.manages_project_access:
        host.delete_project(product.name, repo_name)  # local backend: no keys or tokens
        return outcome
    if not verified:
        return SaveOutcome(
            commit_sha=outcome.commit_sha,
            path=outcome.path,
            created=False,
            warning=(
                f"[warning] {row.name} is not verified as the Git project "
                f"{product.name}/{repo_name}; only the manifest was removed, no deploy key or "
                "secret was touched"
            ),
        )
    warning = _provision(
        "products.repo_provisioning.CODEREPO_DEPROVISION",
        target=repo_name,
        product=product,
        actor=actor,
        params={
            "product": product.name,
            "repo_name": repo_name,
            "repo_id": row.name,
            "project_id": code_repo_pid(row.name),
        },
    )
    return SaveOutcome(
        commit_sha=outcome.commit_sha, path=outcome.path, created=False, warning=warning
    )
