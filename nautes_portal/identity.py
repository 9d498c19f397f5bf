"""Portal accounts for GitLab users, found by their stable GitLab id (OIDC `sub`).

Used by the OIDC login and by API calls that present a GitLab personal access token.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from nautes_portal.models import OidcIdentity

logger = logging.getLogger(__name__)

_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")

# Sent when a GitLab personal access token was resolved to a portal user, before the identity
# is cached. Keyword arguments: `user`, `username` (GitLab's), `group_levels` (group path ->
# access level, as GitLab answers for this token) and `host` (the Git host adapter). The app that
# keeps memberships (products, connected in its `ready`) refreshes the user's from them: the
# core imports no app.
gitlab_token_resolved = Signal()


def identity_issuer() -> str:
    """Where identities come from: the OIDC issuer, which for GitLab is GITLAB_URL."""
    return str(getattr(settings, "OIDC_OP_ISSUER", "") or settings.GITLAB_URL).rstrip("/")


@transaction.atomic
def link_external_user(*, subject: str, username: str, email: str, name: str) -> Any:
    """Return the portal user of an external (GitLab) identity, creating it on first sight.

    A new identity never takes over an existing local account with the same username.
    """
    identity = (
        OidcIdentity.objects.select_related("user")
        .filter(issuer=identity_issuer(), subject=subject)
        .first()
    )
    if identity is None:
        user_model = get_user_model()
        base = _USERNAME_UNSAFE.sub("-", username)[:140] or "user"
        candidate, suffix = base, 1
        while user_model.objects.filter(username=candidate).exists():
            suffix += 1
            candidate = f"{base}-{suffix}"
        user = user_model.objects.create_user(candidate, email=email)
        user.set_unusable_password()
        identity = OidcIdentity(user=user, issuer=identity_issuer(), subject=subject)
        logger.info("created account %s for external subject %s", candidate, subject)
    user = identity.user
    first, _, last = name.partition(" ")
    user.first_name, user.last_name = first[:150], last[:150]
    user.email = email or user.email
    user.save()
    identity.username = username
    identity.last_login_at = timezone.now()
    identity.save()
    return user


def _cache_key(token: str) -> str:
    # SECURITY: only a hash of the token is ever used as a key; the token itself is not kept.
    return "nautes:gitlab-token:" + hashlib.sha256(token.encode()).hexdigest()


def user_for_gitlab_token(token: str) -> Any:
    """Resolve a GitLab personal access token to a portal user; their memberships are refreshed
    by the receivers of `gitlab_token_resolved` (products).

    The identity is cached by the token's hash for NAUTES_TOKEN_CACHE_SECONDS. Raises
    `nautes_portal.errors.Unauthenticated` for a bad token.
    """
    from nautes_portal.integrations import git_host

    key = _cache_key(token)
    if (user_id := cache.get(key)) is not None:
        user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
        if user is not None:
            return user
    host: Any = git_host()
    gitlab_user = host.user_for_token(token)
    user = link_external_user(
        subject=str(gitlab_user.id),
        username=gitlab_user.username,
        email=gitlab_user.email,
        name=gitlab_user.name,
    )
    gitlab_token_resolved.send(
        sender=type(host),
        user=user,
        username=gitlab_user.username,
        group_levels=host.group_levels_for_token(token),
        host=host,
    )
    cache.set(key, user.pk, settings.NAUTES_TOKEN_CACHE_SECONDS)
    return user
