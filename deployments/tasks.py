"""Former django-q2 entry points of operations, now `nautes_portal.operations.tasks`.

Kept because tasks queued and retry schedules written before the engine moved to the core name
these paths; new ones name the core's.
"""

from __future__ import annotations

from nautes_portal.operations.tasks import resume_stale_operations, run_operation

__all__ = ["resume_stale_operations", "run_operation"]


def reconcile_due_clusters() -> dict[str, int]:
    """Scheduled every minute: queue the periodic reconcile pass of each cluster that is due."""
    from deployments.reconciler.triggers import reconcile_due_clusters as queue_due

    return queue_due()
