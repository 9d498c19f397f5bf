"""Applying `refreshAuthorization` (§5.6): read the index, plan, enable and remove deploy
keys in GitLab; the steps that run it for a product or after a code repository change.
"""

from __future__ import annotations

from collections.abc import Iterable

from nautes_portal.errors import NotFound, PermissionDenied
from nautes_portal.integrations.gitlab import GitLabHost
from nautes_portal.operations.models import Operation
from products.adoption import code_repo_pid, is_verified_code_repo
from products.models import CodeRepo, CodeRepoBinding
from products.repo_provisioning.authorization import (
    BindingInfo,
    DeployKeyInfo,
    RepoInfo,
    plan_authorization,
)
from products.repo_provisioning.base import (
    _LOCAL,
    PERMISSIONS,
    REFRESH_DENIED,
    _gitlab,
    _project_id,
    logger,
)


def read_index(
    product: str, *, exclude: str | None = None
) -> tuple[list[RepoInfo], list[BindingInfo]]:
    """The product's code repositories and bindings from the index (not from Git).

    `exclude` drops a repository being deleted, and the bindings that share it. Only code
    repositories Git confirmed as this product's own projects take part: an unverified
    `repo-<id>` may name another product's project, whose keys a refresh must never touch (#12).
    """
    repos = []
    rows = CodeRepo.objects.filter(product__name=product).order_by("name")
    for name, project, git_project_id in rows.values_list("name", "project", "git_project_id"):
        if name == exclude or not is_verified_code_repo(name, git_project_id):
            continue
        pid = code_repo_pid(name)
        assert pid is not None  # verified names are repo-<id>
        repos.append(RepoInfo(name=name, project_id=pid, project=project or ""))
    bindings = []
    binding_rows = CodeRepoBinding.objects.filter(product__name=product).order_by("name")
    for code_repo, projects, permissions in binding_rows.values_list(
        "code_repo", "projects", "permissions"
    ):
        if code_repo == exclude or permissions not in PERMISSIONS:
            continue
        bindings.append(BindingInfo(code_repo, tuple(projects or ()), permissions))
    return repos, bindings


def _describe_repo(repos: Iterable[RepoInfo], project_id: int) -> str:
    return next((r.name for r in repos if r.project_id == project_id), f"project {project_id}")


def refresh_authorization(
    host: GitLabHost, repos: list[RepoInfo], bindings: list[BindingInfo]
) -> str:
    """Apply `plan_authorization` in GitLab; return a summary for the step log.

    Every change is attempted: GitLab 403s are collected and raised together at the end as one
    `PermissionDenied` (reason REFRESH_PERMISSIONS_ACCESS_DENIED), as upstream does. Other
    failures (GitLab down) stop at once with their retryable error; the refresh is idempotent.
    """
    denied: list[str] = []
    enabled: dict[int, list[DeployKeyInfo]] = {}
    for repo in repos:
        try:
            keys = host.list_deploy_keys(repo.project_id)
        except PermissionDenied:
            denied.append(f"listing the deploy keys of {repo.name}")
            continue
        except NotFound:
            logger.info("Authorization refresh: %s has no GitLab project; skipped", repo.name)
            continue
        enabled[repo.project_id] = [DeployKeyInfo(k.id, k.title, k.can_push) for k in keys]
    plan = plan_authorization(repos, bindings, enabled)
    revoked = enabled_count = skipped = 0
    for project_id, key_id in plan.revoke:  # Clean up first, as upstream.
        try:
            host.delete_deploy_key(project_id, key_id)
            revoked += 1
        except PermissionDenied:
            denied.append(f"removing deploy key {key_id} from {_describe_repo(repos, project_id)}")
    for project_id, key_id, can_push in plan.enable:
        try:
            host.enable_deploy_key(project_id, key_id, can_push)
            enabled_count += 1
        except PermissionDenied:
            denied.append(f"enabling deploy key {key_id} on {_describe_repo(repos, project_id)}")
        except NotFound:
            # The key vanished since it was listed, or the portal cannot see it: nothing to do.
            skipped += 1
    if denied:
        raise PermissionDenied(
            "GitLab denied permission while refreshing deploy-key authorization: "
            + "; ".join(denied)
            + ". The portal's GitLab account needs Maintainer on these repositories.",
            reason=REFRESH_DENIED,
            metadata={"denied": denied},
        )
    summary = f"{enabled_count} key(s) enabled, {revoked} revoked across {len(repos)} repositories"
    return summary + (f", {skipped} vanished key(s) skipped" if skipped else "")


def _refresh_product(
    product: str, *, exclude: str | None = None, extra: RepoInfo | None = None
) -> str:
    host = _gitlab()
    if host is None:
        return _LOCAL + "deploy-key authorization is not managed"
    repos, bindings = read_index(product, exclude=exclude)
    if extra is not None and all(r.name != extra.name for r in repos):
        # Not indexed (yet): keep it in, or the clean-up would revoke its keys everywhere.
        logger.warning("Authorization refresh: %s is not in the index of %s", extra.name, product)
        repos.append(extra)
    return refresh_authorization(host, repos, bindings)


def refresh_product_authorization(operation: Operation) -> str:
    """Step (`product.authorization`): refresh deploy-key authorization of `params["product"]`."""
    return _refresh_product(operation.params["product"])


def refresh_after_provision(operation: Operation) -> str:
    """Step: refresh the product, including the repository just provisioned."""
    params = operation.params
    extra = RepoInfo(params["repo_id"], _project_id(operation), str(params.get("project") or ""))
    return _refresh_product(params["product"], extra=extra)


def refresh_after_deprovision(operation: Operation) -> str:
    """Step: refresh the product without the repository being deleted."""
    return _refresh_product(operation.params["product"], exclude=operation.params["repo_id"])
