"""Product-level steps, added to `product.save` by `products.provisioning`: protect the
default branch of `default.project` and give it a read-only deploy key.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from nautes_portal.errors import NotFound
from nautes_portal.integrations.config_repo import DEFAULT_BRANCH
from nautes_portal.integrations.gitlab import MAINTAINER, GitLabHost
from nautes_portal.integrations.vault import secret_store
from nautes_portal.operations.models import Operation
from products.repo_provisioning.base import _LOCAL, READONLY, _gitlab
from products.repo_provisioning.deploy_keys import ensure_repo_deploy_key


def _default_project(host: GitLabHost, product: str) -> Any:
    project = host.get_project(product, settings.NAUTES_DEFAULT_PROJECT)
    if project is None:
        raise NotFound(f"Repository {product}/{settings.NAUTES_DEFAULT_PROJECT} does not exist.")
    return project


def protect_default_branch(operation: Operation) -> str:
    """Step: protect `main` of `<product>/default.project`: Maintainers push and merge."""
    host = _gitlab()
    if host is None:
        return _LOCAL + "branches are not protected"
    project = _default_project(host, operation.params["name"])
    rule = host.protect_branch(
        project.id, DEFAULT_BRANCH, push_access_level=MAINTAINER, merge_access_level=MAINTAINER
    )
    return f"branch {rule.name} of {project.full_path} protected (push and merge: Maintainers)"


def ensure_default_project_key(operation: Operation) -> str:
    """Step: the readonly deploy key `repo-<pid>-readonly` of `default.project` (§5.3).

    Argo CD reads `default.project` with it; the private key goes to Vault at
    `git/gitlab/repo-<pid>/default/readonly`, with its read policy.
    """
    host = _gitlab()
    if host is None:
        return _LOCAL + "deploy keys are not managed"
    project = _default_project(host, operation.params["name"])
    key, created = ensure_repo_deploy_key(
        host,
        secret_store(),
        project_id=project.id,
        repo_id=f"repo-{project.id}",
        permission=READONLY,
    )
    return f"deploy key {key.title} (id {key.id}, {'new' if created else 'kept'})"
