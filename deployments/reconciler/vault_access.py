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

from dataclasses import dataclass
from typing import Any

from clusters.models import Cluster
from deployments.models import ClusterReconcile
from nautes_portal.integrations.vault import (
    cluster_kubeconfig_location,
    repo_secret_location,
    secret_store,
)


@dataclass(frozen=True)
class AccountRole:
    name: str
    namespaces: tuple[str, ...]
    policies: tuple[str, ...]


def wanted_roles(admitted: dict[str, Any]) -> tuple[dict[str, AccountRole], list[str]]:
    """The roles the admitted runtimes need, and the accounts refused (used by an earlier
    product on the cluster)."""
    roles: dict[str, AccountRole] = {}
    owners: dict[str, str] = {}
    refused: list[str] = []
    for product in admitted.get("products", []):
        for account, spec in sorted(product["accounts"].items()):
            if owners.get(account, product["name"]) != product["name"]:
                refused.append(
                    f"account {account} of product {product['name']} gets no Vault role: "
                    f"product {owners[account]} uses that account name on this cluster"
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
    nobody needs now. Returns a detail for the operation log."""
    store = secret_store()
    if not hasattr(store, "ensure_kubernetes_auth"):  # TEMPORARY until the adapter lands
        return "TEMP"
    roles, refused = wanted_roles(record.admitted)
    mount = cluster.name
    written = removed = 0
    if roles:
        from nautes_portal.integrations.kube.kubeconfig import kubeconfig_ca_pem

        location = cluster_kubeconfig_location(cluster.name)
        kubeconfig = (store.read(engine=location.engine, path=location.path) or {}).get(
            "kubeconfig", ""
        )
        if store.ensure_kubernetes_auth(
            mount=mount, host=cluster.api_server, ca_pem=kubeconfig_ca_pem(kubeconfig)
        ):
            written += 1
        if not record.vault_mount:
            record.vault_mount = True
            record.save(update_fields=["vault_mount"])
        for role in roles.values():
            if store.ensure_kubernetes_role(
                mount=mount,
                role=role.name,
                service_accounts=[role.name],
                namespaces=list(role.namespaces),
                policies=list(role.policies),
            ):
                written += 1
    for name in sorted(set(record.vault_roles) - set(roles)):
        if store.delete_kubernetes_role(mount=mount, role=name):
            removed += 1
    record.vault_roles = sorted(roles)
    if not roles and record.vault_mount:
        store.disable_kubernetes_auth(mount)
        record.vault_mount = False
        removed += 1
    record.save(update_fields=["vault_roles", "vault_mount"])
    detail = (
        f"Vault auth/{mount}: {len(roles)} runtime account role(s); {written} written, "
        f"{removed} removed"
    )
    if refused:
        detail += "; " + "; ".join(refused)
    return detail
