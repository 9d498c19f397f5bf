"""The operation kinds this package runs, registered when the package is imported:
`coderepo.provision`, `coderepo.deprovision` and `product.authorization`.
"""

from __future__ import annotations

from nautes_portal.operations import Step, register
from nautes_portal.operations.kinds import (
    CODEREPO_DEPROVISION,
    CODEREPO_PROVISION,
    PRODUCT_AUTHORIZATION,
)
from products.repo_provisioning.access_tokens import ensure_access_token
from products.repo_provisioning.deploy_keys import ensure_deploy_keys
from products.repo_provisioning.deprovision import (
    delete_git_project,
    delete_repo_deploy_keys,
    delete_repo_secrets,
)
from products.repo_provisioning.refresh import (
    refresh_after_deprovision,
    refresh_after_provision,
    refresh_product_authorization,
)
from products.repo_provisioning.webhooks import ensure_webhook

AUTHORIZATION_TITLE = "Refresh deploy-key authorization in the product"

register(
    CODEREPO_PROVISION,
    [
        Step("deploy_keys", "Create the repository's deploy keys", ensure_deploy_keys),
        Step("access_token", "Create the project access token", ensure_access_token),
        Step("webhook", "Configure the repository webhook", ensure_webhook),
        Step("authorization", AUTHORIZATION_TITLE, refresh_after_provision),
    ],
)
register(
    CODEREPO_DEPROVISION,
    [
        Step("secrets", "Delete the repository's secrets", delete_repo_secrets),
        Step("deploy_keys", "Remove the repository's deploy keys", delete_repo_deploy_keys),
        Step("project", "Delete the Git project", delete_git_project),
        Step("authorization", AUTHORIZATION_TITLE, refresh_after_deprovision),
    ],
)
register(
    PRODUCT_AUTHORIZATION,
    [Step("authorization", AUTHORIZATION_TITLE, refresh_product_authorization)],
)
