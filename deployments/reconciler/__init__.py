"""The tenant operator for deployments: one reconciler per runtime cluster (#14).

Desired state: every DeploymentRuntime of the index placed on the cluster (through its
environment), rendered by `deployments.desired`. Observed state: the objects in the cluster
carrying an owner label. A pass (`cluster.reconcile`, an operation with steps) creates what is
missing, updates what differs (the hash of the desired body is kept in an annotation, and a
hand edit of a field the portal sets is seen too, so an unchanged object costs no write), and
deletes the objects this portal created whose runtime is gone. Objects without this portal's
labels are never changed or deleted; a name taken by someone else is a conflict on the runtime.
It also keeps the members' access: the product group's RoleBinding in every runtime namespace,
the product's block in `argocd-rbac-cm`, and the runtime accounts' Vault roles.

Modules: `state` (admission: which runtimes may be written, from the index), `objects` (the
desired bodies, hashes, and the write decision), `objects_pass` (observe, write, prune),
`records` (per-runtime results), `argocd_rbac`, `vault_access`, `operation` (steps, lease,
`reconcile_start`), `triggers` (when a pass runs). Importing it registers the kind.
"""

from __future__ import annotations

from deployments.reconciler.operation import reconcile_start

__all__ = ["reconcile_start"]
