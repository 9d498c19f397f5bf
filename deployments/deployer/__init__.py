"""Deploying DeploymentRuntimes into runtime clusters: the `runtime.*` operation kinds.

`runtime.deploy` ensures, for one runtime on its environment's cluster, what the Nautes runtime
operator would (reference/nautes.md §5.8; the objects come from `deployments.desired`):
namespaces → RBAC → AppProject → repository credentials → Application. `runtime.remove` undoes
it: the Application, then the runtime namespaces no other runtime of the product uses there, then
the AppProject, repository Secrets, product RoleBinding and product namespace once no runtime of
the product is left on that cluster (else the AppProject is recomputed). `runtime.sync` asks
Argo CD for a sync now.

Steps read the index at run time, so a retry applies the current configuration. Every object
carries the owner label; the kube adapter refuses to touch an object without it (ClusterConflict,
a failed step with a clear message). Applying twice gives the same objects.

Namespace ownership is checked here again, whatever the index holds (a runtime may come from
Git): a runtime namespace the product may not use (`products.rules.namespace_refusal`), or one
that exists without the product's owner label (allowed component namespaces aside), fails the
`namespaces` step before anything is created; RoleBindings (to ClusterRole `admin`, never
`cluster-admin`) go only into namespaces the product owns there or was granted; AppProject
destinations are only those namespaces.

The package: `planning` (the kinds, DeployError, reading the index), `context` (the step context,
the owned-object write and the namespace checks), `deploy`, `remove` and `sync` (the steps of
each kind). Importing it registers the three kinds with the operations engine.
"""

from __future__ import annotations

from deployments.deployer.deploy import (
    deploy_app_project,
    deploy_application,
    deploy_namespaces,
    deploy_rbac,
    deploy_repository_credentials,
)
from deployments.deployer.planning import (
    RUNTIME_DEPLOY,
    RUNTIME_REMOVE,
    RUNTIME_SYNC,
    DeployError,
    cluster_of,
    placement_for,
    repo_url,
    runtimes_on_cluster,
)
from deployments.deployer.remove import (
    remove_application,
    remove_namespaces,
    remove_product_objects,
    remove_record,
)
from deployments.deployer.sync import sync_application
from nautes_portal.operations import Step, register

register(
    RUNTIME_DEPLOY,
    [
        Step("namespaces", "Ensure the product and runtime namespaces", deploy_namespaces),
        Step("rbac", "Ensure the RoleBindings and the runtime account", deploy_rbac),
        Step("appproject", "Ensure the Argo CD AppProject", deploy_app_project),
        Step("credentials", "Ensure the repository credentials", deploy_repository_credentials),
        Step("application", "Ensure the Argo CD Application", deploy_application),
    ],
)
register(
    RUNTIME_REMOVE,
    [
        Step("application", "Delete the Argo CD Application", remove_application),
        Step("namespaces", "Delete runtime namespaces no longer used", remove_namespaces),
        Step("project", "Remove or recompute the product's objects", remove_product_objects),
        Step("record", "Forget the deployment record", remove_record),
    ],
)
register(RUNTIME_SYNC, [Step("sync", "Ask Argo CD to sync now", sync_application)])

__all__ = [
    "RUNTIME_DEPLOY",
    "RUNTIME_REMOVE",
    "RUNTIME_SYNC",
    "DeployError",
    "cluster_of",
    "placement_for",
    "repo_url",
    "runtimes_on_cluster",
]
