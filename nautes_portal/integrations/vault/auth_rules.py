"""The names and values the portal accepts for Vault Kubernetes auth mounts and roles.

Mount, role, namespace and service account names are interpolated into Vault URLs: each is held
to the Kubernetes name alphabet it stands for (no `*`, `/`, `..` or upper case), so nothing can
widen a role's bindings or reach another path.
"""

from __future__ import annotations

import re
import ssl
from urllib.parse import urlsplit

from nautes_portal.integrations.vault.errors import SecretStoreConflict, SecretStoreError

# Upstream's operators own these roles in every cluster's mount (`Secret.OperatorName`).
OPERATOR_ROLES: frozenset[str] = frozenset({"API", "ARGO", "BASE", "CLUSTER", "REPO", "RUNTIME"})
KUBERNETES_AUTH_TYPE = "kubernetes"

# A DNS-1123 label (cluster names, namespaces) and subdomain (service accounts, hence accounts).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_LABEL_MAX = 63
_SUBDOMAIN_MAX = 253


def check_auth_mount(mount: str) -> None:
    """An auth mount is named after its cluster: a DNS-1123 label (lower case, digits, '-')."""
    _check_label(mount, "auth mount")


def check_namespace(namespace: str) -> None:
    """A namespace a role is bound to: a DNS-1123 label."""
    _check_label(namespace, "namespace")


def check_service_account(name: str) -> None:
    """A service account a role is bound to: a DNS-1123 subdomain."""
    _check_subdomain(name, "service account name")


def check_account_role(mount: str, role: str) -> None:
    """A runtime account's role: a DNS-1123 subdomain (the account's service account name) that
    is none of the operators' roles, in any case."""
    if role.upper() in OPERATOR_ROLES:
        raise SecretStoreConflict(
            f"auth/{mount}/role/{role} is the role of a Nautes operator "
            f"({', '.join(sorted(OPERATOR_ROLES))}, in any case); the operators own those roles "
            "and the portal never reads, writes or deletes them: choose another account name."
        )
    _check_subdomain(role, "role name")


def check_kubernetes_host(host: str) -> None:
    """The API server Vault sends login tokens to for review: an https:// URL with a host, no
    user-info, query or fragment (a token must never travel in clear or to another place)."""
    try:
        parts = urlsplit(host)
        valid = (
            parts.scheme == "https"
            and bool(parts.hostname)
            and "@" not in parts.netloc
            and not parts.query
            and not parts.fragment
            and not any(char.isspace() for char in host)
        )
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(
            "invalid Kubernetes API server address: it must be an https:// URL with a host and "
            "no user-info, query or fragment"
        )


def normalize_ca_pem(mount: str, ca_pem: str) -> str:
    """The CA bundle Vault verifies the API server with: loadable PEM, ending in one newline.

    Required: Vault refuses to go without one once its local CA and token are off (they are, as
    the portal does not run inside that cluster; they would be the wrong cluster's).
    """
    pem = ca_pem.strip()
    if not pem:
        raise SecretStoreError(
            f"Vault's Kubernetes auth at auth/{mount} needs the API server's CA certificate and "
            "the cluster's kubeconfig has none (no certificate-authority-data, or "
            "insecure-skip-tls-verify): add the CA to the kubeconfig and save the cluster again.",
            retryable=False,
        )
    try:
        ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError):
        raise ValueError(f"the CA certificate for auth/{mount} is not loadable PEM") from None
    return pem + "\n"


def _check_label(value: str, what: str) -> None:
    if len(value) > _LABEL_MAX or not _DNS_LABEL.match(value):
        raise ValueError(
            f"invalid {what} {value!r}: a DNS-1123 label (at most {_LABEL_MAX} lower-case "
            "letters, digits and '-', starting and ending with a letter or digit)"
        )


def _check_subdomain(value: str, what: str) -> None:
    if len(value) > _SUBDOMAIN_MAX or not _DNS_SUBDOMAIN.match(value):
        raise ValueError(
            f"invalid {what} {value!r}: a DNS-1123 subdomain (at most {_SUBDOMAIN_MAX} "
            "lower-case letters, digits, '-' and '.')"
        )
