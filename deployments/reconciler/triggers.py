"""When a reconcile pass runs: after any change of a product's index (whatever the route), after
a cluster's rules changed, periodically per cluster (drift repair), and on demand.

The periodic pass runs every `NAUTES_RECONCILE_INTERVAL` seconds per cluster (default 300),
each cluster shifted by a stable jitter of up to a fifth of the interval so that passes of many
clusters do not all start in the same minute. A scheduled task (every minute) queues the
clusters that are due.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from clusters.models import Cluster
from deployments import desired
from deployments.models import ClusterReconcile, RuntimeStatus
from deployments.reconciler.operation import reconcile_start
from nautes_portal.operations.kinds import CLUSTER_RECONCILE
from nautes_portal.operations.models import Operation
from nautes_portal.types import Actor
from products.models import Environment, Product

DEFAULT_INTERVAL = 300
RECONCILE_SCHEDULE_NAME = "nautes: reconcile runtime clusters"


def interval_seconds() -> int:
    return max(30, int(getattr(settings, "NAUTES_RECONCILE_INTERVAL", DEFAULT_INTERVAL)))


def jitter_seconds(cluster_name: str, interval: int) -> int:
    """A stable offset per cluster in [0, interval / 5)."""
    spread = max(1, interval // 5)
    return int(hashlib.sha256(cluster_name.encode()).hexdigest()[:8], 16) % spread


def clusters_of_product(product: Product, changes: Iterable[Any] = ()) -> set[str]:
    """Every registered cluster the product's runtimes are, or were, placed on."""
    names = set(Environment.objects.filter(product=product).values_list("cluster", flat=True))
    names |= set(
        RuntimeStatus.objects.filter(product=product)
        .exclude(deployed_cluster="")
        .values_list("deployed_cluster", flat=True)
    )
    for change in changes:  # an environment deleted or moved names its old cluster
        if getattr(change, "kind", "") == "Environment":
            for spec in (change.old, change.new):
                if spec and spec.get("cluster"):
                    names.add(str(spec["cluster"]))
    return set(Cluster.objects.filter(name__in=names).values_list("name", flat=True))


def reconcile_clusters(
    names: Iterable[str], *, reason: str, actor: Actor = None
) -> list[Operation]:
    return [
        reconcile_start(cluster_name=name, reason=reason, actor=actor) for name in sorted(names)
    ]


# ---- Receivers (connected in `deployments.apps`) -------------------------------
def on_product_index_changed(
    sender: Any, *, product: Any, changes: tuple[Any, ...], route: str, actor: Actor, **kwargs: Any
) -> None:
    """`product_index_changed`, by any route: reconcile every cluster the product is on."""
    reconcile_clusters(
        clusters_of_product(product, changes),
        reason=f"the index of product {product.name} changed ({route})",
        actor=actor,
    )


def on_cluster_saved(
    sender: Any,
    *,
    name: str,
    old_spec: dict[str, Any] | None,
    new_spec: dict[str, Any],
    actor: Actor,
    **kwargs: Any,
) -> None:
    """`cluster_saved`: the AppProjects carry a cluster's allow-lists and its components list
    says where Argo CD is, so an update that changed them reconciles a cluster with runtimes."""
    if old_spec is None or _what_objects_depend_on(old_spec) == _what_objects_depend_on(new_spec):
        return
    if not Environment.objects.filter(cluster=name).exists():
        return
    reconcile_clusters([name], reason=f"cluster {name} changed", actor=actor)


def _what_objects_depend_on(spec: dict[str, Any]) -> tuple[Any, ...]:
    """What of a cluster's spec the objects of its runtimes depend on (a new host name of its
    Argo CD, say, changes none of them)."""
    components = spec.get("componentsList")
    allowed = spec.get("reservedNamespacesAllowedProducts")
    return (
        allowed,
        spec.get("productAllowedClusterResources"),
        desired.argocd_namespace(components),
        sorted(desired.component_namespaces(components, allowed)),
    )


def on_product_deleting(sender: Any, *, instance: Product, **kwargs: Any) -> None:
    """A product is being deleted: once that commits, its objects go from every cluster."""
    names = clusters_of_product(instance)
    if names:
        transaction.on_commit(
            lambda: reconcile_clusters(names, reason=f"product {instance.name} was deleted")
        )


# ---- Periodic --------------------------------------------------------------------
def reconcile_due_clusters() -> dict[str, int]:
    """Scheduled every minute: queue a pass for each cluster whose last pass (or attempt) is
    older than the interval (plus its jitter) and that has none waiting. Two queries."""
    interval = interval_seconds()
    now = timezone.now()
    last = dict(ClusterReconcile.objects.values_list("cluster", "last_pass_at"))
    # A pass that failed (a dead cluster) counts as an attempt: not one a minute until it is up.
    for name, started in (
        Operation.objects.filter(kind=CLUSTER_RECONCILE)
        .values("target")
        .annotate(latest=Max("created_at"))
        .values_list("target", "latest")
    ):
        if last.get(name) is None or (started and started > last[name]):
            last[name] = started
    waiting = set(
        Operation.objects.filter(
            kind=CLUSTER_RECONCILE, status__in=[Operation.Status.PENDING, Operation.Status.RUNNING]
        ).values_list("target", flat=True)
    )
    queued = 0
    for name in Cluster.objects.order_by("name").values_list("name", flat=True):
        if name in waiting:
            continue
        previous = last.get(name)
        due = interval + jitter_seconds(name, interval)
        if previous is None or (now - previous).total_seconds() >= due:
            reconcile_start(cluster_name=name, reason="periodic drift repair")
            queued += 1
    return {"queued": queued}
