"""Domain errors shared by every app.

Each error carries what the REST API needs to answer in upstream Nautes' error shape
(`{code, reason, message, metadata}`): an HTTP status, a stable reason and a user-safe message.
Services raise them; the API exception handler and the HTML views render them.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from typing import Any

# Settings naming server directories, with what a message shows instead (longest match wins).
_DIRECTORY_SETTINGS = (
    ("NAUTES_GIT_DIR", "$NAUTES_DATA_DIR/git"),
    ("NAUTES_OPENBAO_DIR", "$NAUTES_DATA_DIR/openbao"),
    ("NAUTES_DATA_DIR", "$NAUTES_DATA_DIR"),
    ("STATIC_ROOT", "<server path>"),
    ("BASE_DIR", "<server path>"),
)


def _server_directories() -> tuple[tuple[str, str], ...]:
    from django.conf import settings

    named: list[tuple[str, str]] = []
    if settings.configured:
        named = [(str(getattr(settings, n, "") or ""), shown) for n, shown in _DIRECTORY_SETTINGS]
    named.append((tempfile.gettempdir(), "<temporary directory>"))
    return _directory_forms(tuple(named))


@functools.lru_cache(maxsize=8)
def _directory_forms(named: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """Each directory as given and resolved (symbolic links), longest first."""
    found: dict[str, str] = {}
    for directory, placeholder in named:
        if directory:
            for form in (directory, os.path.realpath(directory)):
                found.setdefault(form.rstrip("/"), placeholder)
    found.pop("", None)
    return tuple(sorted(found.items(), key=lambda item: -len(item[0])))


def redact_paths(text: str) -> str:
    """Replace the server's directories (data directory, code, temporary files) in `text`.

    The central guard behind every user-facing error: whatever a source forgot, a message
    never tells a user where the server keeps its files. The file's place inside the data
    directory stays (`$NAUTES_DATA_DIR/git/acme/...`), which is what an operator needs.
    """
    if "/" not in text:
        return text
    for directory, placeholder in _server_directories():
        pattern = r"(?:file://)?(?<![\w.-])" + re.escape(directory) + r"(?=/|[^\w.-]|$)"
        text = re.sub(pattern, placeholder.replace("\\", "\\\\"), text)
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_paths(value)
    if isinstance(value, list | tuple):
        return type(value)(_redact(item) for item in value)
    if isinstance(value, dict):
        return {key: _redact(item) for key, item in value.items()}
    return value


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
        message = redact_paths(message)
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        if status is not None:
            self.status = status
        self.metadata: dict[str, Any] = _redact(metadata or {})

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
