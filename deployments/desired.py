"""The exact Kubernetes objects the portal keeps in a runtime cluster for a product's runtimes.

Pure functions: they take plain values (`ProductPlacement`, `RuntimePlan`) and return object
bodies as dicts, as the Nautes runtime operator would create them (reference/nautes.md §5.8):

* namespace `product-<gid>` and the runtime namespaces, labelled with the owner label;
* RoleBinding `product-<gid>` in the product namespace: Group `<product name>` → ClusterRole
  `admin` (upstream binds `cluster-admin`; the portal never does: a namespaced RoleBinding to
  `admin` is all a product needs in its own namespaces);
* per runtime namespace a ServiceAccount `<account>` and a RoleBinding `<account>` → `admin`;
* the Argo CD AppProject `product-<gid>` in the cluster's Argo CD namespace, whose destinations
  are only the runtime namespaces the product owns on the cluster (the reconciler lists them by
  owner label) and the component namespaces the cluster's allow-list grants it;
* an Argo CD repository Secret for the manifest repository (when Vault holds a deploy key);
* the Argo CD Application `<runtime name>` with automated sync.

Which namespaces a product may use at all is `products.rules.namespace_refusal` (system
namespaces, `nautes`, other products' namespaces, the cluster's Argo CD namespace whatever the
allow-list says, and component namespaces the allow-list does not grant it are refused);
`ProductPlacement.refusal` here applies it to a placement.

HNC objects are out of scope: the product RoleBinding is written into every runtime namespace
instead (`member_role_binding`), which is what HNC propagation gives upstream. Vault roles and
the Argo CD RBAC block are `deployments.reconciler.access`. Reading the index and Vault is the
reconciler's job; nothing here touches a database or network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clusters import catalogue
from products import rules

Obj = dict[str, Any]

OWNER_LABEL = "resource.nautes.io/belongsto"
# Marks what this portal created: the reconciler lists by it and prunes only objects carrying
# both labels (an object of upstream's runtime operator has the owner label alone).
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "nautes-portal"
# The hash of the body the portal last applied: an unchanged desired object costs no write.
HASH_ANNOTATION = "portal.nautes.io/applied-hash"
IN_CLUSTER = "https://kubernetes.default.svc"
ARGOCD_GROUP = "argoproj.io"
ARGOCD_VERSION = "v1alpha1"
ARGOCD_API_VERSION = f"{ARGOCD_GROUP}/{ARGOCD_VERSION}"
RBAC_GROUP = "rbac.authorization.k8s.io"
REPOSITORY_SECRET_LABEL = "argocd.argoproj.io/secret-type"  # noqa: S105 (a label key)
# The ClusterRole every RoleBinding the portal creates refers to; never `cluster-admin`.
PRODUCT_ROLE = "admin"
DEFAULT_ARGOCD_NAMESPACE = rules.DEFAULT_ARGOCD_NAMESPACE


@dataclass(frozen=True)
class RuntimePlan:
    """One DeploymentRuntime as the reconciler applies it (defaults already resolved)."""

    name: str
    namespaces: tuple[str, ...]
    account: str
    repo_id: str  # `repo-<pid>` of the manifest repository
    repo_url: str
    path: str
    revision: str
    # Git confirmed `repo_id` as this product's own project (`products.adoption`): only then
    # may its deploy key be handed to Argo CD.
    repo_verified: bool = False
    repo_found: bool = False  # the product has a code repository of that name

    @property
    def destination_namespace(self) -> str:
        """Argo CD deploys into the first runtime namespace (as the runtime operator does)."""
        return self.namespaces[0]


@dataclass(frozen=True)
class ProductPlacement:
    """A product on one cluster: every runtime of the product hosted there, plus cluster rules."""

    product_name: str  # the Git group path: the RBAC group and the key of the cluster's rules
    product_id: str  # `product-<gid>`
    argocd_namespace: str
    runtimes: tuple[RuntimePlan, ...] = ()
    reserved_namespaces: tuple[str, ...] = ()  # component namespaces that allow this product
    cluster_resources: tuple[Mapping[str, str], ...] = field(default=())
    # Every namespace the cluster reserves (components, allow-list keys), allowed or not.
    cluster_reserved: frozenset[str] = frozenset()

    @property
    def owner(self) -> tuple[str, str]:
        """The owner label every object carries; the kube adapter refuses objects without it."""
        return (OWNER_LABEL, self.product_id)

    @property
    def labels(self) -> dict[str, str]:
        return {OWNER_LABEL: self.product_id, MANAGED_BY_LABEL: MANAGED_BY}

    def runtime(self, name: str) -> RuntimePlan | None:
        return next((r for r in self.runtimes if r.name == name), None)

    def runtime_namespaces(self) -> list[str]:
        """Every namespace of this product's runtimes on the cluster, sorted, no duplicates."""
        return sorted({ns for runtime in self.runtimes for ns in runtime.namespaces})

    def refusal(self, namespace: str) -> rules.NamespaceRefusal | None:
        """Why the product may not use `namespace` on this cluster (None: it may)."""
        return rules.namespace_refusal(
            namespace,
            product_id=self.product_id,
            reserved=self.cluster_reserved,
            allowed=self.reserved_namespaces,
            argocd_namespace=self.argocd_namespace,
        )

    def shared(self, namespace: str) -> bool:
        """A component namespace the allow-list grants the product: used, never owned."""
        return namespace in self.reserved_namespaces

    def destinations(self, owned: Iterable[str]) -> list[str]:
        """AppProject destinations: the runtime namespaces the product owns on the cluster
        (`owned`: those labelled for it there) and the component namespaces granted to it."""
        owned = set(owned)
        wanted = {ns for ns in self.runtime_namespaces() if ns in owned}
        wanted |= set(self.reserved_namespaces)
        return sorted(ns for ns in wanted if self.refusal(ns) is None)


# ---- Defaults (reference/nautes.md §2.8) -------------------------------------
def runtime_namespaces(name: str, namespaces: Sequence[str] | None) -> tuple[str, ...]:
    """`destination.namespaces`, defaulting to `[<runtime name>]`; order kept, no duplicates."""
    return tuple(dict.fromkeys(ns for ns in (namespaces or ()) if ns)) or (name,)


def runtime_account(name: str, account: str | None) -> str:
    """`spec.account`, defaulting to the runtime name."""
    return account or name


def argocd_namespace(components_list: Mapping[str, Any] | None) -> str:
    """The Argo CD namespace of a cluster: `components_list.deployment.namespace` or `argocd`."""
    return catalogue.argocd_namespace(components_list)


def component_namespaces(
    components_list: Mapping[str, Any] | None, reserved: Mapping[str, Any] | None
) -> frozenset[str]:
    """Namespaces of the cluster's components (Argo CD, Tekton...): never created or deleted by
    the portal, even when a runtime deploys into one its product is allowed to use."""
    names = rules.reserved_namespaces(components_list, reserved)
    return names | {argocd_namespace(components_list)}


def reserved_namespaces_for(
    product_name: str,
    allowed: Mapping[str, Any] | None,
    product_id: str,
    components_list: Mapping[str, Any] | None,
) -> tuple[str, ...]:
    """Component namespaces whose allow-list (`reserved_namespaces_allowed_products`) names the
    product; never a system namespace, `nautes`, another product's or the cluster's Argo CD
    namespace, whatever the list says."""
    granted = rules.allowed_namespaces(
        product_name, product_id, allowed, argocd_namespace=argocd_namespace(components_list)
    )
    return tuple(sorted(granted))


def cluster_resources_for(
    product_name: str, allowed: Mapping[str, Any] | None
) -> tuple[dict[str, str], ...]:
    """`product_allowed_cluster_resources[<product name>]` as AppProject whitelist entries."""
    items = (allowed or {}).get(product_name) or []
    return tuple(
        {"group": str(item.get("group") or ""), "kind": str(item.get("kind") or "")}
        for item in items
        if isinstance(item, Mapping) and item.get("kind")
    )


# ---- Objects ------------------------------------------------------------------
def namespace(placement: ProductPlacement, name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": placement.labels},
    }


def product_namespace(placement: ProductPlacement) -> Obj:
    """Namespace `product-<gid>`: holds the product RoleBinding."""
    return namespace(placement, placement.product_id)


def product_role_binding(placement: ProductPlacement) -> Obj:
    """RoleBinding `product-<gid>`: the product's Git group administers the product namespace."""
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "RoleBinding",
        "metadata": {
            "name": placement.product_id,
            "namespace": placement.product_id,
            "labels": placement.labels,
        },
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": PRODUCT_ROLE},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": placement.product_name}],
    }


def member_role_binding(placement: ProductPlacement, ns: str) -> Obj:
    """RoleBinding `product-<gid>` in a runtime namespace: the product's group (the OIDC group
    claim `<product name>`) administers it, as HNC propagates the product RoleBinding upstream."""
    body = product_role_binding(placement)
    body["metadata"]["namespace"] = ns
    return body


def service_account(placement: ProductPlacement, runtime: RuntimePlan, ns: str) -> Obj:
    """ServiceAccount `<account>`: the runtime's machine identity in one of its namespaces."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": runtime.account, "namespace": ns, "labels": placement.labels},
    }


def account_role_binding(placement: ProductPlacement, runtime: RuntimePlan, ns: str) -> Obj:
    """RoleBinding `<account>`: the runtime account administers its namespace."""
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "RoleBinding",
        "metadata": {"name": runtime.account, "namespace": ns, "labels": placement.labels},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": PRODUCT_ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": runtime.account, "namespace": ns}],
    }


def source_repos(runtimes: Iterable[RuntimePlan]) -> list[str]:
    return sorted({runtime.repo_url for runtime in runtimes if runtime.repo_url})


def app_project(placement: ProductPlacement, owned: Iterable[str]) -> Obj:
    """AppProject `product-<gid>`: where and from which repositories the product may deploy.

    `owned`: the namespaces labelled for the product on the cluster; see `destinations`.
    """
    namespaces = placement.destinations(owned)
    return {
        "apiVersion": ARGOCD_API_VERSION,
        "kind": "AppProject",
        "metadata": {
            "name": placement.product_id,
            "namespace": placement.argocd_namespace,
            "labels": placement.labels,
        },
        "spec": {
            "description": f"Nautes product {placement.product_name}",
            "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in namespaces],
            "sourceRepos": source_repos(placement.runtimes),
            "clusterResourceWhitelist": [dict(item) for item in placement.cluster_resources],
        },
    }


def repository_secret_name(repo_id: str) -> str:
    """The Argo CD repository Secret of a manifest repository: named after its Nautes id."""
    return repo_id


def repository_secret(placement: ProductPlacement, runtime: RuntimePlan, ssh_key: str) -> Obj:
    """An Argo CD repository Secret with the read-only deploy key, scoped to the AppProject.

    The key only ever lives in this body on its way to the cluster: never log or store it.
    """
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": repository_secret_name(runtime.repo_id),
            "namespace": placement.argocd_namespace,
            "labels": {**placement.labels, REPOSITORY_SECRET_LABEL: "repository"},
        },
        "type": "Opaque",
        "stringData": {
            "type": "git",
            "url": runtime.repo_url,
            "project": placement.product_id,
            "sshPrivateKey": ssh_key,
        },
    }


def application(placement: ProductPlacement, runtime: RuntimePlan) -> Obj:
    """Application `<runtime name>`: syncs the manifest path into the first runtime namespace."""
    return {
        "apiVersion": ARGOCD_API_VERSION,
        "kind": "Application",
        "metadata": {
            "name": runtime.name,
            "namespace": placement.argocd_namespace,
            "labels": placement.labels,
        },
        "spec": {
            "project": placement.product_id,
            "source": {
                "repoURL": runtime.repo_url,
                "path": runtime.path,
                "targetRevision": runtime.revision or "HEAD",
            },
            "destination": {"server": IN_CLUSTER, "namespace": runtime.destination_namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
    }


def sync_operation(username: str) -> Obj:
    """The `operation` Argo CD runs when set on an Application: a sync, as its docs show.

    (`kubectl patch app <name> --type merge -p '{"operation": {"initiatedBy": {"username":
    ...}, "sync": {"syncStrategy": {"hook": {}}}}}'`.)
    """
    return {
        "initiatedBy": {"username": username},
        "sync": {"prune": True, "syncStrategy": {"hook": {}}},
    }
