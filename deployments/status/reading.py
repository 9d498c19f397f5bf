"""`apply_reading`: one cluster's reading written into `RuntimeStatus` in a few queries.

A reading is the list of Applications (None: the cluster could not be read). Rows whose
Application did not change only get their read time bumped; the others are upserted in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clusters.models import Cluster
from deployments import desired
from deployments.models import RuntimeStatus
from deployments.status.application import Obj, source_version, status_fields
from products.models import DeploymentRuntime, Environment

_IN_CHUNK = 999  # SQLite's historical parameter limit: keeps `pk IN (...)` portable
# Columns the collector owns (the reconciler owns deployed_*, pass_*); written by every upsert.
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


@dataclass
class ClusterResult:
    """What one cluster's collection did."""

    cluster: str
    reachable: bool
    runtimes: int = 0
    applications: int = 0
    error: str = ""
    seconds: float = 0.0


def expected_runtimes(cluster_name: str) -> list[Obj]:
    """The runtimes the index places on the cluster (one query)."""
    on_cluster = Environment.objects.filter(
        product_id=OuterRef("product_id"),
        name=OuterRef("destination_environment"),
        cluster=cluster_name,
    )
    rows = DeploymentRuntime.objects.filter(Exists(on_cluster)).values(
        "product_id", "product__group_id", "name", "destination_environment"
    )
    return [dict(row) for row in rows]


def _upsert(rows: list[RuntimeStatus], fields: Iterable[str]) -> None:
    if rows:
        RuntimeStatus.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["product", "runtime_name"],
            update_fields=list(fields),
        )


def _current(expected: list[Obj]) -> dict[tuple[int, str], Obj]:
    """The stored rows of the expected runtimes, keyed by (product id, name) (one query)."""
    if not expected:
        return {}
    rows = RuntimeStatus.objects.filter(
        product_id__in={r["product_id"] for r in expected},
        runtime_name__in={r["name"] for r in expected},
    ).values("pk", "product_id", "runtime_name", "cluster", "environment", "reachable",
             "source_version")  # fmt: skip
    return {(row["product_id"], row["runtime_name"]): dict(row) for row in rows}


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
