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
from django.db.models import QuerySet
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from nautes_portal.identity import identity_issuer, link_external_user

logger = logging.getLogger(__name__)

_USERNAME_UNSAFE = re.compile(r"[^\w.@+-]")


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
        if identity_issuer() and str(payload.get("iss", "")).rstrip("/") != identity_issuer():
            raise SuspiciousOperation("The ID token comes from an unexpected issuer.")
        return payload

    def filter_users_by_claims(self, claims: dict[str, Any]) -> QuerySet[Any]:
        return get_user_model().objects.filter(
            oidc_identity__issuer=identity_issuer(), oidc_identity__subject=str(claims["sub"])
        )

    def create_user(self, claims: dict[str, Any]) -> Any:
        return self._link(claims)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        return self._link(claims)

    def _link(self, claims: dict[str, Any]) -> Any:
        return link_external_user(
            subject=str(claims["sub"]),
            username=self._username_claim(claims),
            email=str(claims.get("email") or ""),
            name=str(claims.get("name") or ""),
        )

    @staticmethod
    def _username_claim(claims: dict[str, Any]) -> str:
        return str(claims.get("nickname") or claims.get("preferred_username") or "")
