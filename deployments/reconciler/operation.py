"""The `cluster.reconcile` operation: its steps, the per-cluster lease, and starting a pass.

Steps: `objects` (observe, write what differs, prune, record per runtime), `argocd-rbac` (the
members' block in `argocd-rbac-cm`) and `vault` (the runtime accounts' Kubernetes auth roles).
A pass holds the cluster's lease while a step runs, so two passes of one cluster never
interleave: one that read an older index would prune what a newer one just created. A pass
that finds the lease taken fails its step as retryable and the engine retries it shortly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.models import Q
from django.utils import timezone

from clusters.health import client_for
from clusters.models import Cluster
from deployments import desired
from deployments.models import ClusterReconcile, PassResult
from deployments.reconciler import argocd_rbac
from deployments.reconciler.objects_pass import PassReport, reconcile_objects
from deployments.reconciler.records import record_pass
from deployments.reconciler.vault_access import reconcile_vault
from nautes_portal.errors import IntegrationError
from nautes_portal.operations import operation_create, operation_enqueue, operation_run
from nautes_portal.operations.engine import Step, register
from nautes_portal.operations.kinds import CLUSTER_RECONCILE
from nautes_portal.operations.models import Operation
from nautes_portal.types import Actor

LEASE = dt.timedelta(minutes=5)


class ReconcileError(IntegrationError):
    reason = "RECONCILE_FAILED"

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__("Kubernetes", message, retryable=retryable)


def _cluster(operation: Operation) -> Cluster:
    name = operation.params.get("cluster", "")
    cluster = Cluster.objects.filter(name=name).first()
    if cluster is None:
        raise ReconcileError(f"cluster {name} is not registered (anymore); nothing to reconcile")
    return cluster


@contextmanager
def _lease(cluster: Cluster, operation: Operation) -> Iterator[ClusterReconcile]:
    ClusterReconcile.objects.get_or_create(cluster=cluster.name)
    now = timezone.now()
    taken = (
        ClusterReconcile.objects.filter(cluster=cluster.name)
        .filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_operation=operation.pk)
        )
        .update(lease_until=now + LEASE, lease_operation=operation.pk)
    )
    if not taken:
        raise ReconcileError(
            f"another reconcile pass of cluster {cluster.name} is running; this one waits",
            retryable=True,
        )
    try:
        yield ClusterReconcile.objects.get(cluster=cluster.name)
    finally:
        ClusterReconcile.objects.filter(cluster=cluster.name, lease_operation=operation.pk).update(
            lease_until=None, lease_operation=None
        )


def step_objects(operation: Operation) -> str:
    cluster = _cluster(operation)
    with _lease(cluster, operation) as record, client_for(cluster) as client:
        report = reconcile_objects(client, cluster)
        record_pass(report.state)
        record.admitted = _admitted(report)
        record.last_pass_at = timezone.now()
        record.last_operation = operation.pk
        record.writes = report.writes
        record.last_result = "conflicts" if _troubled(report) else "ok"
        record.last_detail = report.summary()
        record.save()
    return report.summary()


def _troubled(report: PassReport) -> bool:
    return any(o.result == PassResult.CONFLICT for o in report.state.outcomes.values())


def _admitted(report: PassReport) -> dict[str, Any]:
    """What the access steps grant: per product on the cluster, its accounts' namespaces and
    verified manifest repositories (no secret, no key)."""
    products = []
    for entry in report.state.products:
        accounts: dict[str, dict[str, list[str]]] = {}
        for runtime in entry.placement.runtimes:
            if not report.state.outcome(entry.product.pk, runtime.name).admitted:
                continue
            spec = accounts.setdefault(runtime.account, {"namespaces": [], "repos": []})
            spec["namespaces"] = sorted(set(spec["namespaces"]) | set(runtime.namespaces))
            if runtime.repo_verified and runtime.repo_id not in spec["repos"]:
                spec["repos"] = sorted([*spec["repos"], runtime.repo_id])
        if accounts:
            products.append(
                {
                    "name": entry.product.name,
                    "id": entry.placement.product_id,
                    "accounts": accounts,
                }
            )
    return {"products": products}


def step_argocd_rbac(operation: Operation) -> str:
    cluster = _cluster(operation)
    with _lease(cluster, operation) as record, client_for(cluster) as client:
        products = [(p["name"], p["id"]) for p in record.admitted.get("products", [])]
        namespace = desired.argocd_namespace(cluster.components_list)
        new_block = argocd_rbac.block(products)
        try:
            changed = client.edit_config_map_key(
                namespace,
                argocd_rbac.CONFIG_MAP,
                argocd_rbac.KEY,
                lambda text: argocd_rbac.replace_block(text, new_block),
                labels=argocd_rbac.LABELS,
            )
        except ValueError as exc:
            raise ReconcileError(str(exc)) from None
    refused = [r for name, _ in products if (r := argocd_rbac.refusal(name))]
    granted = len(products) - len(refused)
    detail = (
        f"{namespace}/{argocd_rbac.CONFIG_MAP}: {granted} product role(s) "
        f"{'written' if changed else 'unchanged'}"
    )
    return detail + ("; " + "; ".join(refused) if refused else "")


def step_vault(operation: Operation) -> str:
    cluster = _cluster(operation)
    with _lease(cluster, operation) as record:
        return reconcile_vault(cluster, record)


register(
    CLUSTER_RECONCILE,
    [
        Step("objects", "Apply the runtimes' objects and remove what is gone", step_objects),
        Step("argocd-rbac", "Grant product members their Argo CD role", step_argocd_rbac),
        Step("vault", "Grant runtime accounts their Vault role", step_vault),
    ],
)


# ---- Starting a pass -------------------------------------------------------------
def reconcile_start(
    *, cluster_name: str, reason: str, actor: Actor = None, inline: bool = False
) -> Operation:
    """Queue a pass over the cluster (or return the one already waiting: it will read the
    index as it is when it runs, so a second one would add nothing)."""
    if not inline:
        waiting = (
            Operation.objects.filter(kind=CLUSTER_RECONCILE, target=cluster_name, status="pending")
            .order_by("-pk")
            .first()
        )
        if waiting is not None and not waiting.steps.exclude(status="pending").exists():
            return waiting
    operation = operation_create(
        kind=CLUSTER_RECONCILE,
        target=cluster_name,
        params={"cluster": cluster_name, "reason": reason},
        actor=actor,
    )
    if inline:
        return operation_run(operation.pk)
    operation_enqueue(operation)
    return operation
