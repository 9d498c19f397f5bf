"""What people ask of DeploymentRuntimes: re-apply, sync now, refresh the status.

Deploying follows the index by itself: any change of a product's index reconciles the
clusters it is on (`deployments.reconciler`, #14); nothing here deploys or removes one runtime.
`runtime_reapply` asks for a pass of the runtime's cluster now, `cluster_reconcile_now` for a
pass of a whole cluster; `runtime_sync_now` queues `runtime.sync` (`deployments.deployer`).
Nothing here waits for a cluster, except `runtime_refresh_status`, which reads one Application
with a short timeout, and an `inline` pass. The console's actions on a deployed runtime (sync
with options, Argo CD's hard refresh, rollback, restart, delete a pod) are
`deployments.console_actions` (#15).
"""

from __future__ import annotations

from typing import Any

from clusters.models import Cluster
from deployments.deployer import RUNTIME_SYNC, DeployError, cluster_of
from deployments.models import RuntimeStatus
from deployments.reconciler import reconcile_start
from deployments.status import status_refresh_runtime
from nautes_portal.audit import audit_record
from nautes_portal.errors import Conflict, NotFound
from nautes_portal.operations import operation_create, operation_enqueue, operation_run
from nautes_portal.operations.models import Operation
from nautes_portal.types import Actor, signed_in
from products.models import DeploymentRuntime, Product

KIND = "DeploymentRuntime"
# AuditEvent.Action has save/delete/sync only: every runtime action is audited as "sync" and
# told apart by its message (the lead may add "reapply"/"refresh" choices and switch these).
AUDIT_SYNC = AUDIT_REAPPLY = AUDIT_REFRESH = "sync"


def runtime_operation_start(
    kind: str, *, product: Product, target: str, params: dict[str, Any], actor: Actor, inline: bool
) -> Operation:
    """Record an operation of `kind` on a runtime; run it now (`inline`) or queue it."""
    operation = operation_create(
        kind=kind, target=target, params=params, actor=actor, product=product
    )
    if inline:
        return operation_run(operation.pk)
    operation_enqueue(operation)
    return operation


def runtime_params(product: Product, runtime_name: str, cluster_name: str) -> dict[str, Any]:
    """What every `runtime.*` operation's step reads (`deployments.deployer.context`)."""
    return {
        "product": product.name,
        "product_pk": product.pk,
        "product_id": product.resource_name,
        "runtime": runtime_name,
        "cluster": cluster_name,
    }


def runtime_or_404(product: Product, runtime_name: str) -> DeploymentRuntime:
    """The product's runtime of that name, or NotFound (404)."""
    runtime = DeploymentRuntime.objects.filter(product=product, name=runtime_name).first()
    if runtime is None:
        raise NotFound(
            f"deployment runtime {runtime_name} is not found in product {product.name}",
            reason="RUNTIME_NOT_FOUND",
        )
    return runtime


def runtime_sync_now(
    *, product: Product, runtime_name: str, actor: Actor, inline: bool = False
) -> Operation:
    """Queue `runtime.sync`: set `operation.sync` on the runtime's Application (audited)."""
    runtime = runtime_or_404(product, runtime_name)
    cluster_name = cluster_of_or_conflict(product, runtime).name
    params = {
        **runtime_params(product, runtime_name, cluster_name),
        "username": user.get_username() if (user := signed_in(actor)) else "",
    }
    audit_record(
        actor=actor, action=AUDIT_SYNC, kind=KIND, name=runtime_name, product=product,
        message=f"sync now requested on cluster {cluster_name}",
    )  # fmt: skip
    return runtime_operation_start(
        RUNTIME_SYNC,
        product=product,
        target=f"{product.name}/{runtime_name}",
        params=params,
        actor=actor,
        inline=inline,
    )


def runtime_reapply(
    *, product: Product, runtime_name: str, actor: Actor, inline: bool = False
) -> Operation:
    """Apply the runtime's objects again (audited): a reconcile pass of its cluster, the same
    as after a change of the index."""
    runtime = runtime_or_404(product, runtime_name)
    cluster = cluster_of_or_conflict(product, runtime)
    operation = reconcile_start(
        cluster_name=cluster.name,
        reason=f"re-apply of runtime {product.name}/{runtime_name} requested",
        actor=actor,
        inline=inline,
    )
    audit_record(
        actor=actor, action=AUDIT_REAPPLY, kind=KIND, name=runtime_name, product=product,
        message=f"re-apply requested: reconcile pass of cluster {cluster.name} (operation "
        f"{operation.pk})",
    )  # fmt: skip
    return operation


def runtime_refresh_status(
    *, product: Product, runtime_name: str, actor: Actor = None
) -> RuntimeStatus:
    """Read the runtime's Application now and store its status (an unreachable cluster is
    recorded on the row, not raised)."""
    runtime = runtime_or_404(product, runtime_name)
    cluster = cluster_of_or_conflict(product, runtime)
    status = status_refresh_runtime(product, runtime_name, cluster)
    if actor is not None:
        audit_record(
            actor=actor, action=AUDIT_REFRESH, kind=KIND, name=runtime_name, product=product,
            message=f"status refreshed from cluster {cluster.name}",
        )  # fmt: skip
    return status


def cluster_of_or_conflict(product: Product, runtime: DeploymentRuntime) -> Cluster:
    try:
        return cluster_of(product, runtime)
    except DeployError as exc:
        raise Conflict(exc.message) from None


def cluster_reconcile_now(*, cluster_name: str, actor: Actor, inline: bool = False) -> Operation:
    """A reconcile pass of a whole cluster, asked for by someone who manages clusters
    (audited; the caller checks the right)."""
    if not Cluster.objects.filter(name=cluster_name).exists():
        raise NotFound(f"cluster {cluster_name} is not found", reason="CLUSTER_NOT_FOUND")
    operation = reconcile_start(
        cluster_name=cluster_name,
        reason=f"reconcile requested by {actor.get_username() if actor else 'the portal'}",
        actor=actor,
        inline=inline,
    )
    audit_record(
        actor=actor, action=AUDIT_REAPPLY, kind="Cluster", name=cluster_name, product=None,
        message=f"reconcile pass requested (operation {operation.pk})",
    )  # fmt: skip
    return operation
