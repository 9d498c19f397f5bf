"""What is left of `runtime.deploy` and `runtime.remove`, the per-runtime kinds the reconciler
replaced (#14).

Nothing queues them any more, but an installation may hold such operations, pending or failed.
What they meant (this runtime applied, or removed, on that cluster) is what a reconcile pass of
the cluster does for every runtime, from the index as it is now; so running or retrying one
queues that pass instead of acting on the runtime alone.

An operation recorded before keeps its step rows under the former step names, and the engine
runs a row by its name: every former name stays registered, bound to the same step. The first
of them left to run queues the pass; the next ones of that run point to it.
"""

from __future__ import annotations

from clusters.models import Cluster
from nautes_portal.operations import Step
from nautes_portal.operations.models import Operation, OperationStep

TITLE = "Superseded: a reconcile pass of the cluster"
_QUEUED = "superseded: reconcile pass"
# The steps of the former kinds, as operations recorded before #14 name them.
FORMER_DEPLOY_STEPS = ("namespaces", "rbac", "appproject", "credentials", "application")
FORMER_REMOVE_STEPS = ("application", "namespaces", "project", "record")


def steps(former: tuple[str, ...]) -> list[Step]:
    """`reconcile` (what a new operation of the kind runs), then the former step names."""
    return [Step("reconcile", TITLE, reconcile_instead)] + [
        Step(name, f"{TITLE} (formerly step {name})", reconcile_instead) for name in former
    ]


def reconcile_instead(operation: Operation) -> str:
    # Imported when run: the reconciler plans with this package's `planning`.
    from deployments.reconciler import reconcile_start

    earlier = (
        operation.steps.filter(status=OperationStep.Status.SUCCEEDED, detail__startswith=_QUEUED)
        .exclude(finished_at__lt=operation.started_at)
        .order_by("position")
        .first()
    )
    if earlier is not None:
        return f"done by step {earlier.name} of this run"
    name = str(operation.params.get("cluster") or "")
    if not name or not Cluster.objects.filter(name=name).exists():
        return (
            f"nothing to do: {operation.kind} is superseded by reconcile passes, and its "
            f"cluster {name or '(none recorded)'} is not registered; the passes of the "
            "registered clusters apply the index as it is"
        )
    queued = reconcile_start(
        cluster_name=name, reason=f"superseded {operation.kind} of {operation.target}"
    )
    return (
        f"{_QUEUED} of cluster {name} queued (operation {queued.pk}); it applies or removes "
        "every runtime of the cluster as the index says now"
    )
