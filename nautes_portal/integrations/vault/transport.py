"""One hvac call to Vault: AppRole login, error translation, and waiting out a KV v2 upgrade.

No secret (token, secret id, secret value) ever reaches a log line, an exception message or a
repr: messages name only the address, the engine and the path.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import hvac
import hvac.exceptions
import requests

# Tunables live on the package and are read at call time: one place to set them (tests too).
from nautes_portal.integrations import vault as package
from nautes_portal.integrations.vault.errors import (
    SecretStoreError,
    SecretStoreForbidden,
    SecretStoreSealed,
    SecretStoreUnavailable,
)

# The package's logger: one name for the whole adapter, as before the split.
logger = logging.getLogger(__package__)

# The backoff while an engine upgrades; the bound is the package's UPGRADE_WAIT_SECONDS.
_UPGRADE_FIRST_DELAY = 0.02
_UPGRADE_MAX_DELAY = 0.25
# Vault's wording (and older releases' "Uprading" typo; perf secondaries say "Waiting for the
# primary to upgrade ..."): the common part identifies the answer.
_UPGRADING = re.compile(r"from non-versioned to versioned data", re.IGNORECASE)

T = TypeVar("T")


class VaultTransport:
    """A Vault/OpenBao server through hvac: login, `_call`, its errors; the store's state."""

    def __init__(
        self,
        *,
        url: str,
        token: str | None = None,
        role_id: str | None = None,
        secret_id: str | None = None,
        verify: bool | str = True,
        timeout: float = 10.0,
    ) -> None:
        if bool(role_id) != bool(secret_id):
            raise ValueError("AppRole login needs both role_id and secret_id")
        self.url = display_url(url)
        self._role_id = role_id or None
        self._secret_id = secret_id or None
        # token="" (not None): hvac would otherwise pick up VAULT_TOKEN or ~/.vault-token.
        self._client = hvac.Client(url=url, token=token or "", verify=verify, timeout=timeout)
        self._logged_in = False
        self._engines: set[str] = set()
        self._lock = threading.Lock()

    @property
    def uses_approle(self) -> bool:
        """Whether this store logs in with AppRole rather than a fixed token."""
        return self._role_id is not None

    def _login(self) -> None:
        """Log in with AppRole when configured (the token is kept inside the hvac client)."""
        if self._role_id is None or self._secret_id is None:
            return
        try:
            self._client.auth.approle.login(role_id=self._role_id, secret_id=self._secret_id)
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.Forbidden) as exc:
            # Vault answers 400 "invalid role or secret ID" for bad AppRole credentials.
            logger.warning("Vault AppRole login at %s was rejected (%s)", self.url, _describe(exc))
            raise SecretStoreForbidden(
                f"Vault at {self.url} rejected the portal's AppRole login; check VAULT_ROLE_ID "
                "and VAULT_SECRET_ID."
            ) from None
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise self._translate(exc, "log in to", "auth/approle/login") from None
        self._logged_in = True

    def _call(
        self,
        action: str,
        target: str,
        operation: Callable[[], T],
        *,
        missing: tuple[type[Exception], ...] = (),
        engine: str | None = None,
        wait: float | None = None,
    ) -> T:
        """Run one hvac operation, translating its exceptions.

        Exceptions listed in `missing` raise `_Missing` for the caller to handle. With AppRole a
        403 may mean the login token expired: log in again and retry once. A KV engine still
        upgrading (`engine` set) is retried with a short backoff for up to `wait` seconds
        (default UPGRADE_WAIT_SECONDS), then reported as unavailable, naming the engine.
        """
        relogged = False
        deadline: float | None = None
        delay = _UPGRADE_FIRST_DELAY
        while True:
            try:
                if self.uses_approle and not self._logged_in:
                    self._login()
                return operation()
            except missing:
                raise _Missing from None
            except hvac.exceptions.Forbidden as exc:
                if self.uses_approle and not relogged:
                    relogged = True
                    self._logged_in = False
                    continue
                raise self._translate(exc, action, target) from None
            except hvac.exceptions.InvalidRequest as exc:
                if engine is None or not _is_upgrading(exc):
                    raise self._translate(exc, action, target) from None
                now = time.monotonic()
                if deadline is None:
                    deadline = now + (package.UPGRADE_WAIT_SECONDS if wait is None else wait)
                if now + delay > deadline:
                    raise self._still_upgrading(engine, action, target, exc) from None
                logger.debug("Vault at %s: engine %s/ is upgrading; retrying", self.url, engine)
                time.sleep(delay)
                delay = min(delay * 2, _UPGRADE_MAX_DELAY)
            except (hvac.exceptions.VaultError, requests.RequestException) as exc:
                # `from None`: hvac messages may carry response bodies; keep them out of chains.
                raise self._translate(exc, action, target) from None

    def _still_upgrading(
        self, engine: str, action: str, target: str, exc: Exception
    ) -> SecretStoreUnavailable:
        logger.warning("Vault at %s: %s %s failed (%s)", self.url, action, target, _describe(exc))
        return SecretStoreUnavailable(
            f"The secrets engine '{engine}/' in Vault at {self.url} is still upgrading to KV "
            "version 2 and does not accept requests yet; try again in a moment, and check the "
            "Vault server log if it lasts."
        )

    def _translate(self, exc: Exception, action: str, target: str) -> SecretStoreError:
        """Map an hvac/requests exception to a user-safe SecretStoreError and log the cause."""
        logger.warning("Vault at %s: %s %s failed (%s)", self.url, action, target, _describe(exc))
        if isinstance(exc, hvac.exceptions.VaultDown):
            return SecretStoreSealed(f"Vault at {self.url} is sealed; unseal it and try again.")
        if isinstance(exc, hvac.exceptions.VaultNotInitialized):
            return SecretStoreSealed(
                f"Vault at {self.url} is not initialized; initialize and unseal it, then try again."
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return SecretStoreUnavailable(
                f"The TLS certificate of Vault at {self.url} could not be verified; set "
                "VAULT_CACERT to the CA bundle that signed it.",
                retryable=False,
            )
        if isinstance(exc, requests.RequestException):
            return SecretStoreUnavailable(
                f"Vault at {self.url} cannot be reached; check that it is running and that "
                "VAULT_ADDR is right, then try again."
            )
        if isinstance(exc, hvac.exceptions.Forbidden | hvac.exceptions.Unauthorized):
            return SecretStoreForbidden(
                f"Vault at {self.url} refused to {action} {target}; check the portal's Vault "
                "token or AppRole policy."
            )
        if isinstance(exc, hvac.exceptions.InvalidRequest | hvac.exceptions.InvalidPath):
            return SecretStoreError(
                f"Vault at {self.url} rejected the request to {action} {target}; see the "
                "portal log for details.",
                retryable=False,
            )
        return SecretStoreError(
            f"Vault at {self.url} failed to {action} {target}; try again later or check the "
            "Vault server log."
        )


class _Missing(Exception):
    """Internal: the operation hit an expected 'absent' answer."""


def _is_upgrading(exc: hvac.exceptions.VaultError) -> bool:
    """Whether Vault refused because a KV engine is upgrading to version 2 (retryable)."""
    return any(_UPGRADING.search(str(error)) for error in exc.errors or ())


def _describe(exc: Exception) -> str:
    """A log-safe description: the type and, for Vault errors, Vault's own error strings.

    Never str(exc): hvac puts whole response bodies there when Vault sends no `errors`.
    """
    if isinstance(exc, hvac.exceptions.VaultError) and exc.errors:
        return f"{type(exc).__name__}: {'; '.join(str(e).strip() for e in exc.errors)}"
    return type(exc).__name__


def display_url(url: str) -> str:
    """The address without any user-info, safe for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
