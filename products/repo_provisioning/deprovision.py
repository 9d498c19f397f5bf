"""Deprovisioning a code repository (§5.5): its secrets, its deploy keys, its Git project."""

from __future__ import annotations

from nautes_portal.errors import NotFound, RuleViolation
from nautes_portal.integrations.gitlab import DeployKey, GitLabHost
from nautes_portal.integrations.vault import REPO_SECRET_KINDS, repo_secret_location, secret_store
from nautes_portal.operations.models import Operation
from products.adoption import code_repo_pid
from products.repo_provisioning.base import _LOCAL, PERMISSIONS, _gitlab, _project_id
from products.repo_provisioning.deploy_keys import key_title


def delete_repo_secrets(operation: Operation) -> str:
    """Step: delete the repository's three Vault secrets and their policies (absent is fine)."""
    if _gitlab() is None:
        return _LOCAL + "no repository secrets are kept"
    store = secret_store()
    repo_id = operation.params["repo_id"]
    project_id = operation.params.get("project_id")
    if project_id is None or code_repo_pid(repo_id) != int(project_id):
        # Vault keeps keys by `repo-<project id>` tenant-wide: only the repository's own.
        raise RuleViolation(
            f"refused: {repo_id} is not verified as the code repository of project "
            f"{project_id}, so its secrets are not deleted"
        )
    for kind in REPO_SECRET_KINDS:
        location = repo_secret_location(repo_id, kind)
        store.delete(engine=location.engine, path=location.path)
        store.delete_policy(location.policy_name)
    return f"deleted the {', '.join(REPO_SECRET_KINDS)} secrets and policies of {repo_id}"


def _keys_or_none(host: GitLabHost, project_id: int) -> list[DeployKey]:
    try:
        return host.list_deploy_keys(project_id)
    except NotFound:
        return []


def delete_repo_deploy_keys(operation: Operation) -> str:
    """Step: remove the repository's keys wherever they are enabled, then the project's keys.

    The other repositories are GitLab's list of the product group's projects (not the index),
    so a key shared with a repository the index no longer knows is removed too.
    """
    host = _gitlab()
    if host is None:
        return _LOCAL + "deploy keys are not managed"
    params = operation.params
    project_id, repo_id = _project_id(operation), params["repo_id"]
    titles = {key_title(repo_id, p) for p in PERMISSIONS}
    shared = 0
    for project in host.list_projects(params["product"]):
        if project.id == project_id:
            continue
        for key in _keys_or_none(host, project.id):
            if key.title in titles:
                host.delete_deploy_key(project.id, key.id)
                shared += 1
    own = _keys_or_none(host, project_id)
    for key in own:  # Every key, foreign ones included, as upstream (`deleteDeployKeys`).
        host.delete_deploy_key(project_id, key.id)
    return f"removed {shared} shared key(s) from other repositories and {len(own)} from {repo_id}"


def delete_git_project(operation: Operation) -> str:
    """Step: delete the GitLab project; a missing one (or one reused by a new project) is kept."""
    host = _gitlab()
    if host is None:
        return _LOCAL + "the repository is deleted with the product's files"
    params = operation.params
    product, repo_name, project_id = params["product"], params["repo_name"], _project_id(operation)
    project = host.get_project(product, repo_name)
    if project is None:
        return f"project {product}/{repo_name} was already deleted"
    if project.id != project_id:
        # The path now belongs to another project: never delete what this operation did not own.
        return f"{product}/{repo_name} is now project {project.id}, not {project_id}; left alone"
    host.delete_project(product, repo_name)
    return f"deleted project {project.full_path} (id {project.id})"
