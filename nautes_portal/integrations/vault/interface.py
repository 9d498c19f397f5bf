"""What the portal asks of a secret store: the `SecretStore` protocol."""

from __future__ import annotations

from typing import Protocol


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
