"""The `runtime.*` operation kinds: what acts on one runtime.

`runtime.sync` asks Argo CD to sync one Application now (the "Sync now" action).

Deploying and removing runtimes is the reconciler's (`deployments.reconciler`, #14): a pass
over a cluster applies every runtime the index places there and removes what is gone. The
former per-runtime kinds `runtime.deploy` and `runtime.remove` stay registered for operations
queued or failed before it: run or retried, they queue a reconcile pass of their cluster
(`superseded`).

The package: `planning` (the kinds, DeployError, the runtime, product placement and cluster as
the index says now; the reconciler plans with it too), `context` (what a sync step works on, the
owned-object write), `sync` and `superseded` (the steps). Importing it registers the three
kinds with the operations engine.
"""

from __future__ import annotations

from deployments.deployer.planning import (
    RUNTIME_DEPLOY,
    RUNTIME_REMOVE,
    RUNTIME_SYNC,
    DeployError,
    cluster_of,
    placement_for,
    repo_url,
)
from deployments.deployer.superseded import FORMER_DEPLOY_STEPS, FORMER_REMOVE_STEPS, steps
from deployments.deployer.sync import sync_application
from nautes_portal.operations import Step, register

register(RUNTIME_DEPLOY, steps(FORMER_DEPLOY_STEPS))
register(RUNTIME_REMOVE, steps(FORMER_REMOVE_STEPS))
register(RUNTIME_SYNC, [Step("sync", "Ask Argo CD to sync now", sync_application)])

__all__ = [
    "RUNTIME_DEPLOY",
    "RUNTIME_REMOVE",
    "RUNTIME_SYNC",
    "DeployError",
    "cluster_of",
    "placement_for",
    "repo_url",
]
