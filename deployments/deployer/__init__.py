"""The `runtime.*` operation kinds: what acts on one runtime.

`runtime.sync` asks Argo CD to sync one Application now (the "Sync now" action, and the
console's sync with options). The console's other actions (#15): `runtime.hard-refresh`
(annotate the Application `argocd.argoproj.io/refresh=hard`), `runtime.rollback` (a sync to one
history entry's revision), `runtime.restart` (a Deployment, StatefulSet or DaemonSet, as
`kubectl rollout restart`) and `runtime.pod-delete`. Each reaches only what `scope` says is the
runtime's.

Deploying and removing runtimes is the reconciler's (`deployments.reconciler`, #14): a pass
over a cluster applies every runtime the index places there and removes what is gone. The
former per-runtime kinds `runtime.deploy` and `runtime.remove` stay registered for operations
queued or failed before it: run or retried, they queue a reconcile pass of their cluster
(`superseded`).

The package: `planning` (the kinds, DeployError, the runtime, product placement and cluster as
the index says now; the reconciler plans with it too), `context` (what a step works on),
`scope` (what a console action may reach in the cluster), `sync_options` (the `operation`
bodies), `sync`, `actions` and `superseded` (the steps). Importing it registers the kinds with
the operations engine.
"""

from __future__ import annotations

from deployments.deployer.actions import (
    delete_pod,
    hard_refresh_application,
    restart_workload,
    rollback_application,
)
from deployments.deployer.planning import (
    RUNTIME_DEPLOY,
    RUNTIME_HARD_REFRESH,
    RUNTIME_POD_DELETE,
    RUNTIME_REMOVE,
    RUNTIME_RESTART,
    RUNTIME_SYNC,
    DeployError,
    cluster_of,
    placement_for,
    repo_url,
)
from deployments.deployer.superseded import FORMER_DEPLOY_STEPS, FORMER_REMOVE_STEPS, steps
from deployments.deployer.sync import sync_application
from nautes_portal.operations import Step, register
from nautes_portal.operations.kinds import RUNTIME_ROLLBACK

register(RUNTIME_DEPLOY, steps(FORMER_DEPLOY_STEPS))
register(RUNTIME_REMOVE, steps(FORMER_REMOVE_STEPS))
register(RUNTIME_SYNC, [Step("sync", "Ask Argo CD to sync now", sync_application)])
register(
    RUNTIME_HARD_REFRESH,
    [Step("refresh", "Ask Argo CD for a hard refresh", hard_refresh_application)],
)
register(
    RUNTIME_ROLLBACK,
    [Step("rollback", "Ask Argo CD to roll back to a history entry", rollback_application)],
)
register(RUNTIME_RESTART, [Step("restart", "Restart the workload", restart_workload)])
register(RUNTIME_POD_DELETE, [Step("delete-pod", "Delete the pod", delete_pod)])

__all__ = [
    "RUNTIME_DEPLOY",
    "RUNTIME_HARD_REFRESH",
    "RUNTIME_POD_DELETE",
    "RUNTIME_REMOVE",
    "RUNTIME_RESTART",
    "RUNTIME_ROLLBACK",
    "RUNTIME_SYNC",
    "DeployError",
    "cluster_of",
    "placement_for",
    "repo_url",
]
