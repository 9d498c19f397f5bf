"""The secret store: Nautes secrets in Vault (or OpenBao) KV version 2 engines.

Upstream Nautes keeps cluster kubeconfigs, deploy keys and access tokens in the KV v2 engines
`cluster`, `git` and `pki`, and grants each runtime component a read-only policy on one secret.
`SecretStore` is the interface the rest of the portal uses; `HvacSecretStore` implements it with
hvac and translates every hvac/requests exception into a `SecretStoreError` at this boundary.
`secret_store()` resolves the store from Django settings on every call: an external Vault
(VAULT_ADDR) or the embedded OpenBao run by `manage.py openbao`.

No secret (token, secret id, secret value) ever reaches a log line, an exception message or a
repr: messages name only the address, the engine and the path.

The package, one module per job: `errors`, `locations` (where each secret lives), `policies`,
`interface` (`SecretStore`), `transport` (one hvac call: login, errors, waiting out a KV v2
upgrade), `auth_rules` (the names and values accepted for Kubernetes auth), `kubernetes_auth`
(per runtime cluster a Kubernetes auth method, per runtime account a role), `store`
(`HvacSecretStore`: secrets, policies, engines and readiness) and `factory` (`secret_store()`).
"""

from __future__ import annotations

from nautes_portal.integrations.vault.auth_rules import OPERATOR_ROLES
from nautes_portal.integrations.vault.errors import (
    SecretStoreConflict,
    SecretStoreError,
    SecretStoreForbidden,
    SecretStoreSealed,
    SecretStoreUnavailable,
)
from nautes_portal.integrations.vault.factory import _reset_cache as _reset_cache
from nautes_portal.integrations.vault.factory import secret_store
from nautes_portal.integrations.vault.interface import SecretStore
from nautes_portal.integrations.vault.locations import (
    KV_ENGINES,
    REPO_SECRET_KINDS,
    SecretLocation,
    cluster_kubeconfig_location,
    default_ca_location,
    repo_secret_location,
)
from nautes_portal.integrations.vault.policies import policy_document
from nautes_portal.integrations.vault.store import HvacSecretStore
from nautes_portal.integrations.vault.transport import display_url

# A new KV v2 mount upgrades its storage in the background and refuses every request meanwhile
# (HTTP 400 "Upgrading from non-versioned to versioned data ..."). That normally takes
# milliseconds; this bounds how long one operation waits for it before giving up. The transport
# reads it here at call time (`package.UPGRADE_WAIT_SECONDS`): one place to set it.
UPGRADE_WAIT_SECONDS = 5.0

__all__ = [
    "KV_ENGINES",
    "OPERATOR_ROLES",
    "REPO_SECRET_KINDS",
    "UPGRADE_WAIT_SECONDS",
    "HvacSecretStore",
    "SecretLocation",
    "SecretStore",
    "SecretStoreConflict",
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
