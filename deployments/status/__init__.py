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

The package, one module per job: `application` (an Application as status columns, pure),
`reading` (`apply_reading`: one cluster's reading into the database), `collector` (the
concurrent cycle, the one-runtime refresh and the schedule) and `explanation` (`explain`).
The schedule names `deployments.status.status_collect_task`: re-exported here, it stays valid.
"""

from __future__ import annotations

from deployments.status.application import HISTORY_LIMIT, Obj, source_version, status_fields
from deployments.status.collector import (
    DEFAULT_TIMEOUT,
    SCHEDULE_NAME,
    ClientFactory,
    CollectSummary,
    clusters_to_collect,
    install_status_schedule,
    read_applications,
    status_collect_all,
    status_collect_cluster,
    status_collect_task,
    status_refresh_runtime,
)
from deployments.status.explanation import explain
from deployments.status.reading import (
    STATUS_FIELDS,
    UNREACHABLE_FIELDS,
    ClusterResult,
    apply_reading,
    expected_runtimes,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "HISTORY_LIMIT",
    "SCHEDULE_NAME",
    "STATUS_FIELDS",
    "UNREACHABLE_FIELDS",
    "ClientFactory",
    "ClusterResult",
    "CollectSummary",
    "Obj",
    "apply_reading",
    "clusters_to_collect",
    "expected_runtimes",
    "explain",
    "install_status_schedule",
    "read_applications",
    "source_version",
    "status_collect_all",
    "status_collect_cluster",
    "status_collect_task",
    "status_fields",
    "status_refresh_runtime",
]
