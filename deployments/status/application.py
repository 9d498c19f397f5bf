"""An Argo CD Application as `RuntimeStatus` columns: pure mapping, no database, no network."""

from __future__ import annotations

import datetime as dt
from typing import Any

Obj = dict[str, Any]

HISTORY_LIMIT = 10


def _time(value: Any) -> dt.datetime | None:
    """An Argo CD timestamp (RFC 3339, `Z`) as an aware datetime; None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _text(value: Any, limit: int = 2000) -> str:
    return str(value or "")[:limit]


def _resource(item: Obj) -> Obj:
    health = item.get("health") or {}
    return {
        "group": _text(item.get("group")),
        "kind": _text(item.get("kind")),
        "namespace": _text(item.get("namespace")),
        "name": _text(item.get("name")),
        "sync": _text(item.get("status")),
        "health": _text(health.get("status")),
        "message": _text(health.get("message"), 500),
    }


def _operation(state: Obj) -> Obj:
    result = state.get("syncResult") or {}
    operation = state.get("operation") or {}
    initiated = operation.get("initiatedBy") or {}
    failed = [
        {
            "kind": _text(r.get("kind")),
            "namespace": _text(r.get("namespace")),
            "name": _text(r.get("name")),
            "message": _text(r.get("message"), 500),
        }
        for r in result.get("resources") or []
        if r.get("status") == "SyncFailed" or r.get("hookPhase") in ("Failed", "Error")
    ]
    return {
        "started_at": state.get("startedAt") or "",
        "finished_at": state.get("finishedAt") or "",
        "revision": _text(result.get("revision") or (operation.get("sync") or {}).get("revision")),
        "initiated_by": "automated"
        if initiated.get("automated")
        else _text(initiated.get("username")),
        "retry_count": int(state.get("retryCount") or 0),
        "failed_resources": failed,
    }


def _history(entries: list[Obj]) -> list[Obj]:
    """The last HISTORY_LIMIT deployments, newest first."""
    return [
        {
            "id": entry.get("id"),
            "revision": _text(entry.get("revision") or ",".join(entry.get("revisions") or [])),
            "deployed_at": entry.get("deployedAt") or "",
            "started_at": entry.get("deployStartedAt") or "",
            "initiated_by": "automated"
            if (entry.get("initiatedBy") or {}).get("automated")
            else _text((entry.get("initiatedBy") or {}).get("username")),
        }
        for entry in reversed(entries[-HISTORY_LIMIT:])
    ]


def status_fields(app: Obj | None) -> Obj:
    """The status columns for an Application (None: Argo CD has no such Application)."""
    if app is None:
        return {
            "application_found": False,
            "sync_status": "",
            "revision": "",
            "health_status": "",
            "health_message": "",
            "operation_phase": "",
            "operation_message": "",
            "operation": {},
            "conditions": [],
            "resources": [],
            "history": [],
            "deployed_at": None,
            "reconciled_at": None,
        }
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    state = status.get("operationState") or {}
    history = status.get("history") or []
    revision = sync.get("revision") or ",".join(sync.get("revisions") or [])
    return {
        "application_found": True,
        # An Application Argo CD has not looked at yet has no status: that is "Unknown".
        "sync_status": _text(sync.get("status") or "Unknown", 16),
        "revision": _text(revision, 255),
        "health_status": _text(health.get("status") or "Unknown", 16),
        "health_message": _text(health.get("message")),
        "operation_phase": _text(state.get("phase"), 16),
        "operation_message": _text(state.get("message")),
        "operation": _operation(state) if state else {},
        "conditions": [
            {
                "type": _text(c.get("type")),
                "message": _text(c.get("message")),
                "last_transition": c.get("lastTransitionTime") or "",
            }
            for c in status.get("conditions") or []
        ],
        "resources": [_resource(r) for r in status.get("resources") or []],
        "history": _history(history),
        "deployed_at": _time(history[-1].get("deployedAt")) if history else None,
        "reconciled_at": _time(status.get("reconciledAt")),
    }


def source_version(app: Obj | None) -> str:
    """What identifies the Application as read: its uid and resourceVersion ("" if unknown).

    Argo CD writes status through the Application itself, so an unchanged resourceVersion means
    an unchanged status: such rows only get their read time bumped.
    """
    if app is None:
        return "absent"
    meta = app.get("metadata") or {}
    if not meta.get("resourceVersion"):
        return ""
    return f"{meta.get('uid', '')}/{meta['resourceVersion']}"[:128]
