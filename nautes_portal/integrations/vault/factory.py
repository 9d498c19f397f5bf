"""`secret_store()`: the store Django settings name, resolved on every call, cached per thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from nautes_portal.integrations.vault.errors import SecretStoreUnavailable
from nautes_portal.integrations.vault.interface import SecretStore
from nautes_portal.integrations.vault.store import HvacSecretStore


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
