"""The runtime accounts' rights in Vault, as upstream names them (reference/nautes.md §5.8
step 4, §5.10): per runtime cluster a Kubernetes auth mount `auth/<cluster>` configured with
the cluster's API server and CA; per runtime account a role `auth/<cluster>/role/<account>`
bound to ServiceAccount `<account>` in the account's runtime namespaces, with the read
policy of each manifest repository's read-only deploy key (`gitlab-repo-<pid>-default-
readonly`, written with the key by `products.repo_provisioning`) — only for a code repository
Git confirmed as the product's own (#12).

Vault roles carry no owner: the portal remembers which roles (and whether the mount) it wrote
(`ClusterReconcile.vault_roles`, `vault_mount`) and removes only those. An account name used by
two products on one cluster is the first product's (the other is reported); upstream's
operator roles (API, ARGO, ...) are never written or removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from django.utils import timezone

from clusters.models import Cluster
from deployments.models import ClusterReconcile
from nautes_portal.integrations.kube.kubeconfig import kubeconfig_ca_pem
from nautes_portal.integrations.vault import (
    OPERATOR_ROLES,
    cluster_kubeconfig_location,
    repo_secret_location,
    secret_store,
)
from nautes_portal.integrations.vault.auth_rules import check_namespace, check_service_account

# How long an unchanged cluster goes without reading Vault back (a role deleted by hand is
# written again within this time).
FULL_CHECK = dt.timedelta(hours=1)


@dataclass(frozen=True)
class AccountRole:
    name: str
    namespaces: tuple[str, ...]
    policies: tuple[str, ...]


def wanted_roles(admitted: dict[str, Any]) -> tuple[dict[str, AccountRole], list[str]]:
    """The roles the admitted runtimes need, and the accounts refused: one an earlier product
    uses on the cluster, or one named like an operator role."""
    roles: dict[str, AccountRole] = {}
    owners: dict[str, str] = {}
    refused: list[str] = []
    for product in admitted.get("products", []):
        for account, spec in sorted(product["accounts"].items()):
            try:
                check_service_account(account)
                for namespace in spec["namespaces"]:
                    check_namespace(namespace)
            except ValueError as exc:
                refused.append(
                    f"account {account} of product {product['name']} gets no Vault role: {exc}"
                )
                continue
            if account.upper() in OPERATOR_ROLES:
                refused.append(
                    f"account {account} of product {product['name']} gets no Vault role: "
                    "upstream's operators own roles of that name"
                )
                continue
            if owners.get(account, product["name"]) != product["name"]:
                refused.append(
                    f"account {account} of product {product['name']} gets no Vault role: "
                    "another product uses that account name on this cluster"
                )
                continue
            owners[account] = product["name"]
            policies = tuple(
                sorted(repo_secret_location(repo, "readonly").policy_name for repo in spec["repos"])
            )
            roles[account] = AccountRole(account, tuple(sorted(spec["namespaces"])), policies)
    return roles, refused


def reconcile_vault(cluster: Cluster, record: ClusterReconcile) -> str:
    """Write the mount and roles the cluster needs, remove those the portal wrote before and
    nobody needs now. Returns a detail for the operation log.

    A mount the portal did not create (upstream's cluster-operator makes `auth/<cluster>` with
    its own token reviewer) is used as it is: never reconfigured, never disabled.
    """
    roles, refused = wanted_roles(record.admitted)
    digest = _digest(cluster, roles)
    now = timezone.now()
    if (
        digest == record.vault_hash
        and record.vault_checked_at is not None
        and now - record.vault_checked_at < FULL_CHECK
    ):
        # What the last step wrote is still what is wanted: no Vault request. Vault itself is
        # read back (and repaired) at most FULL_CHECK apart.
        detail = f"Vault auth/{cluster.name}: {len(roles)} runtime account role(s) unchanged"
        return detail + ("; " + "; ".join(refused) if refused else "")
    store = secret_store()
    mount = cluster.name
    written = removed = 0
    notes = list(refused)
    kind = store.auth_mounts().get(mount)
    usable = kind == "kubernetes"
    if roles and kind is not None and kind != "kubernetes":
        notes.append(f"auth/{mount} is a {kind} mount, not kubernetes; no role written")
    elif roles and (kind is None or record.vault_mount):
        ca_pem = _cluster_ca(cluster)
        if not ca_pem or not cluster.api_server.startswith("https://"):
            notes.append(
                f"no Kubernetes auth for cluster {cluster.name}: Vault needs its https API "
                "server and CA certificate, and its kubeconfig has none"
            )
        else:
            written += store.ensure_kubernetes_auth(
                mount=mount, host=cluster.api_server, ca_pem=ca_pem
            )
            usable = True
            if not record.vault_mount:
                record.vault_mount = True
                record.save(update_fields=["vault_mount"])
    if usable:
        for role in roles.values():
            written += store.ensure_kubernetes_role(
                mount=mount,
                role=role.name,
                service_accounts=[role.name],
                namespaces=list(role.namespaces),
                policies=list(role.policies),
            )
        for name in sorted(set(record.vault_roles) - set(roles)):
            removed += store.delete_kubernetes_role(mount=mount, role=name)
        record.vault_roles = sorted(roles)
    if not roles and record.vault_mount:
        removed += store.disable_kubernetes_auth(mount)
        record.vault_mount = False
        record.vault_roles = []
    # Remembered only when Vault holds what is wanted (not when a missing CA stopped it).
    record.vault_hash = digest if usable or not roles else ""
    record.vault_checked_at = now
    record.save(update_fields=["vault_roles", "vault_mount", "vault_hash", "vault_checked_at"])
    detail = (
        f"Vault auth/{mount}: {len(roles) if usable else 0} runtime account role(s); "
        f"{written} written, {removed} removed"
    )
    return detail + ("; " + "; ".join(notes) if notes else "")


def _digest(cluster: Cluster, roles: dict[str, AccountRole]) -> str:
    wanted = {
        "server": cluster.api_server,
        "roles": [asdict(role) for _, role in sorted(roles.items())],
    }
    return hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()


def _cluster_ca(cluster: Cluster) -> str:
    location = cluster_kubeconfig_location(cluster.name)
    kubeconfig = (secret_store().read(engine=location.engine, path=location.path) or {}).get(
        "kubeconfig", ""
    )
    return kubeconfig_ca_pem(kubeconfig) if kubeconfig else ""
