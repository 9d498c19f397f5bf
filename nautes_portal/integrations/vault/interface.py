"""What the portal asks of a secret store: the `SecretStore` protocol."""

from __future__ import annotations

from typing import Any, Protocol


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

    # -- Kubernetes auth (one mount per runtime cluster, one role per runtime account) --------
    def auth_mounts(self) -> dict[str, str]:
        """Every enabled auth method: mount path (no trailing '/') → type."""
        ...

    def ensure_kubernetes_auth(self, *, mount: str, host: str, ca_pem: str) -> bool:
        """Enable and configure a `kubernetes` auth method at `auth/<mount>`; return whether
        anything was written. Another type of auth method there raises SecretStoreConflict."""
        ...

    def disable_kubernetes_auth(self, mount: str) -> bool:
        """Disable the `kubernetes` auth method at `auth/<mount>`; return whether it was there."""
        ...

    def ensure_kubernetes_role(
        self,
        *,
        mount: str,
        role: str,
        service_accounts: list[str],
        namespaces: list[str],
        policies: list[str],
    ) -> bool:
        """Make `auth/<mount>/role/<role>` bind exactly those service accounts and namespaces and
        grant exactly those policies; return whether it was written. Operators' roles refused."""
        ...

    def read_kubernetes_role(self, *, mount: str, role: str) -> dict[str, Any] | None:
        """The role as Vault reads it back, or None when it or its mount is absent."""
        ...

    def delete_kubernetes_role(self, *, mount: str, role: str) -> bool:
        """Delete the role; return whether it was there. Operators' roles refused."""
        ...

    def list_kubernetes_roles(self, mount: str) -> list[str]:
        """The role names in `auth/<mount>` (operators' included); [] without the mount."""
        ...
