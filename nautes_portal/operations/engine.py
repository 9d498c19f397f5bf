"""Running operations: claim, run each pending step in order, record the outcome, retry.

A step is a function `(operation) -> str` (a short detail for the log) that must be idempotent:
running it again after a crash or a retry must not create a second group, key or object.
Steps are registered per operation kind by the apps (`register`, from their `AppConfig.ready`),
so the engine knows no app. A worker that dies leaves its operation `running` with an expired
lease; `resume_stale` picks it up again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from nautes_portal.errors import NautesError
from nautes_portal.operations.models import Operation, OperationStep
from nautes_portal.types import Actor, signed_in

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=10)
MAX_AUTOMATIC_ATTEMPTS = 3
BACKOFF_SECONDS = (5, 30, 120)
# The django-q2 entry point that runs one operation in a worker.
RUN_TASK = "nautes_portal.operations.tasks.run_operation"

StepFunction = Callable[[Operation], str]


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    run: StepFunction


_REGISTRY: dict[str, list[Step]] = {}


def register(kind: str, steps: list[Step]) -> None:
    """Declare the ordered steps of an operation kind."""
    _REGISTRY[kind] = steps


def steps_for(kind: str) -> list[Step]:
    return _REGISTRY[kind]


class OperationFailed(NautesError):
    """An operation stopped at a failed step; the message is that step's user-safe error."""

    status = 502
    reason = "OPERATION_FAILED"


def operation_create(
    *, kind: str, target: str, params: dict[str, Any], actor: Actor, product: Any = None
) -> Operation:
    """Record a pending operation with its steps (nothing runs yet)."""
    with transaction.atomic():
        operation = Operation.objects.create(
            kind=kind,
            target=target,
            params=params,
            product=product,
            product_name=product.name if product is not None else params.get("product", ""),
            created_by=signed_in(actor),
        )
        OperationStep.objects.bulk_create(
            OperationStep(operation=operation, position=i, name=s.name, title=s.title)
            for i, s in enumerate(steps_for(kind))
        )
    return operation


def operation_enqueue(operation: Operation) -> None:
    """Run the operation in a worker once the current transaction commits."""
    from django_q.tasks import async_task

    transaction.on_commit(lambda: async_task(RUN_TASK, operation.pk))


def _claim(operation_id: int) -> bool:
    """Atomically take the operation: pending, failed (retry) or running with a dead worker."""
    now = timezone.now()
    claimable = Q(status__in=[Operation.Status.PENDING, Operation.Status.FAILED]) | Q(
        status=Operation.Status.RUNNING, lease_until__lt=now
    )
    return bool(
        Operation.objects.filter(claimable, pk=operation_id).update(
            status=Operation.Status.RUNNING,
            lease_until=now + LEASE,
            error="",
            started_at=now,
            finished_at=None,
        )
    )


def operation_run(operation_id: int) -> Operation:
    """Run every step that has not succeeded yet, in order; stop at the first failure."""
    if not _claim(operation_id):
        return Operation.objects.get(pk=operation_id)
    operation = Operation.objects.get(pk=operation_id)
    steps = {s.name: s for s in steps_for(operation.kind)}
    for row in operation.steps.exclude(status=OperationStep.Status.SUCCEEDED).order_by("position"):
        row.status, row.started_at, row.finished_at = (
            OperationStep.Status.RUNNING,
            timezone.now(),
            None,
        )
        row.attempts += 1
        row.error = ""
        row.save(update_fields=["status", "started_at", "finished_at", "attempts", "error"])
        try:
            row.detail = steps[row.name].run(operation) or ""
        except NautesError as exc:
            _fail(operation, row, exc.message, retryable=getattr(exc, "retryable", False))
            return operation
        except Exception:
            logger.exception("step %s of operation %s crashed", row.name, operation.pk)
            _fail(
                operation,
                row,
                "Unexpected error; the details are in the portal's log.",
                retryable=False,
            )
            return operation
        row.status, row.finished_at = OperationStep.Status.SUCCEEDED, timezone.now()
        row.save(update_fields=["status", "finished_at", "detail"])
        Operation.objects.filter(pk=operation.pk).update(lease_until=timezone.now() + LEASE)
    operation.status, operation.finished_at = Operation.Status.SUCCEEDED, timezone.now()
    operation.lease_until = None
    operation.save(update_fields=["status", "finished_at", "lease_until"])
    return operation


def _fail(operation: Operation, row: OperationStep, message: str, *, retryable: bool) -> None:
    now = timezone.now()
    row.status, row.finished_at, row.error = OperationStep.Status.FAILED, now, message
    row.save(update_fields=["status", "finished_at", "error"])
    operation.status, operation.finished_at, operation.lease_until = (
        Operation.Status.FAILED,
        now,
        None,
    )
    operation.error = f"{row.title}: {message}"
    operation.save(update_fields=["status", "finished_at", "lease_until", "error"])
    if retryable and row.attempts < MAX_AUTOMATIC_ATTEMPTS:
        _schedule_retry(operation, BACKOFF_SECONDS[min(row.attempts, len(BACKOFF_SECONDS)) - 1])


def _schedule_retry(operation: Operation, delay: int) -> None:
    from django_q.models import Schedule

    Schedule.objects.create(
        name=f"retry operation {operation.pk} #{timezone.now().timestamp():.0f}",
        func=RUN_TASK,
        args=str(operation.pk),
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + dt.timedelta(seconds=delay),
        repeats=1,
    )


def operation_run_inline(operation: Operation) -> Operation:
    """Run now in this process; raise OperationFailed (with the operation id) on failure."""
    result = operation_run(operation.pk)
    if result.status != Operation.Status.SUCCEEDED:
        raise OperationFailed(
            result.error or "the operation did not finish",
            metadata={"operation": result.pk},
        )
    return result


def operation_retry(operation: Operation) -> None:
    """Queue a failed operation again; it resumes at its failed step."""
    if operation.status != Operation.Status.FAILED:
        from nautes_portal.errors import Conflict

        raise Conflict(
            f"operation {operation.pk} is {operation.status}; only failed ones can be retried"
        )
    operation_enqueue(operation)


def resume_stale() -> int:
    """Re-queue operations whose worker died (lease expired); return how many."""
    stale = list(
        Operation.objects.filter(
            status=Operation.Status.RUNNING, lease_until__lt=timezone.now()
        ).values_list("pk", flat=True)
    )
    from django_q.tasks import async_task

    for pk in stale:
        async_task(RUN_TASK, pk)
    return len(stale)
