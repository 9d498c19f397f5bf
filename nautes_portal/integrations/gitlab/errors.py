"""Translating python-gitlab and `requests` failures into `NautesError`s with user-safe
messages (`translate`, `_calling`); tokens never reach a message or a log record."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import gitlab
import gitlab.exceptions
import requests

from nautes_portal.errors import IntegrationError, NautesError, NotFound, PermissionDenied
from nautes_portal.integrations.config_repo import RepositoryError

logger = logging.getLogger(__package__)

SYSTEM = "GitLab"
_T = TypeVar("_T")


def _message(exc: gitlab.exceptions.GitlabError) -> str:
    """GitLab's error message, flattened (`{"path": ["has already been taken"]}` included)."""
    raw = exc.error_message
    if isinstance(raw, dict):
        raw = "; ".join(
            f"{key} {' '.join(map(str, v)) if isinstance(v, list) else v}" for key, v in raw.items()
        )
    elif isinstance(raw, bytes):
        raw = raw.decode(errors="replace")
    return str(raw)[:300]


def _is(exc: BaseException, code: int, text: str = "") -> bool:
    """Whether `exc` is a GitLab answer with status `code` whose message contains `text`."""
    return (
        isinstance(exc, gitlab.exceptions.GitlabError)
        and exc.response_code == code
        and text in _message(exc)
    )


def _unavailable(action: str, what: str) -> IntegrationError:
    return IntegrationError(
        SYSTEM,
        f"GitLab {what} while {action}; try again.",
        retryable=True,
        status=503,
        reason="GITLAB_UNAVAILABLE",
    )


def translate(exc: Exception, action: str) -> NautesError:
    """Return the portal error for a python-gitlab or `requests` failure while `action`."""
    if isinstance(exc, gitlab.exceptions.GitlabAuthenticationError):
        return IntegrationError(
            SYSTEM,
            f"GitLab rejected the portal's own access token while {action}; an administrator "
            "must renew the portal's GitLab token.",
            retryable=False,
            status=502,
            reason="GITLAB_UNAUTHORIZED",
        )
    if isinstance(exc, requests.exceptions.Timeout):
        return _unavailable(action, "did not answer in time")
    if isinstance(exc, requests.exceptions.RequestException):
        return _unavailable(action, "could not be reached")
    code = getattr(exc, "response_code", None)
    if code == 403:
        # Every call here is made with the portal's own token: the fix is on GitLab's side.
        return PermissionDenied(
            f"GitLab denied the portal's account permission while {action}; give that account "
            "the Maintainer role there (Owner for a group) before retrying."
        )
    if code == 404:
        return NotFound(f"Not found on GitLab while {action}.")
    if code is None or code >= 500 or code == 429:
        return _unavailable(
            action, f"failed (HTTP {code})" if code else "sent an unreadable answer"
        )
    detail = _message(exc) if isinstance(exc, gitlab.exceptions.GitlabError) else type(exc).__name__
    return RepositoryError(
        SYSTEM, f"GitLab refused {action}: {detail}", retryable=False, reason="GITLAB_REJECTED"
    )


@contextmanager
def _calling(action: str) -> Iterator[None]:
    """Translate python-gitlab and `requests` failures raised inside the block."""
    try:
        yield
    except (gitlab.exceptions.GitlabError, requests.exceptions.RequestException) as exc:
        error = translate(exc, action)
        code = getattr(exc, "response_code", None)
        # Only the exception type and status: a request URL or body never goes to the log.
        level = logging.DEBUG if code == 404 else logging.WARNING
        logger.log(
            level, "GitLab call failed while %s: %s (HTTP %s)", action, type(exc).__name__, code
        )
        raise error from exc


def _optional(action: str, fetch: Callable[[], _T]) -> _T | None:
    """Run `fetch`; a 404 gives None."""
    try:
        with _calling(action):
            return fetch()
    except NotFound:
        return None
