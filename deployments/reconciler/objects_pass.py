"""One pass over a cluster's objects: observe, admit, write what differs, prune what is gone.

Observation is one list per kind (the objects carrying an owner label, and every namespace),
never a read per object, so an unchanged cluster costs seven requests and no write. Writes go
in creation order (namespaces first: what the product owns decides where RBAC may go), then
the objects nobody wants any more are deleted, Applications first and namespaces last. Only
objects carrying both the owner label and this portal's `managed-by` label are ever deleted;
an object of the same name owned by someone else is a conflict on the runtime that wanted it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from clusters.models import Cluster
from deployments import desired
from deployments.models import PassResult, RuntimeStatus
from deployments.reconciler import objects
from deployments.reconciler.objects import KINDS, PRUNE_ORDER, Desired, Key, Obj
from deployments.reconciler.state import ClusterState, ProductOnCluster, cluster_state
from nautes_portal.integrations.kube import ClusterApi, ClusterConflict, ClusterError
from nautes_portal.integrations.vault import repo_secret_location, secret_store


@dataclass
class PassReport:
    state: ClusterState
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return self.created + self.updated + self.deleted

    def summary(self) -> str:
        runtimes = len(self.state.outcomes)
        text = (
            f"{runtimes} runtime(s) on cluster {self.state.cluster.name}: {self.created} "
            f"created, {self.updated} updated, {self.deleted} deleted, {self.unchanged} unchanged"
        )
        refused = [o for o in self.state.outcomes.values() if not o.admitted]
        if refused:
            text += f"; {len(refused)} not applied (see each runtime)"
        return text


# ---- Observing -------------------------------------------------------------
@dataclass
class Observed:
    namespaces: dict[str, dict[str, str]]  # every namespace → its labels
    objects: dict[Key, Obj]  # every object carrying an owner label, by key
    argocd_installed: bool = True


def _list(client: ClusterApi, kind: str) -> list[Obj] | None:
    """Every object of `kind` carrying an owner label (every namespace for Namespace); None
    when the kind is Argo CD's and its CRDs are not installed."""
    group, version, plural = KINDS[kind]
    if kind == "Namespace":
        return client.list_objects(group, version, plural, None)
    try:
        return client.list_objects(group, version, plural, None, label_selector=desired.OWNER_LABEL)
    except ClusterError as exc:
        if exc.reason != "CLUSTER_RESOURCE_MISSING" or group != desired.ARGOCD_GROUP:
            raise
        return None


def observe(client: ClusterApi) -> Observed:
    """The six lists at once: a pass waits one round trip, not six (the client's
    connection pool holds ten connections a cluster)."""
    with ThreadPoolExecutor(max_workers=len(KINDS), thread_name_prefix="observe") as pool:
        lists = dict(zip(KINDS, pool.map(lambda kind: _list(client, kind), KINDS), strict=True))
    namespaces: dict[str, dict[str, str]] = {}
    found: dict[Key, Obj] = {}
    for ns in lists.pop("Namespace") or []:
        labels = dict((ns.get("metadata") or {}).get("labels") or {})
        namespaces[str(ns["metadata"]["name"])] = labels
        if desired.OWNER_LABEL in labels:
            found[objects.key_of(ns)] = ns
    argocd_installed = True
    for kind, items in lists.items():
        if items is None:
            argocd_installed = False  # no Argo CD CRDs: nothing of its kinds
            continue
        for item in items:
            item["kind"] = kind
            found[objects.key_of(item)] = item
    return Observed(namespaces=namespaces, objects=found, argocd_installed=argocd_installed)


def _application_owners(observed: Observed, argocd_namespace: str) -> dict[str, str]:
    return {
        name: str(((obj.get("metadata") or {}).get("labels") or {}).get(desired.OWNER_LABEL))
        for (kind, ns, name), obj in observed.objects.items()
        if kind == "Application" and ns == argocd_namespace
    }


def _owner(obj: Mapping[str, Any]) -> str:
    return str(((obj.get("metadata") or {}).get("labels") or {}).get(desired.OWNER_LABEL) or "")


def _managed(obj: Mapping[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(desired.OWNER_LABEL)) and (
        labels.get(desired.MANAGED_BY_LABEL) == desired.MANAGED_BY
    )


# ---- The pass ----------------------------------------------------------------
def reconcile_objects(client: ClusterApi, cluster: Cluster) -> PassReport:
    """Make the cluster hold what the index wants; return what was done."""
    observed = observe(client)
    argocd_namespace = desired.argocd_namespace(cluster.components_list)
    state = cluster_state(
        cluster, observed.namespaces, _application_owners(observed, argocd_namespace)
    )
    report = PassReport(state=state)
    if not observed.argocd_installed:
        _hold_all(
            state,
            f"Argo CD is not installed on cluster {cluster.name} (no Application "
            "CRD); install it (or prepare the cluster), then the next pass applies this",
        )
    wanted: set[Key] = set()
    for entry in state.products:
        namespaces = objects.namespace_objects(entry.placement, entry.product.pk)
        _write(client, observed, namespaces, report, wanted)
    for entry in _still_admitted(state):
        owned = {
            name
            for name, labels in observed.namespaces.items()
            if labels.get(desired.OWNER_LABEL) == entry.placement.product_id
        } | {key[2] for key in wanted if key[0] == "Namespace"}
        bodies = objects.access_objects(entry.placement, entry.product.pk, owned)
        bodies += _repository_secrets(entry)
        bodies.sort(key=lambda d: list(KINDS).index(d.kind))
        _write(client, observed, bodies, report, wanted)
    _prune(client, observed, wanted | _held(state, observed, argocd_namespace), report)
    return report


def _hold_all(state: ClusterState, message: str) -> None:
    """Nothing can be deployed: every runtime keeps what it has and says why."""
    for outcome in state.outcomes.values():
        if outcome.admitted:
            outcome.held = True
            outcome.refuse(PassResult.REFUSED, message)


def _still_admitted(state: ClusterState) -> list[ProductOnCluster]:
    """The products again, without the runtimes a namespace conflict stopped in this pass."""
    result = []
    for entry in state.products:
        runtimes = tuple(
            r for r in entry.placement.runtimes if state.outcome(entry.product.pk, r.name).admitted
        )
        if runtimes:
            placement = dataclasses.replace(entry.placement, runtimes=runtimes)
            result.append(ProductOnCluster(entry.product, placement))
    return result


def _write(
    client: ClusterApi,
    observed: Observed,
    bodies: list[Desired],
    report: PassReport,
    wanted: set[Key],
) -> None:
    for item in bodies:
        if item.key in wanted:
            continue  # a second object of the same name for the product (an account named
            # like the product RoleBinding): the first one stands
        if not any(report.state.outcome(*who).admitted for who in item.runtimes):
            continue
        current = observed.objects.get(item.key)
        if current is not None and _owner(current) != item.owner:
            _conflict(
                report,
                item,
                f"{_what(item)} exists and belongs to someone else (labelled for another "
                "product); the portal did not change it",
            )
            continue
        if not objects.needs_write(current, item.body):
            wanted.add(item.key)
            report.unchanged += 1
            continue
        group, version, plural = KINDS[item.kind]
        namespace = item.body["metadata"].get("namespace")
        try:
            client.apply_owned(
                group,
                version,
                plural,
                namespace,
                item.body,
                owner_label=(desired.OWNER_LABEL, item.owner),
                current=current,
            )
        except ClusterConflict as exc:
            if exc.reason != "RESOURCE_NOT_OWNED":
                raise
            _conflict(report, item, exc.message + " The portal did not change it.")
            continue
        except ClusterError as exc:
            # The cluster refused this body (an invalid name from Git, say): it is that
            # runtime's problem, never a reason to stop the pass of every product (#14).
            if exc.reason != "CLUSTER_REJECTED":
                raise
            _refused(report, item, exc.message)
            continue
        wanted.add(item.key)
        if current is None:
            report.created += 1
        else:
            report.updated += 1
        for who in item.runtimes:
            outcome = report.state.outcome(*who)
            if outcome.admitted:
                outcome.result = PassResult.APPLIED


def _what(item: Desired) -> str:
    kind, namespace, name = item.key
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


def _conflict(report: PassReport, item: Desired, message: str) -> None:
    report.conflicts.append(message)
    for who in item.runtimes:
        outcome = report.state.outcome(*who)
        if outcome.admitted:
            outcome.refuse(PassResult.CONFLICT, message)


def _refused(report: PassReport, item: Desired, message: str) -> None:
    for who in item.runtimes:
        outcome = report.state.outcome(*who)
        if outcome.admitted:
            outcome.refuse(PassResult.REFUSED, f"{_what(item)} was refused: {message}")


def _repository_secrets(entry: ProductOnCluster) -> list[Desired]:
    """Argo CD repository Secrets with read-only deploy keys, when Vault holds a key (every
    admitted runtime's repository is verified as the product's own project, #12)."""
    by_repo: dict[str, list[str]] = {}
    plans = {}
    for runtime in entry.placement.runtimes:
        if runtime.repo_verified and not runtime.repo_url.startswith("file://"):
            by_repo.setdefault(runtime.repo_id, []).append(runtime.name)
            plans[runtime.repo_id] = runtime
    result = []
    for repo_id, users in sorted(by_repo.items()):
        location = repo_secret_location(repo_id, "readonly")
        key = (secret_store().read(engine=location.engine, path=location.path) or {}).get(
            "deploykey"
        )
        if not key:
            continue  # Argo CD reads the repository without credentials
        result.append(
            objects.repository_secret(
                entry.placement, entry.product.pk, plans[repo_id], key, tuple(users)
            )
        )
    return result


def _held(state: ClusterState, observed: Observed, argocd_namespace: str) -> set[Key]:
    """What a runtime whose file now breaks a rule keeps: its Application and the namespaces
    (with what is in them) it was deployed to. A bad push must not take a running
    deployment down; fixing the file lets the next pass apply it again."""
    held_runtimes = [o for o in state.outcomes.values() if o.held]
    if not held_runtimes:
        return set()
    records = {
        (row.product_id, row.runtime_name): row
        for row in RuntimeStatus.objects.filter(
            product_id__in={o.product_pk for o in held_runtimes},
            runtime_name__in={o.runtime for o in held_runtimes},
            deployed_cluster=state.cluster.name,
        )
    }
    namespaces: set[str] = set()
    keys: set[Key] = set()
    for outcome in held_runtimes:
        row = records.get((outcome.product_pk, outcome.runtime))
        if row is None:
            continue
        keys.add(("Application", argocd_namespace, outcome.runtime))
        namespaces.update(row.deployed_namespaces or [])
    keys |= {key for key in observed.objects if key[1] in namespaces}
    keys |= {("Namespace", "", ns) for ns in namespaces}
    return keys


def _prune(client: ClusterApi, observed: Observed, keep: set[Key], report: PassReport) -> None:
    stale = [
        (key, obj) for key, obj in observed.objects.items() if key not in keep and _managed(obj)
    ]
    stale.sort(key=lambda item: PRUNE_ORDER.index(item[0][0]))
    # What lives in a namespace being deleted goes with it: no request of its own.
    dropped = {name for (kind, _ns, name), _obj in stale if kind == "Namespace"}
    for (kind, namespace, _name), obj in stale:
        if kind != "Namespace" and namespace in dropped:
            continue
        group, version, plural = KINDS[kind]
        if client.delete_listed(
            group, version, plural, obj, owner_label=(desired.OWNER_LABEL, _owner(obj))
        ):
            report.deleted += 1
