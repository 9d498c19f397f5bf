"""The console's actions on a deployed runtime (#15): sync with options, hard refresh, rollback,
restart a workload, delete a pod. Each is an audited operation (`deployments.deployer`).

Callers check the right first (`permissions.can_operate_runtime`; a rollback needs
`permissions.can_rollback_runtime`); a product the caller may not read is a 404 before this.

What can be checked without the cluster is checked here (RuleViolation, 400) before anything
is queued. What names an object in the cluster is checked here too, by reading the cluster
with a short timeout: a name that is not the runtime's (`deployments.deployer.scope`) is a
404 reply, never a queued operation, and a rollback that Argo CD would refuse is refused now
(409 under automated sync, 400 for an unknown history entry). The operation's step checks
everything again right before its write.
"""

from __future__ import annotations

from typing import Any

from clusters.health import client_for
from clusters.models import Cluster
from deployments.deployer import (
    RUNTIME_HARD_REFRESH,
    RUNTIME_POD_DELETE,
    RUNTIME_RESTART,
    RUNTIME_ROLLBACK,
    RUNTIME_SYNC,
)
from deployments.deployer.actions import rollback_refusal
from deployments.deployer.scope import (
    WORKLOAD_KINDS,
    RuntimeScope,
    check_namespace_name,
    check_object_name,
    check_selected_resources,
    owned_application,
    owned_pod,
    owned_workload,
    scope_for,
)
from deployments.deployer.sync_options import SyncOptions
from deployments.services import (
    AUDIT_SYNC,
    KIND,
    cluster_of_or_conflict,
    runtime_operation_start,
    runtime_or_404,
    runtime_params,
    runtime_sync_now,
)
from nautes_portal.audit import audit_record
from nautes_portal.errors import RuleViolation
from nautes_portal.integrations.kube import KubeClient
from nautes_portal.operations.models import Operation
from nautes_portal.types import Actor, signed_in
from products.models import Product

# Seconds a request waits for the cluster while checking what it names.
CHECK_TIMEOUT = 5.0


def _check_client(cluster: Cluster) -> KubeClient:
    return client_for(cluster, timeout=CHECK_TIMEOUT)


def _prepare(
    product: Product, runtime_name: str, actor: Actor
) -> tuple[Cluster, RuntimeScope, dict[str, Any]]:
    """The runtime's cluster, its scope and the operation's params (404/409 as for a sync)."""
    runtime = runtime_or_404(product, runtime_name)
    cluster = cluster_of_or_conflict(product, runtime)
    user = signed_in(actor)
    params = {
        **runtime_params(product, runtime_name, cluster.name),
        "username": user.get_username() if user else "",
    }
    return cluster, scope_for(cluster, product, runtime), params


def _queue(
    kind: str,
    *,
    product: Product,
    runtime_name: str,
    actor: Actor,
    params: dict[str, Any],
    message: str,
    inline: bool,
) -> Operation:
    audit_record(
        actor=actor, action=AUDIT_SYNC, kind=KIND, name=runtime_name, product=product,
        message=message,
    )  # fmt: skip
    return runtime_operation_start(
        kind,
        product=product,
        target=f"{product.name}/{runtime_name}",
        params=params,
        actor=actor,
        inline=inline,
    )


def runtime_sync(
    *,
    product: Product,
    runtime_name: str,
    actor: Actor,
    options: SyncOptions | None = None,
    inline: bool = False,
) -> Operation:
    """Queue `runtime.sync` with `options` (build them with `sync_options(...)`, which checks
    them). None: "Sync now" as before #15 (`runtime_sync_now`: prune on, as the Application's
    automated policy). Selected resources must be listed by the Application (checked now,
    400)."""
    if options is None:
        return runtime_sync_now(
            product=product, runtime_name=runtime_name, actor=actor, inline=inline
        )
    cluster, scope, params = _prepare(product, runtime_name, actor)
    if options.resources:
        with _check_client(cluster) as client:
            check_selected_resources(owned_application(client, scope), options.resources)
    return _queue(
        RUNTIME_SYNC,
        product=product,
        runtime_name=runtime_name,
        actor=actor,
        params={**params, "options": options.as_params()},
        message=f"sync requested on cluster {cluster.name} ({options.describe()})",
        inline=inline,
    )


def runtime_hard_refresh(
    *, product: Product, runtime_name: str, actor: Actor, inline: bool = False
) -> Operation:
    """Queue `runtime.hard-refresh`: Argo CD reads Git again, without its cache.

    Not `deployments.services.runtime_refresh_status`, which only reads the Application's
    status into the portal now ("Refresh status" on the runtime page)."""
    cluster, _scope, params = _prepare(product, runtime_name, actor)
    return _queue(
        RUNTIME_HARD_REFRESH,
        product=product,
        runtime_name=runtime_name,
        actor=actor,
        params=params,
        message=f"hard refresh requested on cluster {cluster.name}",
        inline=inline,
    )


def runtime_rollback(
    *, product: Product, runtime_name: str, actor: Actor, history_id: int, inline: bool = False
) -> Operation:
    """Queue `runtime.rollback` to the Application's history entry `history_id` (a sync to its
    revision). Refused now (409, naming the revert in Git instead) when the Application syncs
    automatically; 400 for an id its history does not hold."""
    if isinstance(history_id, bool) or not isinstance(history_id, int) or history_id < 0:
        raise RuleViolation("id: must be the id (an integer, 0 or more) of a history entry")
    cluster, scope, params = _prepare(product, runtime_name, actor)
    with _check_client(cluster) as client:
        entry = rollback_refusal(owned_application(client, scope), scope, history_id)
    revision = str(entry.get("revision") or "")
    return _queue(
        RUNTIME_ROLLBACK,
        product=product,
        runtime_name=runtime_name,
        actor=actor,
        params={**params, "history_id": history_id, "revision": revision},
        message=f"rollback to deployment {history_id} (revision {revision[:12]}) requested on "
        f"cluster {cluster.name}",
        inline=inline,
    )


def workload_restart(
    *,
    product: Product,
    runtime_name: str,
    actor: Actor,
    kind: str,
    name: str,
    inline: bool = False,
) -> Operation:
    """Queue `runtime.restart` of the runtime's Deployment, StatefulSet or DaemonSet `name`
    (400 for another kind; 404 unless it is the runtime's, checked now)."""
    if kind not in WORKLOAD_KINDS:
        raise RuleViolation(
            f"kind: only a {', '.join(WORKLOAD_KINDS)} can be restarted, not {kind!r}",
            reason="KIND_NOT_RESTARTABLE",
        )
    check_object_name(name, "name")
    cluster, scope, params = _prepare(product, runtime_name, actor)
    with _check_client(cluster) as client:
        workload = owned_workload(client, scope, kind, name)
    namespace = str(workload["metadata"].get("namespace") or "")
    return _queue(
        RUNTIME_RESTART,
        product=product,
        runtime_name=runtime_name,
        actor=actor,
        params={**params, "kind": kind, "name": name, "namespace": namespace},
        message=f"restart of {kind} {namespace}/{name} requested on cluster {cluster.name}",
        inline=inline,
    )


def pod_delete(
    *,
    product: Product,
    runtime_name: str,
    actor: Actor,
    pod: str,
    namespace: str = "",
    inline: bool = False,
) -> Operation:
    """Queue `runtime.pod-delete` of the runtime's pod `pod` (in `namespace` when given, else
    in whichever of the runtime's namespaces holds it; 404 unless it is the runtime's, checked
    now). Its controller, if any, starts a new one."""
    check_object_name(pod, "pod")
    if namespace:
        check_namespace_name(namespace)
    cluster, scope, params = _prepare(product, runtime_name, actor)
    with _check_client(cluster) as client:
        found = owned_pod(client, scope, pod, namespace)
    meta = found["metadata"]
    namespace = str(meta.get("namespace") or "")
    return _queue(
        RUNTIME_POD_DELETE,
        product=product,
        runtime_name=runtime_name,
        actor=actor,
        params={**params, "pod": pod, "namespace": namespace, "uid": str(meta.get("uid") or "")},
        message=f"deletion of pod {namespace}/{pod} requested on cluster {cluster.name}",
        inline=inline,
    )
