"""The background-operations engine (DESIGN §3): ordered, named, idempotent steps, leases, retry.

`engine` runs operations; `models` holds `Operation` and `OperationStep` (in the core app);
`tasks` holds the django-q2 entry points. The apps register their operation kinds' steps from
their `AppConfig.ready`; the engine imports no app.
"""

from __future__ import annotations

from nautes_portal.operations.engine import (
    OperationFailed,
    Step,
    operation_create,
    operation_enqueue,
    operation_retry,
    operation_run,
    operation_run_inline,
    register,
    resume_stale,
    steps_for,
)

__all__ = [
    "OperationFailed",
    "Step",
    "operation_create",
    "operation_enqueue",
    "operation_retry",
    "operation_run",
    "operation_run_inline",
    "register",
    "resume_stale",
    "steps_for",
]
