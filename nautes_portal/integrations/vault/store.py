"""`HvacSecretStore`: the SecretStore on Vault/OpenBao (secrets, policies, KV v2 engines, and
Kubernetes auth through `KubernetesAuth`)."""

from __future__ import annotations

import logging

import hvac
import hvac.exceptions
import requests

from nautes_portal.integrations.vault.errors import (
    SecretStoreError,
    SecretStoreForbidden,
    SecretStoreSealed,
    SecretStoreUnavailable,
)
from nautes_portal.integrations.vault.interface import SecretStore
from nautes_portal.integrations.vault.kubernetes_auth import KubernetesAuth
from nautes_portal.integrations.vault.locations import KV_ENGINES, _check_location, _check_segment
from nautes_portal.integrations.vault.policies import _check_policy_name, policy_document
from nautes_portal.integrations.vault.transport import _Missing

# The package's logger: one name for the whole adapter, as before the split.
logger = logging.getLogger(__package__)

# A key the portal never writes: reading it tells whether an engine answers at all.
_PROBE_PATH = "nautes-portal-readiness-probe"


class HvacSecretStore(KubernetesAuth):
    """SecretStore on a Vault/OpenBao server through hvac (token or AppRole login); its
    Kubernetes auth methods come from `KubernetesAuth`."""

    def __repr__(self) -> str:
        auth = "approle" if self._role_id else "token"
        return f"HvacSecretStore(url={self.url!r}, auth={auth})"

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


# Static check that HvacSecretStore satisfies the protocol.
_PROTOCOL_CHECK: type[SecretStore] = HvacSecretStore
