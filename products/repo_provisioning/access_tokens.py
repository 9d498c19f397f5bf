"""The project access token `accesstoken-api` (scope `api`, Maintainer), its value in Vault
at `git/gitlab/repo-<pid>/default/accesstoken-api`; renewed before it expires.
"""

from __future__ import annotations

from collections.abc import Mapping

from nautes_portal.integrations.gitlab import MAINTAINER, AccessToken
from nautes_portal.integrations.vault import repo_secret_location, secret_store
from nautes_portal.operations.models import Operation
from products.repo_provisioning.base import (
    _LOCAL,
    ACCESS_TOKEN_LIFETIME,
    ACCESS_TOKEN_NAME,
    ACCESS_TOKEN_RENEW_BEFORE,
    ACCESS_TOKEN_SCOPES,
    _gitlab,
    _project_id,
    _today,
    logger,
)


def _usable_token(
    tokens: list[AccessToken], secret: Mapping[str, str] | None
) -> AccessToken | None:
    """The one active token Vault holds the value of, unless it is about to expire."""
    wanted = [
        t
        for t in tokens
        if t.name == ACCESS_TOKEN_NAME
        and t.active
        and t.scopes == tuple(sorted(ACCESS_TOKEN_SCOPES))
        and t.access_level == MAINTAINER
    ]
    if len(wanted) != 1 or not secret or not secret.get("accesstoken"):
        return None
    token = wanted[0]
    if secret.get("id") != str(token.id):
        return None  # Vault holds the value of another (revoked or foreign) token.
    if token.expires_at is not None and token.expires_at <= _today() + ACCESS_TOKEN_RENEW_BEFORE:
        return None
    return token


def ensure_access_token(operation: Operation) -> str:
    """Step: the `accesstoken-api` project access token, its value in Vault only.

    GitLab shows a token's value once, so a token whose value Vault does not hold (missing
    secret, another id, or several candidates) is useless and replaced: `rotate=True` creates a
    new one and revokes the others with the same name.
    """
    host = _gitlab()
    if host is None:
        return _LOCAL + "access tokens are not managed"
    store = secret_store()
    project_id, repo_id = _project_id(operation), operation.params["repo_id"]
    location = repo_secret_location(repo_id, ACCESS_TOKEN_NAME)
    secret = store.read(engine=location.engine, path=location.path)
    token = _usable_token(host.list_project_access_tokens(project_id), secret)
    outcome = "kept"
    if token is None:
        token, value = host.ensure_project_access_token(
            project_id,
            ACCESS_TOKEN_NAME,
            list(ACCESS_TOKEN_SCOPES),
            MAINTAINER,
            _today() + ACCESS_TOKEN_LIFETIME,
            rotate=True,
        )
        if value is not None:
            store.write(
                engine=location.engine,
                path=location.path,
                data={"accesstoken": value, "id": str(token.id)},
            )
            outcome = "new"
            logger.info(
                "Created access token %s (id %s) on project %s",
                ACCESS_TOKEN_NAME,
                token.id,
                project_id,
            )
    store.ensure_policy(name=location.policy_name, engine=location.engine, path=location.path)
    expires = token.expires_at.isoformat() if token.expires_at else "never"
    return f"access token {ACCESS_TOKEN_NAME} (id {token.id}, {outcome}, expires {expires})"
