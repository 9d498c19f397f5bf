"""Operation steps for code repositories: deploy keys, access tokens, hooks, authorization.

This is what upstream Nautes' api-server does in GitLab and Vault around a CodeRepo save or
delete (reference §5.5), a CodeRepoBinding change (§5.6) and a product save (§5.3):

* every code repository `repo-<pid>` owns two deploy keys, `repo-<pid>-readonly` (can_push
  false) and `repo-<pid>-readwrite` (can_push true), whose private keys live in Vault at
  `git/gitlab/repo-<pid>/default/<perm>` (keys `deploykey`, `fingerprint`, `id`), each with a
  read policy `gitlab-repo-<pid>-default-<perm>` (§5.10);
* a project access token `accesstoken-api` (scope `api`, Maintainer) whose value lives at
  `git/gitlab/repo-<pid>/default/accesstoken-api` (keys `accesstoken`, `id`);
* `refreshAuthorization` enables other repositories' deploy keys on a repository according to
  same-project membership and CodeRepoBindings, and removes keys that are no longer granted.

Steps follow `nautes_portal.operations`: idempotent, resumable, names and ids in
`operation.params`, adapters resolved at run time. With the local Git backend there are no deploy
keys, tokens or hooks, so every step is a no-op that says so.

SECURITY: private keys and token values go to Vault only. They never reach the database, a log
record, an exception message, a step `detail` or a return value.

The package, one module per job: `base` (names, the logger, the adapters), `deploy_keys`,
`access_tokens`, `webhooks`, `authorization` (planning refreshAuthorization, pure),
`refresh` (applying it), `deprovision`, `product_steps` (added to `product.save`) and
`registration` (the operation kinds, registered on import).
"""

from __future__ import annotations

from nautes_portal.operations.kinds import (
    CODEREPO_DEPROVISION,
    CODEREPO_PROVISION,
    PRODUCT_AUTHORIZATION,
)
from products.repo_provisioning import registration as registration  # registers the kinds
from products.repo_provisioning.access_tokens import ensure_access_token as ensure_access_token
from products.repo_provisioning.authorization import (
    AuthorizationPlan,
    BindingInfo,
    DeployKeyInfo,
    RepoInfo,
    plan_authorization,
)
from products.repo_provisioning.base import ACCESS_TOKEN_LIFETIME as ACCESS_TOKEN_LIFETIME
from products.repo_provisioning.base import ACCESS_TOKEN_NAME as ACCESS_TOKEN_NAME
from products.repo_provisioning.base import ACCESS_TOKEN_RENEW_BEFORE as ACCESS_TOKEN_RENEW_BEFORE
from products.repo_provisioning.base import ACCESS_TOKEN_SCOPES as ACCESS_TOKEN_SCOPES
from products.repo_provisioning.base import PERMISSIONS as PERMISSIONS
from products.repo_provisioning.base import READONLY as READONLY
from products.repo_provisioning.base import READWRITE as READWRITE
from products.repo_provisioning.base import REFRESH_DENIED
from products.repo_provisioning.deploy_keys import ensure_deploy_keys as ensure_deploy_keys
from products.repo_provisioning.deploy_keys import ensure_repo_deploy_key
from products.repo_provisioning.deploy_keys import key_title as key_title
from products.repo_provisioning.deprovision import delete_git_project as delete_git_project
from products.repo_provisioning.deprovision import (
    delete_repo_deploy_keys as delete_repo_deploy_keys,
)
from products.repo_provisioning.deprovision import delete_repo_secrets as delete_repo_secrets
from products.repo_provisioning.product_steps import (
    ensure_default_project_key,
    protect_default_branch,
)
from products.repo_provisioning.refresh import read_index, refresh_authorization
from products.repo_provisioning.refresh import (
    refresh_after_deprovision as refresh_after_deprovision,
)
from products.repo_provisioning.refresh import refresh_after_provision as refresh_after_provision
from products.repo_provisioning.refresh import (
    refresh_product_authorization as refresh_product_authorization,
)
from products.repo_provisioning.registration import AUTHORIZATION_TITLE as AUTHORIZATION_TITLE
from products.repo_provisioning.webhooks import ensure_webhook as ensure_webhook

__all__ = [
    "CODEREPO_DEPROVISION",
    "CODEREPO_PROVISION",
    "PRODUCT_AUTHORIZATION",
    "REFRESH_DENIED",
    "AuthorizationPlan",
    "BindingInfo",
    "DeployKeyInfo",
    "RepoInfo",
    "ensure_default_project_key",
    "ensure_repo_deploy_key",
    "plan_authorization",
    "protect_default_branch",
    "read_index",
    "refresh_authorization",
]
