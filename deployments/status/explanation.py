"""`explain(status)`: why a runtime is not synced or not healthy, in plain sentences.

It reads the conditions, the last operation and the degraded resources of a row.
"""

from __future__ import annotations

import datetime as dt

from deployments.models import RuntimeStatus
from deployments.status.application import Obj

_CONDITION_WORDS = {
    "ComparisonError": "Argo CD cannot compare Git with the cluster",
    "InvalidSpecError": "The Application's definition is invalid",
    "SyncError": "The last sync failed",
    "UnknownError": "Argo CD hit an unexpected error",
    "DeletionError": "Argo CD could not delete resources",
    "OrphanedResourceWarning": "The namespace holds resources that are not in Git",
    "SharedResourceWarning": "Another application manages the same resource",
    "RepeatedResourceWarning": "A resource appears twice in the manifests",
    "ExcludedResourceWarning": "A resource kind is excluded from Argo CD",
}


def _ago(moment: dt.datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _object(item: Obj) -> str:
    where = f"{item['namespace']}/" if item.get("namespace") else ""
    return f"{item.get('kind') or 'resource'} {where}{item.get('name')}"


def explain(status: RuntimeStatus) -> list[str]:
    """Why the runtime is not synced or not healthy, in plain sentences ([] when all is well)."""
    lines: list[str] = []
    if not status.reachable:
        since = f"unknown since {_ago(status.read_at)}" if status.read_at else "never read so far"
        lines.append(
            f"The portal could not read cluster {status.cluster or '?'} at "
            f"{_ago(status.checked_at)}: the status is {since}. {status.error}".strip()
        )
        if status.read_at is None:
            return lines
    if not status.application_found:
        lines.append(
            f"Argo CD on cluster {status.cluster} has no Application {status.runtime_name}: the "
            "runtime has not been deployed yet, or the Application was deleted by hand. "
            "Re-apply the runtime."
        )
        return lines
    for condition in status.conditions:
        words = _CONDITION_WORDS.get(condition["type"], f"Argo CD reports {condition['type']}")
        lines.append(f"{words}: {condition['message']}")
    operation = status.operation or {}
    if status.operation_phase in ("Failed", "Error"):
        revision = (operation.get("revision") or "")[:8]
        at = f" at revision {revision}" if revision else ""
        lines.append(
            f"The last sync{at} (started {operation.get('started_at') or '?'}) "
            f"{'failed' if status.operation_phase == 'Failed' else 'stopped with an error'}: "
            f"{status.operation_message or 'no message'}"
        )
        for item in operation.get("failed_resources") or []:
            lines.append(f"{_object(item)} could not be applied: {item['message']}")
    elif status.operation_phase in ("Running", "Terminating"):
        lines.append(f"A sync is running since {operation.get('started_at') or '?'}.")
    if status.sync_status == RuntimeStatus.Sync.OUT_OF_SYNC:
        drifted = [r for r in status.resources if r.get("sync") == "OutOfSync"]
        named = ", ".join(_object(r) for r in drifted[:5])
        more = f" and {len(drifted) - 5} more" if len(drifted) > 5 else ""
        lines.append(
            "The cluster differs from Git"
            + (f" at revision {status.revision[:8]}" if status.revision else "")
            + (f": {named}{more} out of sync." if drifted else ".")
        )
    elif status.sync_status == RuntimeStatus.Sync.UNKNOWN:
        lines.append(
            "Argo CD could not tell whether the cluster matches Git (usually the repository "
            "cannot be read or the manifests cannot be generated)."
        )
    health = status.health_status
    if health and health != RuntimeStatus.Health.HEALTHY:
        by_health: dict[str, str] = {
            RuntimeStatus.Health.DEGRADED: "is degraded",
            RuntimeStatus.Health.PROGRESSING: "is still rolling out",
            RuntimeStatus.Health.MISSING: "has resources missing from the cluster",
            RuntimeStatus.Health.SUSPENDED: "is suspended (paused or waiting)",
            RuntimeStatus.Health.UNKNOWN: "has an unknown health",
        }
        sentence = f"The application {by_health.get(health, f'is {health}')}"
        lines.append(
            f"{sentence}: {status.health_message}." if status.health_message else f"{sentence}."
        )
        unhealthy = [r for r in status.resources if r.get("health") not in ("", "Healthy")]
        for item in unhealthy[:10]:
            message = f": {item['message']}" if item.get("message") else ""
            lines.append(f"{_object(item)} is {item['health']}{message}")
    return lines
