"""The collector: every runtime cluster read concurrently, each under its own deadline.

Per cluster: ONE list call for the Applications labelled `resource.nautes.io/belongsto` (any
product) in the cluster's Argo CD namespace, written by `apply_reading`. The threads only talk
to Vault and the API servers, the database work stays in the calling thread. A dead or slow
cluster has its rows marked `reachable=False` and never delays or breaks the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef

from clusters.health import client_for
from clusters.models import Cluster
from deployments import desired
from deployments.models import RuntimeStatus
from deployments.status.application import Obj
from deployments.status.reading import ClusterResult, apply_reading
from nautes_portal.errors import NautesError
from nautes_portal.integrations.kube import ClusterApi
from products.models import DeploymentRuntime, Environment, Product

# The package's logger: one name for the whole collector, as before the split.
logger = logging.getLogger(__package__)

ClientFactory = Callable[[Cluster], ClusterApi]

DEFAULT_TIMEOUT = 10.0
SCHEDULE_NAME = "nautes: collect deployment status"


@dataclass
class CollectSummary:
    """One collector cycle."""

    clusters: list[ClusterResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unreachable(self) -> list[str]:
        return [c.cluster for c in self.clusters if not c.reachable]

    def as_dict(self) -> Obj:
        return {
            "clusters": len(self.clusters),
            "unreachable": self.unreachable,
            "runtimes": sum(c.runtimes for c in self.clusters),
            "seconds": round(self.seconds, 3),
        }


def _default_factory(timeout: float) -> ClientFactory:
    return lambda cluster: client_for(cluster, timeout=timeout)


def read_applications(cluster: Cluster, client_factory: ClientFactory) -> list[Obj]:
    """The Applications the portal manages on the cluster: one list call (network only)."""
    client = client_factory(cluster)
    try:
        return client.list_objects(
            desired.ARGOCD_GROUP,
            desired.ARGOCD_VERSION,
            "applications",
            desired.argocd_namespace(cluster.components_list),
            label_selector=desired.OWNER_LABEL,
        )
    finally:
        client.close()


def _failure_message(cluster: Cluster, exc: BaseException) -> str:
    if isinstance(exc, NautesError):
        return exc.message
    logger.exception("reading the status of cluster %s crashed", cluster.name, exc_info=exc)
    return "Unexpected error while reading the cluster; the details are in the portal's log."


def status_collect_cluster(
    cluster: Cluster,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    client_factory: ClientFactory | None = None,
) -> ClusterResult:
    """Read one cluster and write its rows (sequentially, in this thread)."""
    started = time.monotonic()
    factory = client_factory or _default_factory(timeout)
    try:
        applications = read_applications(cluster, factory)
    except Exception as exc:
        result = apply_reading(cluster, None, error=_failure_message(cluster, exc))
    else:
        result = apply_reading(cluster, applications)
    result.seconds = time.monotonic() - started
    return result


def clusters_to_collect() -> list[Cluster]:
    """Clusters that host an environment of some product (one query)."""
    hosting = Environment.objects.filter(cluster=OuterRef("name"))
    return list(Cluster.objects.filter(Exists(hosting)).order_by("name"))


def status_collect_all(
    *,
    max_workers: int = 8,
    timeout: float = DEFAULT_TIMEOUT,
    client_factory: ClientFactory | None = None,
    clusters: list[Cluster] | None = None,
) -> CollectSummary:
    """One collector cycle over every cluster, `max_workers` clusters at a time.

    A cluster gets `timeout` seconds from the moment its read starts; past that its rows are
    marked unreachable and the cycle moves on without waiting for it.
    """
    cycle_start = time.monotonic()
    summary = CollectSummary()
    targets = clusters_to_collect() if clusters is None else clusters
    if not targets:
        return summary
    factory = client_factory or _default_factory(timeout)
    started: dict[str, float] = {}

    def read(cluster: Cluster) -> list[Obj]:
        started[cluster.name] = time.monotonic()
        return read_applications(cluster, factory)

    executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="nautes-status")
    futures: dict[Future[list[Obj]], Cluster] = {executor.submit(read, c): c for c in targets}
    pending = set(futures)

    def record(cluster: Cluster, applications: list[Obj] | None, error: str = "") -> None:
        result = apply_reading(cluster, applications, error=error)
        result.seconds = time.monotonic() - started.get(cluster.name, cycle_start)
        summary.clusters.append(result)

    try:
        while pending:
            now = time.monotonic()
            deadlines = [
                started[futures[f].name] + timeout for f in pending if futures[f].name in started
            ]
            wait_for = max(0.005, min(deadlines) - now) if deadlines else timeout
            done, pending = wait(pending, timeout=wait_for, return_when=FIRST_COMPLETED)
            for future in done:
                cluster = futures[future]
                exc = future.exception()
                if exc is None:
                    record(cluster, future.result())
                else:
                    record(cluster, None, _failure_message(cluster, exc))
            now = time.monotonic()
            for future in list(pending):
                cluster = futures[future]
                begun = started.get(cluster.name)
                if begun is not None and now - begun >= timeout:
                    pending.discard(future)
                    record(
                        cluster,
                        None,
                        f"The cluster did not answer within {timeout:g} s; its status is shown as "
                        "last read.",
                    )
    finally:
        # Never wait for a hung cluster: its thread ends with its own socket timeout.
        executor.shutdown(wait=False, cancel_futures=True)
    summary.seconds = time.monotonic() - cycle_start
    return summary


def status_refresh_runtime(
    product: Product,
    runtime_name: str,
    cluster: Cluster,
    *,
    timeout: float = 5.0,
    client_factory: ClientFactory | None = None,
) -> RuntimeStatus:
    """Read one runtime's Application now (one GET) and store it; unreachable is recorded."""
    factory = client_factory or _default_factory(timeout)
    runtime = DeploymentRuntime.objects.filter(product=product, name=runtime_name).first()
    expected = [
        {
            "product_id": product.pk,
            "product__group_id": product.group_id,
            "name": runtime_name,
            "destination_environment": runtime.destination_environment if runtime else "",
        }
    ]
    try:
        client = factory(cluster)
        try:
            app = client.get_object(
                desired.ARGOCD_GROUP,
                desired.ARGOCD_VERSION,
                "applications",
                desired.argocd_namespace(cluster.components_list),
                runtime_name,
            )
        finally:
            client.close()
    except Exception as exc:
        apply_reading(cluster, None, error=_failure_message(cluster, exc), runtimes=expected)
    else:
        labels = ((app or {}).get("metadata") or {}).get("labels") or {}
        if app is not None and labels.get(desired.OWNER_LABEL) != product.resource_name:
            app = None  # someone else's Application with the same name: not ours
        apply_reading(cluster, [app] if app else [], runtimes=expected)
    return RuntimeStatus.objects.get(product=product, runtime_name=runtime_name)


# ---- Scheduling -------------------------------------------------------------------
def status_collect_task() -> Obj:
    """django-q2 entry point of the scheduled collector cycle."""
    return status_collect_all().as_dict()


def install_status_schedule() -> None:
    """Install the collector's schedule, registered by `DeploymentsConfig.ready` (idempotent)."""
    from nautes_portal.schedules import install_registered_schedules

    install_registered_schedules(SCHEDULE_NAME)
