"""Domain errors shared by every app.

Each error carries what the REST API needs to answer in upstream Nautes' error shape
(`{code, reason, message, metadata}`): an HTTP status, a stable reason and a user-safe message.
Services raise them; the API exception handler and the HTML views render them.
"""

from __future__ import annotations

from typing import Any


class NautesError(Exception):
    """A refusal or failure that is safe to show to the user."""

    status: int = 500
    reason: str = ""

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        status: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        if status is not None:
            self.status = status
        self.metadata: dict[str, Any] = metadata or {}

    def as_body(self) -> dict[str, Any]:
        """Return the upstream-compatible error body."""
        return {
            "code": self.status,
            "reason": self.reason,
            "message": self.message,
            "metadata": self.metadata,
        }


class RuleViolation(NautesError):
    """The input breaks a Nautes rule (a client mistake): 400."""

    status = 400
    reason = "VALIDATOR"


class NotFound(NautesError):
    """The resource does not exist or is not visible to the caller: 404."""

    status = 404
    reason = "RESOURCE_NOT_FOUND"


class Conflict(NautesError):
    """The request conflicts with the current state (a concurrent change, a reference): 409."""

    status = 409
    reason = "CONFLICT"


class PermissionDenied(NautesError):
    """The caller may see the resource but not change it: 403."""

    status = 403
    reason = "NO_AUTHORIZATION"


class Unauthenticated(NautesError):
    """No valid credentials were presented: 401."""

    status = 401
    reason = "UNAUTHENTICATED"


class IntegrationError(NautesError):
    """An external system (Git host, Vault, a cluster) failed: 502/503.

    `message` is user-safe; details belong in the log, never secrets.
    """

    status = 502
    reason = "UPSTREAM_UNAVAILABLE"

    def __init__(
        self,
        system: str,
        message: str,
        *,
        retryable: bool = True,
        reason: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, reason=reason, status=status)
        self.system = system
        self.retryable = retryable
