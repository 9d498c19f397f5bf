"""The secret store: Nautes secrets in Vault (or OpenBao) KV version 2 engines.

Upstream Nautes keeps cluster kubeconfigs, deploy keys and access tokens in the KV v2 engines
`cluster`, `git` and `pki`, and grants each runtime component a read-only policy on one secret.
`SecretStore` is the interface the rest of the portal uses; `HvacSecretStore` implements it with
hvac and translates every hvac/requests exception into a `SecretStoreError` at this boundary.
`secret_store()` resolves the store from Django settings on every call: an external Vault
(VAULT_ADDR) or the embedded OpenBao run by `manage.py openbao`.

No secret (token, secret id, secret value) ever reaches a log line, an exception message or a
repr: messages name only the address, the engine and the path.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import hvac
import hvac.exceptions
import requests
from django.conf import settings

from nautes_portal.errors import IntegrationError

logger = logging.getLogger(__name__)

SYSTEM = "Vault"
# The KV v2 engines of the upstream contract, mounted on demand.
KV_ENGINES: tuple[str, ...] = ("cluster", "git", "pki")
REPO_SECRET_KINDS: tuple[str, ...] = ("readonly", "readwrite", "accesstoken-api")
DEFAULT_CA_LOCATION_PATH = "default"

# A new KV v2 mount upgrades its storage in the background and refuses every request meanwhile
# (HTTP 400 "Upgrading from non-versioned to versioned data ..."). That normally takes
# milliseconds; this bounds how long one operation waits for it before giving up.
UPGRADE_WAIT_SECONDS = 5.0
_UPGRADE_FIRST_DELAY = 0.02
_UPGRADE_MAX_DELAY = 0.25
# Vault's wording (and older releases' "Uprading" typo; perf secondaries say "Waiting for the
# primary to upgrade ..."): the common part identifies the answer.
_UPGRADING = re.compile(r"from non-versioned to versioned data", re.IGNORECASE)
# A key the portal never writes: reading it tells whether an engine answers at all.
_PROBE_PATH = "nautes-portal-readiness-probe"

# Engines, paths and policy names are interpolated into URLs and policy HCL: keep them to a safe
# alphabet so nothing can escape the one secret a policy is meant for.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_POLICY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

T = TypeVar("T")


# ---- Errors ----------------------------------------------------------------
class SecretStoreError(IntegrationError):
    """Vault failed or refused; the message is user-safe and says what to do."""

    status = 502
    reason = "SECRET_STORE_ERROR"
    default_retryable = True

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(
            SYSTEM,
            message,
            retryable=self.default_retryable if retryable is None else retryable,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class SecretStoreUnavailable(SecretStoreError):
    """Vault cannot be reached (down, wrong address, network): try again later."""

    status = 503
    reason = "SECRET_STORE_UNAVAILABLE"
    default_retryable = True


class SecretStoreSealed(SecretStoreUnavailable):
    """Vault answers but is sealed (or not initialized): someone must unseal it."""

    reason = "SECRET_STORE_SEALED"


class SecretStoreForbidden(SecretStoreError):
    """Vault rejected the portal's credentials or its policy forbids the operation."""

    status = 502
    reason = "SECRET_STORE_FORBIDDEN"
    default_retryable = False


# ---- Nautes locations ------------------------------------------------------
@dataclass(frozen=True)
class SecretLocation:
    """Where one Nautes secret lives and the name of the policy granting read on it."""

    engine: str
    path: str
    policy_name: str


def cluster_kubeconfig_location(cluster: str) -> SecretLocation:
    """The admin kubeconfig of a cluster: `cluster` / `kubernetes/<cluster>/default/admin`."""
    _check_segment(cluster, "cluster name")
    return SecretLocation(
        engine="cluster",
        path=f"kubernetes/{cluster}/default/admin",
        policy_name=f"kubernetes-{cluster}-default-admin",
    )


def repo_secret_location(repo_id: str, kind: str) -> SecretLocation:
    """A code repository's deploy key or access token: `git` / `gitlab/<repo_id>/default/<kind>`.

    `repo_id` is the Nautes repository id, e.g. `repo-12`; `kind` is one of REPO_SECRET_KINDS.
    """
    _check_segment(repo_id, "repository id")
    if kind not in REPO_SECRET_KINDS:
        raise ValueError(f"kind must be one of {', '.join(REPO_SECRET_KINDS)}, got {kind!r}")
    return SecretLocation(
        engine="git",
        path=f"gitlab/{repo_id}/default/{kind}",
        policy_name=f"gitlab-{repo_id}-default-{kind}",
    )


def default_ca_location() -> SecretLocation:
    """The default CA certificate: `pki` / `default` (key `cacert`)."""
    return SecretLocation(engine="pki", path=DEFAULT_CA_LOCATION_PATH, policy_name="pki-default")


def _check_segment(value: str, what: str) -> None:
    if not _SEGMENT.match(value):
        raise ValueError(f"invalid {what}: {value!r}")


def _check_location(engine: str, path: str) -> None:
    _check_segment(engine, "engine")
    segments = path.split("/")
    for segment in segments:
        _check_segment(segment, "secret path segment")
    if ".." in segments:
        raise ValueError(f"invalid secret path: {path!r}")


# ---- Interface -------------------------------------------------------------
class SecretStore(Protocol):
    """Read, write and grant access to Nautes secrets."""

    def check_ready(self, *, wait: float | None = None) -> None:
        """Raise SecretStoreUnavailable/SecretStoreSealed (or Forbidden) unless usable.

        Usable includes: every Nautes engine that is mounted accepts reads (is not still
        upgrading after `wait` seconds; default UPGRADE_WAIT_SECONDS).
        """
        ...

    def write(self, *, engine: str, path: str, data: dict[str, str]) -> int:
        """Store `data` as the new version of the secret; return the KV v2 version number."""
        ...

    def read(self, *, engine: str, path: str) -> dict[str, str] | None:
        """Return the latest version's data, or None when absent or deleted."""
        ...

    def delete(self, *, engine: str, path: str) -> None:
        """Delete the secret's metadata and all versions; absent secrets are fine."""
        ...

    def ensure_policy(self, *, name: str, engine: str, path: str) -> None:
        """Create or update policy `name` granting read on that one secret."""
        ...

    def delete_policy(self, name: str) -> None:
        """Delete policy `name`; absent policies are fine."""
        ...


def policy_document(engine: str, path: str) -> str:
    """The HCL of a read-only policy on one KV v2 secret (its data path, as upstream does)."""
    _check_location(engine, path)
    return (
        "# Managed by the Nautes portal: read access to one secret.\n"
        f'path "{engine}/data/{path}" {{\n'
        '  capabilities = ["read"]\n'
        "}\n"
    )


def display_url(url: str) -> str:
    """The address without any user-info, safe for messages and logs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# ---- hvac implementation ---------------------------------------------------
class HvacSecretStore:
    """SecretStore on a Vault/OpenBao server through hvac (token or AppRole login)."""

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

    def __repr__(self) -> str:
        auth = "approle" if self._role_id else "token"
        return f"HvacSecretStore(url={self.url!r}, auth={auth})"

    @property
    def uses_approle(self) -> bool:
        """Whether this store logs in with AppRole rather than a fixed token."""
        return self._role_id is not None

    # -- SecretStore ---------------------------------------------------------
    def check_ready(self, *, wait: float | None = None) -> None:
        """Raise unless Vault answers, is unsealed, accepts the portal's credentials and every
        Nautes engine accepts reads (waiting up to `wait` seconds for one that is upgrading)."""
        try:
            response = self._client.sys.read_health_status(method="GET")
        except requests.RequestException as exc:
            raise self._translate(exc, "check the health of", "sys/health") from None
        status = getattr(response, "status_code", 200)
        if status == 501:
            raise SecretStoreSealed(
                f"Vault at {self.url} is not initialized; initialize and unseal it, then try again."
            )
        if status == 503:
            raise SecretStoreSealed(f"Vault at {self.url} is sealed; unseal it and try again.")
        # 200 active, 429 standby, 472/473 replication secondaries: all serve requests.
        if status not in (200, 429, 472, 473):
            raise SecretStoreUnavailable(
                f"Vault at {self.url} is not ready (health status {status}); try again later."
            )
        try:
            self._call(
                "authenticate to", "auth/token/lookup-self", self._client.auth.token.lookup_self
            )
        except SecretStoreForbidden as exc:
            if self.uses_approle:
                raise
            raise SecretStoreForbidden(
                f"Vault at {self.url} rejected the portal's token; check VAULT_TOKEN."
            ) from exc
        for engine in KV_ENGINES:
            self.wait_until_engine_answers(engine, wait=wait)

    def write(self, *, engine: str, path: str, data: dict[str, str]) -> int:
        """Store `data` as a new version; return the version number."""
        _check_location(engine, path)
        payload = {str(key): str(value) for key, value in data.items()}
        self.ensure_engine(engine)
        response = self._call(
            "write",
            f"{engine}/{path}",
            lambda: self._client.secrets.kv.v2.create_or_update_secret(
                path=path, secret=payload, mount_point=engine
            ),
            engine=engine,
        )
        return int(response["data"]["version"])

    def read(self, *, engine: str, path: str) -> dict[str, str] | None:
        """Return the latest version's data, None when absent, deleted or destroyed."""
        _check_location(engine, path)
        try:
            response = self._call(
                "read",
                f"{engine}/{path}",
                lambda: self._client.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=engine, raise_on_deleted_version=False
                ),
                missing=(hvac.exceptions.InvalidPath,),
                engine=engine,
            )
        except _Missing:
            return None
        data = (response.get("data") or {}).get("data")
        if data is None:
            return None
        return {str(key): str(value) for key, value in data.items()}

    def delete(self, *, engine: str, path: str) -> None:
        """Delete metadata and every version; an absent secret or engine is not an error."""
        _check_location(engine, path)
        try:
            self._call(
                "delete",
                f"{engine}/{path}",
                lambda: self._client.secrets.kv.v2.delete_metadata_and_all_versions(
                    path=path, mount_point=engine
                ),
                missing=(hvac.exceptions.InvalidPath,),
                engine=engine,
            )
        except _Missing:
            return

    def ensure_policy(self, *, name: str, engine: str, path: str) -> None:
        """Create or update a policy granting read on exactly that secret."""
        _check_policy_name(name)
        document = policy_document(engine, path)
        self._call(
            "write policy",
            name,
            lambda: self._client.sys.create_or_update_policy(name=name, policy=document),
        )

    def delete_policy(self, name: str) -> None:
        """Delete the policy; Vault answers 204 for absent policies too."""
        _check_policy_name(name)
        self._call("delete policy", name, lambda: self._client.sys.delete_policy(name=name))

    # -- Engines -------------------------------------------------------------
    def ensure_engine(self, engine: str) -> None:
        """Make sure a KV v2 engine is mounted at `engine/` and answers, mounting it when missing.

        Uses `sys/internal/ui/mounts`, which any token with access below the mount may read, so
        an AppRole without rights on `sys/mounts` still works against pre-mounted engines. A new
        mount is not usable at once (KV v2 upgrades it in the background): this waits for it.
        """
        _check_segment(engine, "engine")
        if engine in self._engines:
            return
        try:
            mount = self._call(
                "inspect engine",
                engine,
                lambda: self._client.adapter.get(f"/v1/sys/internal/ui/mounts/{engine}"),
                # 403 here is the "preflight capability check": no such mount visible to us.
                missing=(hvac.exceptions.Forbidden, hvac.exceptions.InvalidPath),
            )
        except _Missing:
            self._mount_kv2(engine)
        else:
            details = (mount or {}).get("data") or {}
            version = str((details.get("options") or {}).get("version", "1"))
            if details.get("type") not in ("kv", "generic") or version != "2":
                raise SecretStoreError(
                    f"The secrets engine at '{engine}/' in Vault at {self.url} is not KV version "
                    "2; ask the Vault administrator to mount a KV version 2 engine there.",
                    retryable=False,
                )
        # Also when it was found mounted: another process may have mounted it an instant ago.
        self.wait_until_engine_answers(engine)
        with self._lock:
            self._engines.add(engine)

    def wait_until_engine_answers(self, engine: str, *, wait: float | None = None) -> None:
        """Wait (bounded) until the engine at `engine/` stops answering "upgrading".

        Reads a key the portal never writes: "absent" (also for an engine not mounted yet, which
        `ensure_engine` will mount and wait for) or "forbidden" (a policy limited to the
        portal's own paths; the real operation retries on its own) means the engine answers.
        Raises SecretStoreUnavailable naming the engine when it is still upgrading after `wait`
        seconds (default UPGRADE_WAIT_SECONDS).
        """
        _check_segment(engine, "engine")
        try:
            self._call(
                "read",
                f"{engine}/{_PROBE_PATH}",
                lambda: self._client.secrets.kv.v2.read_secret_version(
                    path=_PROBE_PATH, mount_point=engine, raise_on_deleted_version=False
                ),
                missing=(hvac.exceptions.InvalidPath, hvac.exceptions.Forbidden),
                engine=engine,
                wait=wait,
            )
        except _Missing:
            return

    def _mount_kv2(self, engine: str) -> None:
        try:
            self._call(
                "mount engine",
                engine,
                lambda: self._client.sys.enable_secrets_engine(
                    backend_type="kv",
                    path=engine,
                    options={"version": "2"},
                    description="Nautes secrets (mounted by the Nautes portal)",
                ),
                missing=(hvac.exceptions.InvalidRequest,),
            )
        except SecretStoreForbidden:
            raise SecretStoreForbidden(
                f"The secrets engine '{engine}' is not mounted in Vault at {self.url} and the "
                "portal may not mount it; ask the Vault administrator to enable a KV version 2 "
                f"engine at '{engine}/' (or grant the portal's policy access to it)."
            ) from None
        except _Missing:
            # "path is already in use": another process mounted it concurrently.
            return
        logger.info("Mounted KV v2 secrets engine %s/ in Vault at %s", engine, self.url)

    # -- Plumbing ------------------------------------------------------------
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
                    deadline = now + (UPGRADE_WAIT_SECONDS if wait is None else wait)
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


def _check_policy_name(name: str) -> None:
    if not _POLICY_NAME.match(name) or name in ("root", "default"):
        raise ValueError(f"invalid policy name: {name!r}")


def _describe(exc: Exception) -> str:
    """A log-safe description: the type and, for Vault errors, Vault's own error strings.

    Never str(exc): hvac puts whole response bodies there when Vault sends no `errors`.
    """
    if isinstance(exc, hvac.exceptions.VaultError) and exc.errors:
        return f"{type(exc).__name__}: {'; '.join(str(e).strip() for e in exc.errors)}"
    return type(exc).__name__


# ---- Factory ---------------------------------------------------------------
@dataclass(frozen=True)
class _StoreConfig:
    url: str
    token: str = field(default="", repr=False)
    role_id: str = field(default="", repr=False)
    secret_id: str = field(default="", repr=False)
    verify: bool | str = True
    timeout: float = 10.0


# One store per thread and configuration: keeps the AppRole login and the mounted-engine cache
# across calls without sharing a requests session between threads.
_local = threading.local()
_MAX_CACHED_STORES = 8


def secret_store() -> SecretStore:
    """Return the secret store configured in Django settings (resolved on every call).

    VAULT_ADDR set: that Vault, with VAULT_TOKEN or AppRole (VAULT_ROLE_ID/VAULT_SECRET_ID) and
    VAULT_CACERT for TLS. Otherwise the embedded OpenBao found under NAUTES_OPENBAO_DIR.
    """
    config = _resolve_config()
    stores: dict[_StoreConfig, HvacSecretStore] = getattr(_local, "stores", None) or {}
    _local.stores = stores
    store = stores.get(config)
    if store is None:
        if len(stores) >= _MAX_CACHED_STORES:
            stores.clear()
        store = HvacSecretStore(
            url=config.url,
            token=config.token or None,
            role_id=config.role_id or None,
            secret_id=config.secret_id or None,
            verify=config.verify,
            timeout=config.timeout,
        )
        stores[config] = store
    return store


def _resolve_config() -> _StoreConfig:
    timeout = float(getattr(settings, "VAULT_TIMEOUT", 10.0))
    if settings.VAULT_ADDR:
        cacert = getattr(settings, "VAULT_CACERT", "")
        return _StoreConfig(
            url=settings.VAULT_ADDR,
            token=settings.VAULT_TOKEN or "",
            role_id=settings.VAULT_ROLE_ID or "",
            secret_id=settings.VAULT_SECRET_ID or "",
            verify=str(cacert) if cacert else True,
            timeout=timeout,
        )
    # Imported here: embedded_openbao builds on this module (errors, engines).
    from nautes_portal.embedded_openbao import EmbeddedOpenBaoError, read_connection

    try:
        connection = read_connection(Path(settings.NAUTES_OPENBAO_DIR))
    except EmbeddedOpenBaoError as exc:
        raise SecretStoreUnavailable(str(exc), retryable=False) from None
    if connection is None:
        raise SecretStoreUnavailable(
            "No secret store is available: VAULT_ADDR is not set and the embedded OpenBao is not "
            "running. Start it with `python manage.py openbao` (see the README) or set "
            "VAULT_ADDR to your Vault."
        )
    return _StoreConfig(url=connection.addr, token=connection.token, timeout=timeout)


def _reset_cache() -> None:
    """Forget this thread's cached stores (tests that unmount engines behind our back)."""
    _local.stores = {}


__all__ = [
    "KV_ENGINES",
    "REPO_SECRET_KINDS",
    "UPGRADE_WAIT_SECONDS",
    "HvacSecretStore",
    "SecretLocation",
    "SecretStore",
    "SecretStoreError",
    "SecretStoreForbidden",
    "SecretStoreSealed",
    "SecretStoreUnavailable",
    "cluster_kubeconfig_location",
    "default_ca_location",
    "display_url",
    "policy_document",
    "repo_secret_location",
    "secret_store",
]

# Static check that HvacSecretStore satisfies the protocol.
_PROTOCOL_CHECK: type[SecretStore] = HvacSecretStore
