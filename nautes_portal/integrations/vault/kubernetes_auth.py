"""Vault Kubernetes auth for runtime clusters, as upstream Nautes lays it out.

Per runtime cluster a `kubernetes` auth method at `auth/<cluster>` (the cluster's API server and
CA); per runtime account a role `auth/<cluster>/role/<account>` bound to that service account in
the runtime's namespaces, with the read-only policies it needs (the cluster-operator and the
runtime-operator do this upstream). Every write is preceded by a read: nothing is written when
Vault already holds it, and the `ensure_*` methods say whether they wrote.

The portal never reconfigures, disables or writes into an auth method of another type found at
such a path, and never touches the operators' roles (`OPERATOR_ROLES`).
"""

from __future__ import annotations

import logging
from typing import Any

import hvac.exceptions

from nautes_portal.integrations.vault.auth_rules import (
    KUBERNETES_AUTH_TYPE,
    check_account_role,
    check_auth_mount,
    check_kubernetes_host,
    check_namespace,
    check_service_account,
    normalize_ca_pem,
)
from nautes_portal.integrations.vault.errors import SecretStoreConflict, SecretStoreError
from nautes_portal.integrations.vault.policies import _check_policy_name
from nautes_portal.integrations.vault.transport import VaultTransport, _Missing

logger = logging.getLogger(__package__)

# What the portal writes into a role, compared with what Vault reads back. The selector must stay
# empty: a namespace selector would bind the role to namespaces beyond the runtime's.
_ROLE_LISTS = (
    "bound_service_account_names",
    "bound_service_account_namespaces",
    "token_policies",
)
_ROLE_SELECTOR = "bound_service_account_namespace_selector"


class KubernetesAuth(VaultTransport):
    """The Kubernetes auth half of `HvacSecretStore` (mounts, their config, account roles)."""

    def auth_mounts(self) -> dict[str, str]:
        """Every enabled auth method: mount path (no trailing '/') → type."""
        response = self._call(
            "list auth methods", "sys/auth", lambda: self._client.adapter.get("/v1/sys/auth")
        )
        mounts = (response or {}).get("data") or {}
        return {
            str(path).rstrip("/"): str((details or {}).get("type", ""))
            for path, details in mounts.items()
            if isinstance(details, dict)
        }

    def ensure_kubernetes_auth(self, *, mount: str, host: str, ca_pem: str) -> bool:
        """Enable a `kubernetes` auth method at `auth/<mount>` when absent and configure it with
        the API server `host` and its CA; return whether anything was written.

        Vault's local CA and token are turned off (`disable_local_ca_jwt`): the portal does not
        run inside that cluster. No token reviewer JWT is set, so Vault reviews each login token
        with itself. Writing the config replaces it whole: a reviewer JWT set later is dropped
        when host or CA change here. Raises SecretStoreConflict when another type of auth method
        is at that path (left as it is) and ValueError for a bad mount, host or CA.
        """
        check_auth_mount(mount)
        check_kubernetes_host(host)
        ca_cert = normalize_ca_pem(mount, ca_pem)
        wrote = self._enable_kubernetes_auth(mount)
        wanted = {
            "kubernetes_host": host,
            "kubernetes_ca_cert": ca_cert,
            "disable_local_ca_jwt": True,
        }
        current = self._read(f"auth/{mount}/config", "read the configuration of") or {}
        if all(current.get(key) == value for key, value in wanted.items()):
            return wrote
        self._call(
            "configure",
            f"auth/{mount}",
            lambda: self._client.adapter.post(f"/v1/auth/{mount}/config", json=wanted),
        )
        logger.info("Configured Kubernetes auth auth/%s in Vault at %s", mount, self.url)
        return True

    def disable_kubernetes_auth(self, mount: str) -> bool:
        """Disable the `kubernetes` auth method at `auth/<mount>` and every role in it; return
        whether it was there. Raises SecretStoreConflict for another type of auth method."""
        check_auth_mount(mount)
        if self._kubernetes_mount_type(mount) is None:
            return False
        self._call(
            "disable",
            f"auth/{mount}",
            lambda: self._client.adapter.delete(f"/v1/sys/auth/{mount}"),
        )
        logger.info("Disabled Kubernetes auth auth/%s in Vault at %s", mount, self.url)
        return True

    def ensure_kubernetes_role(
        self,
        *,
        mount: str,
        role: str,
        service_accounts: list[str],
        namespaces: list[str],
        policies: list[str],
    ) -> bool:
        """Make `auth/<mount>/role/<role>` bind exactly those service accounts in exactly those
        namespaces and grant exactly those policies; return whether it was written.

        The mount must be a `kubernetes` auth method (SecretStoreConflict otherwise, as for an
        operator's role name; SecretStoreError when none is enabled there). Other role settings
        (TTLs, ...) are left as they are.
        """
        check_auth_mount(mount)
        check_account_role(mount, role)
        if not service_accounts or not namespaces:
            raise ValueError("a role needs at least one service account and one namespace")
        for name in service_accounts:
            check_service_account(name)
        for namespace in namespaces:
            check_namespace(namespace)
        for policy in policies:
            _check_policy_name(policy)
        wanted: dict[str, Any] = {
            "bound_service_account_names": sorted(set(service_accounts)),
            "bound_service_account_namespaces": sorted(set(namespaces)),
            "token_policies": sorted(set(policies)),
        }
        if self._kubernetes_mount_type(mount) is None:
            raise self._not_enabled(mount)
        current = self._read(f"auth/{mount}/role/{role}", "read role")
        if current is not None and _role_matches(current, wanted):
            return False
        body = {**wanted, _ROLE_SELECTOR: ""}
        self._call(
            "write role",
            f"auth/{mount}/role/{role}",
            lambda: self._client.adapter.post(f"/v1/auth/{mount}/role/{role}", json=body),
        )
        logger.info(
            "Wrote Kubernetes auth role auth/%s/role/%s in Vault at %s", mount, role, self.url
        )
        return True

    def read_kubernetes_role(self, *, mount: str, role: str) -> dict[str, Any] | None:
        """The role as Vault reads it back, or None when it or its mount is absent."""
        check_auth_mount(mount)
        check_account_role(mount, role)
        if self._kubernetes_mount_type(mount) is None:
            return None
        return self._read(f"auth/{mount}/role/{role}", "read role")

    def delete_kubernetes_role(self, *, mount: str, role: str) -> bool:
        """Delete the role; return whether it was there (an absent role or mount is fine)."""
        if self.read_kubernetes_role(mount=mount, role=role) is None:
            return False
        self._call(
            "delete role",
            f"auth/{mount}/role/{role}",
            lambda: self._client.adapter.delete(f"/v1/auth/{mount}/role/{role}"),
        )
        logger.info(
            "Deleted Kubernetes auth role auth/%s/role/%s in Vault at %s", mount, role, self.url
        )
        return True

    def list_kubernetes_roles(self, mount: str) -> list[str]:
        """The names of the roles in `auth/<mount>`, operators' included; [] without the mount."""
        check_auth_mount(mount)
        if self._kubernetes_mount_type(mount) is None:
            return []
        try:
            response = self._call(
                "list roles",
                f"auth/{mount}/role",
                lambda: self._client.adapter.list(f"/v1/auth/{mount}/role"),
                missing=(hvac.exceptions.InvalidPath,),
            )
        except _Missing:  # a mount without roles answers 404
            return []
        return sorted(str(key) for key in ((response or {}).get("data") or {}).get("keys") or [])

    # -- Helpers -------------------------------------------------------------
    def _kubernetes_mount_type(self, mount: str) -> str | None:
        """`kubernetes` when that auth method is at `auth/<mount>`, None when none is; raises
        SecretStoreConflict for another type."""
        kind = self.auth_mounts().get(mount)
        if kind is not None and kind != KUBERNETES_AUTH_TYPE:
            raise SecretStoreConflict(
                f"auth/{mount} is a {kind} mount, not kubernetes; the portal never reconfigures "
                "it. Disable or move that auth method in Vault, or use another cluster name."
            )
        return kind

    def _enable_kubernetes_auth(self, mount: str) -> bool:
        if self._kubernetes_mount_type(mount) is not None:
            return False
        try:
            self._call(
                "enable",
                f"auth/{mount}",
                lambda: self._client.adapter.post(
                    f"/v1/sys/auth/{mount}",
                    json={
                        "type": KUBERNETES_AUTH_TYPE,
                        "description": "Nautes runtime cluster (enabled by the Nautes portal)",
                    },
                ),
                missing=(hvac.exceptions.InvalidRequest,),
            )
        except _Missing:
            # "path is already in use": enabled concurrently; what is there must be kubernetes.
            if self._kubernetes_mount_type(mount) is None:
                raise self._not_enabled(mount) from None
            return False
        logger.info("Enabled Kubernetes auth auth/%s in Vault at %s", mount, self.url)
        return True

    def _read(self, path: str, action: str) -> dict[str, Any] | None:
        try:
            response = self._call(
                action,
                path,
                lambda: self._client.adapter.get(f"/v1/{path}"),
                missing=(hvac.exceptions.InvalidPath,),
            )
        except _Missing:
            return None
        data = (response or {}).get("data")
        return dict(data) if isinstance(data, dict) else None

    def _not_enabled(self, mount: str) -> SecretStoreError:
        return SecretStoreError(
            f"Vault at {self.url} has no Kubernetes auth method at auth/{mount}; enable it "
            "(ensure_kubernetes_auth) before writing its roles.",
            retryable=False,
        )


def _role_matches(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether Vault's role already binds and grants exactly what is wanted (order aside)."""
    for key in _ROLE_LISTS:
        value = current.get(key) or []
        if not isinstance(value, list) or sorted({str(item) for item in value}) != wanted[key]:
            return False
    return not current.get(_ROLE_SELECTOR)
