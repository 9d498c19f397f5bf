"""Kubernetes clusters: the only package that talks to cluster API servers (official client).

`KubeClient.from_kubeconfig()` builds an isolated `kubernetes` ApiClient per cluster (the global
default configuration is never touched) and speaks the generic REST paths through that client,
so core, RBAC and custom resources (Argo CD) share one code path: no discovery round-trips and no
discovery cache on disk, as `kubernetes.dynamic` would need. Objects are plain dicts.

Every `ensure_*`/`delete_*` honours an owner label (`resource.nautes.io/belongsto=product-<gid>`,
as the Nautes runtime operator does): the portal never takes over or deletes an object it does
not own. It never writes a ClusterRoleBinding nor any binding to `cluster-admin`. Errors are
translated here into `ClusterError`s whose messages name the API server, never a credential.
The kubeconfig is never written to disk: certificate data is loaded into an SSLContext in
memory (client keys through an anonymous memory file where the OS has one).

The package, one module per job: `errors` (what can go wrong), `interface` (`ClusterApi`),
`kubeconfig` (parse and check it, TLS in memory), `transport` (one request, failures as
errors), `objects` (REST paths and object bodies) and `client` (`KubeClient`).
"""

from __future__ import annotations

from nautes_portal.integrations.kube.client import KubeClient
from nautes_portal.integrations.kube.errors import (
    ClusterConflict,
    ClusterError,
    ClusterForbidden,
    ClusterUnauthorized,
    ClusterUnreachable,
    KubeconfigInvalid,
)
from nautes_portal.integrations.kube.interface import ClusterApi
from nautes_portal.integrations.kube.kubeconfig import display_server

# Items per page of a list call; read at call time (`package._PAGE_SIZE`), so it is set here.
_PAGE_SIZE = 500

__all__ = [
    "ClusterApi",
    "ClusterConflict",
    "ClusterError",
    "ClusterForbidden",
    "ClusterUnauthorized",
    "ClusterUnreachable",
    "KubeClient",
    "KubeconfigInvalid",
    "display_server",
]
