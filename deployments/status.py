"""The status collector: Argo CD Application status from every runtime cluster into `RuntimeStatus`.

Per cluster: ONE list call for the Applications labelled `resource.nautes.io/belongsto` (any
product) in the cluster's Argo CD namespace, mapped to one row per DeploymentRuntime the index
places on that cluster, written with one bulk upsert (a bounded number of queries per cluster).

`status_collect_all` reads the clusters concurrently in a thread pool; the threads only talk to
Vault and the API servers, the database work stays in the calling thread. Each cluster has its
own deadline: a dead or slow cluster has its rows marked `reachable=False` ("unknown since
<last read>") and never delays or breaks the others.

`explain(status)` turns a row into plain sentences saying why a runtime is not synced or not
healthy (conditions, the last operation, degraded resources).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clusters.health import client_for
from clusters.models import Cluster
from deployments import desired
from deployments.models import RuntimeStatus
from nautes_portal.errors import NautesError
from nautes_portal.integrations.kube import ClusterApi
from products.models import DeploymentRuntime, Environment, Product

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
ClientFactory = Callable[[Cluster], ClusterApi]

HISTORY_LIMIT = 10
_IN_CHUNK = 999  # SQLite's historical parameter limit: keeps `pk IN (...)` portable
DEFAULT_TIMEOUT = 10.0
SCHEDULE_NAME = "nautes: collect deployment status"
# Columns the collector owns (the deployer owns deployed_*); written by every upsert.
STATUS_FIELDS = (
    "cluster",
    "environment",
    "application_found",
    "sync_status",
    "revision",
    "health_status",
    "health_message",
    "operation_phase",
    "operation_message",
    "operation",
    "conditions",
    "resources",
    "history",
    "deployed_at",
    "reconciled_at",
    "read_at",
    "checked_at",
    "reachable",
    "error",
    "source_version",
)
# What an unreachable cluster changes: the last known status stays, marked as unknown.
UNREACHABLE_FIELDS = ("cluster", "environment", "checked_at", "reachable", "error")


# ---- Mapping an Application to status columns (pure) ----------------------------
def _time(value: Any) -> dt.datetime | None:
    """An Argo CD timestamp (RFC 3339, `Z`) as an aware datetime; None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _text(value: Any, limit: int = 2000) -> str:
    return str(value or "")[:limit]


def _resource(item: Obj) -> Obj:
    health = item.get("health") or {}
    return {
        "group": _text(item.get("group")),
        "kind": _text(item.get("kind")),
        "namespace": _text(item.get("namespace")),
        "name": _text(item.get("name")),
        "sync": _text(item.get("status")),
        "health": _text(health.get("status")),
        "message": _text(health.get("message"), 500),
    }


def _operation(state: Obj) -> Obj:
    result = state.get("syncResult") or {}
    operation = state.get("operation") or {}
    initiated = operation.get("initiatedBy") or {}
    failed = [
        {
            "kind": _text(r.get("kind")),
            "namespace": _text(r.get("namespace")),
            "name": _text(r.get("name")),
            "message": _text(r.get("message"), 500),
        }
        for r in result.get("resources") or []
        if r.get("status") == "SyncFailed" or r.get("hookPhase") in ("Failed", "Error")
    ]
    return {
        "started_at": state.get("startedAt") or "",
        "finished_at": state.get("finishedAt") or "",
        "revision": _text(result.get("revision") or (operation.get("sync") or {}).get("revision")),
        "initiated_by": "automated"
        if initiated.get("automated")
        else _text(initiated.get("username")),
        "retry_count": int(state.get("retryCount") or 0),
        "failed_resources": failed,
    }


def _history(entries: list[Obj]) -> list[Obj]:
    """The last HISTORY_LIMIT deployments, newest first."""
    return [
        {
            "id": entry.get("id"),
            "revision": _text(entry.get("revision") or ",".join(entry.get("revisions") or [])),
            "deployed_at": entry.get("deployedAt") or "",
            "started_at": entry.get("deployStartedAt") or "",
            "initiated_by": "automated"
            if (entry.get("initiatedBy") or {}).get("automated")
            else _text((entry.get("initiatedBy") or {}).get("username")),
        }
        for entry in reversed(entries[-HISTORY_LIMIT:])
    ]


def status_fields(app: Obj | None) -> Obj:
    """The status columns for an Application (None: Argo CD has no such Application)."""
    if app is None:
        return {
            "application_found": False,
            "sync_status": "",
            "revision": "",
            "health_status": "",
            "health_message": "",
            "operation_phase": "",
            "operation_message": "",
            "operation": {},
            "conditions": [],
            "resources": [],
            "history": [],
            "deployed_at": None,
            "reconciled_at": None,
        }
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    state = status.get("operationState") or {}
    history = status.get("history") or []
    revision = sync.get("revision") or ",".join(sync.get("revisions") or [])
    return {
        "application_found": True,
        # An Application Argo CD has not looked at yet has no status: that is "Unknown".
        "sync_status": _text(sync.get("status") or "Unknown", 16),
        "revision": _text(revision, 255),
        "health_status": _text(health.get("status") or "Unknown", 16),
        "health_message": _text(health.get("message")),
        "operation_phase": _text(state.get("phase"), 16),
        "operation_message": _text(state.get("message")),
        "operation": _operation(state) if state else {},
        "conditions": [
            {
                "type": _text(c.get("type")),
                "message": _text(c.get("message")),
                "last_transition": c.get("lastTransitionTime") or "",
            }
            for c in status.get("conditions") or []
        ],
        "resources": [_resource(r) for r in status.get("resources") or []],
        "history": _history(history),
        "deployed_at": _time(history[-1].get("deployedAt")) if history else None,
        "reconciled_at": _time(status.get("reconciledAt")),
    }


# ---- Plain-words explanation ------------------------------------------------------
_CONDITION_WORDS = {
    "ComparisonError": "Argo CD cannot compare Git with the cluster",
    "InvalidSpecError": "The Application's definition is invalid",
    "SyncError": "The last sync failed",
    "UnknownError": "Argo CD hit an unexpected error",
    "DeletionError": "Argo CD could not delete resources",
    "OrphanedResourceWarning": "The namespace holds resources that are not in Git",
    "SharedResourceWarning": "Another application manages the same resource",
    "RepeatedResourceWarning": "A resource appears twice in the manifests",
    "ExcludedResourceWarning": "A resource kind is excluded from Argo CD",
}


def _ago(moment: dt.datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _object(item: Obj) -> str:
    where = f"{item['namespace']}/" if item.get("namespace") else ""
    return f"{item.get('kind') or 'resource'} {where}{item.get('name')}"


def explain(status: RuntimeStatus) -> list[str]:
    """Why the runtime is not synced or not healthy, in plain sentences ([] when all is well)."""
    lines: list[str] = []
    if not status.reachable:
        since = f"unknown since {_ago(status.read_at)}" if status.read_at else "never read so far"
        lines.append(
            f"The portal could not read cluster {status.cluster or '?'} at "
            f"{_ago(status.checked_at)}: the status is {since}. {status.error}".strip()
        )
        if status.read_at is None:
            return lines
    if not status.application_found:
        lines.append(
            f"Argo CD on cluster {status.cluster} has no Application {status.runtime_name}: the "
            "runtime has not been deployed yet, or the Application was deleted by hand. "
            "Re-apply the runtime."
        )
        return lines
    for condition in status.conditions:
        words = _CONDITION_WORDS.get(condition["type"], f"Argo CD reports {condition['type']}")
        lines.append(f"{words}: {condition['message']}")
    operation = status.operation or {}
    if status.operation_phase in ("Failed", "Error"):
        revision = (operation.get("revision") or "")[:8]
        at = f" at revision {revision}" if revision else ""
        lines.append(
            f"The last sync{at} (started {operation.get('started_at') or '?'}) "
            f"{'failed' if status.operation_phase == 'Failed' else 'stopped with an error'}: "
            f"{status.operation_message or 'no message'}"
        )
        for item in operation.get("failed_resources") or []:
            lines.append(f"{_object(item)} could not be applied: {item['message']}")
    elif status.operation_phase in ("Running", "Terminating"):
        lines.append(f"A sync is running since {operation.get('started_at') or '?'}.")
    if status.sync_status == RuntimeStatus.Sync.OUT_OF_SYNC:
        drifted = [r for r in status.resources if r.get("sync") == "OutOfSync"]
        named = ", ".join(_object(r) for r in drifted[:5])
        more = f" and {len(drifted) - 5} more" if len(drifted) > 5 else ""
        lines.append(
            "The cluster differs from Git"
            + (f" at revision {status.revision[:8]}" if status.revision else "")
            + (f": {named}{more} out of sync." if drifted else ".")
        )
    elif status.sync_status == RuntimeStatus.Sync.UNKNOWN:
        lines.append(
            "Argo CD could not tell whether the cluster matches Git (usually the repository "
            "cannot be read or the manifests cannot be generated)."
        )
    health = status.health_status
    if health and health != RuntimeStatus.Health.HEALTHY:
        by_health = {
            RuntimeStatus.Health.DEGRADED: "is degraded",
            RuntimeStatus.Health.PROGRESSING: "is still rolling out",
            RuntimeStatus.Health.MISSING: "has resources missing from the cluster",
            RuntimeStatus.Health.SUSPENDED: "is suspended (paused or waiting)",
            RuntimeStatus.Health.UNKNOWN: "has an unknown health",
        }
        sentence = f"The application {by_health.get(health, f'is {health}')}"
        lines.append(
            f"{sentence}: {status.health_message}." if status.health_message else f"{sentence}."
        )
        unhealthy = [r for r in status.resources if r.get("health") not in ("", "Healthy")]
        for item in unhealthy[:10]:
            message = f": {item['message']}" if item.get("message") else ""
            lines.append(f"{_object(item)} is {item['health']}{message}")
    return lines


# ---- Collecting -------------------------------------------------------------------
@dataclass
class ClusterResult:
    """What one cluster's collection did."""

    cluster: str
    reachable: bool
    runtimes: int = 0
    applications: int = 0
    error: str = ""
    seconds: float = 0.0


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


def expected_runtimes(cluster_name: str) -> list[Obj]:
    """The runtimes the index places on the cluster (one query)."""
    on_cluster = Environment.objects.filter(
        product_id=OuterRef("product_id"),
        name=OuterRef("destination_environment"),
        cluster=cluster_name,
    )
    return list(
        DeploymentRuntime.objects.filter(Exists(on_cluster)).values(
            "product_id", "product__group_id", "name", "destination_environment"
        )
    )


def _upsert(rows: list[RuntimeStatus], fields: Iterable[str]) -> None:
    if rows:
        RuntimeStatus.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["product", "runtime_name"],
            update_fields=list(fields),
        )


def source_version(app: Obj | None) -> str:
    """What identifies the Application as read: its uid and resourceVersion ("" if unknown).

    Argo CD writes status through the Application itself, so an unchanged resourceVersion means
    an unchanged status: such rows only get their read time bumped.
    """
    if app is None:
        return "absent"
    meta = app.get("metadata") or {}
    if not meta.get("resourceVersion"):
        return ""
    return f"{meta.get('uid', '')}/{meta['resourceVersion']}"[:128]


def _current(expected: list[Obj]) -> dict[tuple[int, str], Obj]:
    """The stored rows of the expected runtimes, keyed by (product id, name) (one query)."""
    if not expected:
        return {}
    rows = RuntimeStatus.objects.filter(
        product_id__in={r["product_id"] for r in expected},
        runtime_name__in={r["name"] for r in expected},
    ).values("pk", "product_id", "runtime_name", "cluster", "environment", "reachable",
             "source_version")  # fmt: skip
    return {(row["product_id"], row["runtime_name"]): row for row in rows}


def apply_reading(
    cluster: Cluster,
    applications: list[Obj] | None,
    *,
    error: str = "",
    runtimes: list[Obj] | None = None,
) -> ClusterResult:
    """Write one cluster's reading (None: unreachable, with `error`) into RuntimeStatus.

    Queries: the expected runtimes, the stored rows, one UPDATE for the unchanged ones and a
    bulk upsert (batched by the database's parameter limit) for the changed ones.
    """
    now = timezone.now()
    expected = expected_runtimes(cluster.name) if runtimes is None else runtimes
    result = ClusterResult(cluster=cluster.name, reachable=applications is not None, error=error)
    result.runtimes = len(expected)
    if applications is None:
        rows = [
            RuntimeStatus(
                product_id=r["product_id"],
                runtime_name=r["name"],
                cluster=cluster.name,
                environment=r["destination_environment"],
                checked_at=now,
                reachable=False,
                error=error,
            )
            for r in expected
        ]
        _upsert(rows, UNREACHABLE_FIELDS)
        return result
    by_key = {
        (
            ((app.get("metadata") or {}).get("labels") or {}).get(desired.OWNER_LABEL),
            (app.get("metadata") or {}).get("name"),
        ): app
        for app in applications
    }
    result.applications = len(by_key)
    stored = _current(expected)
    unchanged: list[int] = []
    changed: list[RuntimeStatus] = []
    for r in expected:
        app = by_key.get((f"product-{r['product__group_id']}", r["name"]))
        version = source_version(app)
        row = stored.get((r["product_id"], r["name"]))
        if (
            row is not None
            and version
            and row["source_version"] == version
            and row["reachable"]
            and (row["cluster"], row["environment"]) == (cluster.name, r["destination_environment"])
        ):
            unchanged.append(row["pk"])
            continue
        changed.append(
            RuntimeStatus(
                product_id=r["product_id"],
                runtime_name=r["name"],
                cluster=cluster.name,
                environment=r["destination_environment"],
                read_at=now,
                checked_at=now,
                reachable=True,
                error="",
                source_version=version,
                **status_fields(app),
            )
        )
    for start in range(0, len(unchanged), _IN_CHUNK):
        chunk = unchanged[start : start + _IN_CHUNK]
        RuntimeStatus.objects.filter(pk__in=chunk).update(read_at=now, checked_at=now)
    _upsert(changed, STATUS_FIELDS)
    return result


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
    """Run the collector every minute (idempotent)."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "deployments.status.status_collect_task",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
