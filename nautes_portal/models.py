"""Cross-cutting records: the audit log, hashed API tokens, OIDC identities and the operations
log (defined in `nautes_portal.operations.models`, registered here with the core app)."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

from nautes_portal.operations.models import Operation, OperationStep

__all__ = ["ApiToken", "AuditEvent", "OidcIdentity", "Operation", "OperationStep", "hash_token"]


class AuditEvent(models.Model):
    """Who changed what, when, in which commit, with the YAML diff (never a secret)."""

    class Action(models.TextChoices):
        SAVE = "save", "Save"
        DELETE = "delete", "Delete"
        SYNC = "sync", "Sync"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=16, choices=Action.choices)
    kind = models.CharField(max_length=64)
    name = models.CharField(max_length=253)
    product = models.ForeignKey(
        "products.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product_name = models.CharField(max_length=255, blank=True, default="")
    repository = models.CharField(max_length=512, blank=True, default="")
    commit_sha = models.CharField(max_length=64, blank=True, default="")
    diff = models.TextField(blank=True, default="")
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.kind}/{self.name}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A portal API token; only its SHA-256 digest is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise a token.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @classmethod
    def issue(cls, user: models.Model) -> tuple[ApiToken, str]:
        """Create a token for `user`; return the row and the raw token (shown once)."""
        raw = secrets.token_hex(20)
        token = cls.objects.create(user=user, digest=hash_token(raw), prefix=raw[:8])
        return token, raw


class OidcIdentity(models.Model):
    """Links a portal user to the OIDC subject (GitLab user id) that logs them in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_identity"
    )
    issuer = models.CharField(max_length=512)
    subject = models.CharField(max_length=255)
    username = models.CharField(
        max_length=255, blank=True, default="", help_text="The GitLab username, for memberships."
    )
    last_login_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_unique_subject")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.subject})"
