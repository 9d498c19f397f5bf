"""Recording audit events (who, what, when, commit, YAML diff)."""

from __future__ import annotations

import difflib
from typing import Any

from nautes_portal.models import AuditEvent
from nautes_portal.types import Actor, signed_in


def yaml_diff(path: str, old: bytes | None, new: bytes | None) -> str:
    """Return a unified diff of one file (empty side for creation or deletion)."""
    old_lines = old.decode().splitlines(keepends=True) if old else []
    new_lines = new.decode().splitlines(keepends=True) if new else []
    return "".join(
        difflib.unified_diff(
            old_lines,
            new_lines,
            fromfile=f"a/{path}" if old is not None else "/dev/null",
            tofile=f"b/{path}" if new is not None else "/dev/null",
        )
    )


def audit_record(
    *,
    actor: Actor,
    action: str,
    kind: str,
    name: str,
    product: Any = None,
    repository: str = "",
    commit_sha: str = "",
    diff: str = "",
    message: str = "",
) -> AuditEvent:
    """Store one audit event; `actor` may be None for system actions (sync)."""
    user = signed_in(actor)
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else (str(actor) if actor else "system"),
        action=action,
        kind=kind,
        name=name,
        product=product,
        product_name=product.name if product is not None else "",
        repository=repository,
        commit_sha=commit_sha,
        diff=diff,
        message=message,
    )
