"""API authentication: `Authorization: Bearer <token>` with hashed portal tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from nautes_portal.errors import NautesError
from nautes_portal.identity import user_for_gitlab_token
from nautes_portal.models import ApiToken, hash_token

LAST_USED_PRECISION = dt.timedelta(minutes=1)


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """Resolve a bearer token to its user by the token's SHA-256 digest."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiToken | None] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <token>'."
            )
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        token = ApiToken.objects.select_related("user").filter(digest=hash_token(raw)).first()
        if token is None and settings.NAUTES_GIT_BACKEND == "gitlab":
            # A GitLab personal access token, as the Nautes CLI sends.
            try:
                return user_for_gitlab_token(raw), None
            except NautesError as exc:
                raise exceptions.AuthenticationFailed(exc.message) from None
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        now = timezone.now()
        # A write per request would serialise readers; a minute's precision is enough.
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Document the bearer token in the OpenAPI schema."""

    target_class = "nautes_portal.api.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer"}
