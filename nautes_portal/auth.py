"""GitLab login through OpenID Connect (mozilla-django-oidc), keyed on the stable `sub` claim.

Users are matched by (issuer, sub), never by e-mail: an e-mail address can change hands, a
GitLab user id cannot. Usernames come from `nickname` (GitLab) or `preferred_username`; a new
identity never takes over an existing local account with the same username.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.db.models import QuerySet
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from nautes_portal.models import OidcIdentity

logger = logging.getLogger(__name__)

_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


def oidc_issuer() -> str:
    return str(getattr(settings, "OIDC_OP_ISSUER", "") or settings.GITLAB_URL).rstrip("/")


class GitLabOIDCBackend(OIDCAuthenticationBackend):
    """Authenticate GitLab (or any OIDC) users by subject; create their account on first login."""

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub")) and bool(self._username_claim(claims))

    def get_payload_data(self, token: bytes, key: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().get_payload_data(token, key)
        # mozilla-django-oidc checks the signature and the nonce but neither `aud` nor `iss`.
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was not issued for this portal.")
        if oidc_issuer() and str(payload.get("iss", "")).rstrip("/") != oidc_issuer():
            raise SuspiciousOperation("The ID token comes from an unexpected issuer.")
        return payload

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Any]:
        return get_user_model().objects.filter(
            oidc_identity__issuer=oidc_issuer(), oidc_identity__subject=str(claims["sub"])
        )

    @transaction.atomic
    def create_user(self, claims: dict[str, Any]) -> Any:
        user_model = get_user_model()
        base = _USERNAME_UNSAFE.sub("-", self._username_claim(claims))[:140] or "user"
        username, suffix = base, 1
        while user_model.objects.filter(username=username).exists():
            suffix += 1
            username = f"{base}-{suffix}"
        user = user_model.objects.create_user(username, email=claims.get("email", ""))
        user.set_unusable_password()
        self._apply_profile(user, claims)
        OidcIdentity.objects.create(user=user, issuer=oidc_issuer(), subject=str(claims["sub"]))
        logger.info("created account %s for OIDC subject %s", username, claims["sub"])
        return user

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        self._apply_profile(user, claims)
        OidcIdentity.objects.filter(user=user).update()  # touch last_login_at
        return user

    @staticmethod
    def _username_claim(claims: dict[str, Any]) -> str:
        return str(claims.get("nickname") or claims.get("preferred_username") or "")

    @staticmethod
    def _apply_profile(user: Any, claims: dict[str, Any]) -> None:
        name = str(claims.get("name") or "")
        first, _, last = name.partition(" ")
        user.first_name, user.last_name = first[:150], last[:150]
        user.email = str(claims.get("email") or user.email)
        user.save(update_fields=["first_name", "last_name", "email", "password"])
