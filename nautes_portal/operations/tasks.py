"""django-q2 entry points for operations (thin: ids in, state on the model)."""

from __future__ import annotations

from nautes_portal.operations.engine import operation_run, resume_stale


def run_operation(operation_id: int | str) -> str:
    return operation_run(int(operation_id)).status


def resume_stale_operations() -> int:
    return resume_stale()
