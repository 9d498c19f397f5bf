"""Argo CD's health rules for the built-in kinds, on live objects (pure functions).

Written after gitops-engine's `pkg/health` (the rules Argo CD applies before any custom Lua
check), so a node's health here is the one Argo CD's console shows: Healthy, Progressing,
Degraded, Suspended, Missing or Unknown. `resource_health` answers None for a kind without a
built-in rule; the console then shows what the Application reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

HEALTHY, PROGRESSING, DEGRADED = "Healthy", "Progressing", "Degraded"
SUSPENDED, MISSING, UNKNOWN = "Suspended", "Missing", "Unknown"
# Argo CD's order, healthiest first: an aggregate is the worst of its parts.
ORDER = (HEALTHY, SUSPENDED, PROGRESSING, MISSING, DEGRADED, UNKNOWN)


@dataclass(frozen=True)
class Health:
    """A health status and why."""

    status: str
    message: str = ""


def worst(statuses: list[str]) -> str:
    """The worst status of several (Healthy for none)."""
    ranked = [ORDER.index(s) for s in statuses if s in ORDER]
    return ORDER[max(ranked)] if ranked else HEALTHY


def resource_health(obj: Obj) -> Health | None:
    """The object's health by Argo CD's built-in rule for its kind; None without a rule."""
    meta = obj.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Health(PROGRESSING, "Pending deletion")
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    rule = _RULES.get((group, str(obj.get("kind") or "")))
    if rule is None:
        return None
    return rule(obj)


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _spec_status(obj: Obj) -> tuple[Obj, Obj, Obj]:
    return obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}


def _condition(status: Obj, kind: str) -> Obj | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def _deployment(obj: Obj) -> Health:
    meta, spec, status = _spec_status(obj)
    if spec.get("paused"):
        return Health(SUSPENDED, "Deployment is paused")
    if _int(meta.get("generation")) > _int(status.get("observedGeneration")):
        return Health(
            PROGRESSING,
            "Waiting for rollout to finish: observed deployment generation less than desired "
            "generation",
        )
    progressing = _condition(status, "Progressing")
    updated, replicas = _int(status.get("updatedReplicas")), _int(status.get("replicas"))
    available = _int(status.get("availableReplicas"))
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Health(DEGRADED, f'Deployment "{meta.get("name")}" exceeded its progress deadline')
    wanted = spec.get("replicas")
    if isinstance(wanted, int) and updated < wanted:
        return Health(
            PROGRESSING,
            f"Waiting for rollout to finish: {updated} out of {wanted} new replicas have been "
            "updated...",
        )
    if replicas > updated:
        return Health(
            PROGRESSING,
            f"Waiting for rollout to finish: {replicas - updated} old replicas are pending "
            "termination...",
        )
    if available < updated:
        return Health(
            PROGRESSING,
            f"Waiting for rollout to finish: {available} of {updated} updated replicas are "
            "available...",
        )
    return Health(HEALTHY)


def _replicaset(obj: Obj) -> Health:
    meta, spec, status = _spec_status(obj)
    if _int(meta.get("generation")) > _int(status.get("observedGeneration")):
        return Health(
            PROGRESSING,
            "Waiting for rollout to finish: observed replica set generation less than desired "
            "generation",
        )
    failure = _condition(status, "ReplicaFailure")
    if failure and failure.get("status") == "True":
        return Health(DEGRADED, str(failure.get("message") or ""))
    wanted = spec.get("replicas")
    available = _int(status.get("availableReplicas"))
    if isinstance(wanted, int) and available < wanted:
        return Health(
            PROGRESSING,
            f"Waiting for rollout to finish: {available} out of {wanted} new replicas are "
            "available...",
        )
    return Health(HEALTHY)


def _statefulset(obj: Obj) -> Health:
    meta, spec, status = _spec_status(obj)
    observed = _int(status.get("observedGeneration"))
    if observed == 0 or _int(meta.get("generation")) > observed:
        return Health(PROGRESSING, "Waiting for statefulset spec update to be observed...")
    wanted, ready = spec.get("replicas"), _int(status.get("readyReplicas"))
    if isinstance(wanted, int) and ready < wanted:
        return Health(PROGRESSING, f"Waiting for {wanted - ready} pods to be ready...")
    strategy = spec.get("updateStrategy") or {}
    updated = _int(status.get("updatedReplicas"))
    rolling = strategy.get("rollingUpdate")
    if strategy.get("type") == "RollingUpdate" and rolling is not None:
        partition = rolling.get("partition")
        if isinstance(wanted, int) and isinstance(partition, int) and updated < wanted - partition:
            return Health(
                PROGRESSING,
                f"Waiting for partitioned roll out to finish: {updated} out of "
                f"{wanted - partition} new pods have been updated...",
            )
        return Health(
            HEALTHY, f"partitioned roll out complete: {updated} new pods have been updated..."
        )
    if strategy.get("type") == "OnDelete":
        return Health(HEALTHY, f"statefulset has {ready} ready pods")
    if status.get("updateRevision") != status.get("currentRevision"):
        return Health(
            PROGRESSING,
            f"waiting for statefulset rolling update to complete {updated} pods at revision "
            f"{status.get('updateRevision')}...",
        )
    return Health(
        HEALTHY,
        f"statefulset rolling update complete {_int(status.get('currentReplicas'))} pods at "
        f"revision {status.get('currentRevision')}...",
    )


def _daemonset(obj: Obj) -> Health:
    meta, spec, status = _spec_status(obj)
    if _int(meta.get("generation")) > _int(status.get("observedGeneration")):
        return Health(
            PROGRESSING,
            "Waiting for rollout to finish: observed daemon set generation less than desired "
            "generation",
        )
    updated = _int(status.get("updatedNumberScheduled"))
    wanted = _int(status.get("desiredNumberScheduled"))
    if (spec.get("updateStrategy") or {}).get("type") == "OnDelete":
        return Health(HEALTHY, f"daemon set {updated} out of {wanted} new pods have been updated")
    name = meta.get("name")
    if updated < wanted:
        return Health(
            PROGRESSING,
            f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {wanted} new '
            "pods have been updated...",
        )
    available = _int(status.get("numberAvailable"))
    if available < wanted:
        return Health(
            PROGRESSING,
            f'Waiting for daemon set "{name}" rollout to finish: {available} of {wanted} '
            "updated pods are available...",
        )
    return Health(HEALTHY)


def _waiting_failure(reason: str) -> bool:
    """Container waiting reasons that mean it failed: ErrImagePull, CrashLoopBackOff..."""
    return reason.startswith("Err") or reason.endswith(("Error", "BackOff"))


def _pod(obj: Obj) -> Health:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    policy = spec.get("restartPolicy") or "Always"
    containers = status.get("containerStatuses") or []
    message = str(status.get("message") or "")
    if policy == "Always":
        failing = [
            waiting
            for c in containers
            if (waiting := (c.get("state") or {}).get("waiting"))
            and _waiting_failure(str(waiting.get("reason") or ""))
        ]
        if failing:
            return Health(DEGRADED, ", ".join(str(w.get("message") or "") for w in failing))
    phase = status.get("phase")
    if phase == "Pending":
        return Health(PROGRESSING, message)
    if phase == "Succeeded":
        return Health(HEALTHY, message)
    if phase == "Failed":
        if message:
            return Health(DEGRADED, message)
        for container in (status.get("initContainerStatuses") or []) + containers:
            if failure := _termination_message(container):
                return Health(DEGRADED, failure)
        return Health(DEGRADED)
    if phase == "Running":
        if policy != "Always":
            return Health(PROGRESSING, message)  # a finite pod (a hook) is not done yet
        ready = _condition(status, "Ready")
        if ready and ready.get("status") == "True":
            return Health(HEALTHY, message)
        if any((c.get("lastState") or {}).get("terminated") for c in containers):
            return Health(DEGRADED, message)
        return Health(PROGRESSING, message)
    return Health(UNKNOWN, message)


def _termination_message(container: Obj) -> str:
    terminated = (container.get("state") or {}).get("terminated")
    if not terminated:
        return ""
    if terminated.get("message"):
        return str(terminated["message"])
    if terminated.get("reason") == "OOMKilled":
        return "OOMKilled"
    if _int(terminated.get("exitCode")):
        return f'container "{container.get("name")}" failed with exit code {terminated["exitCode"]}'
    return ""


def _job(obj: Obj) -> Health:
    status = obj.get("status") or {}
    failed = complete = suspended = False
    message = failure = ""
    for condition in status.get("conditions") or []:
        kind = condition.get("type")
        if kind == "Failed":
            failed = complete = True
            failure = str(condition.get("message") or "")
        elif kind == "Complete":
            complete = True
            message = str(condition.get("message") or "")
        elif kind == "Suspended":
            complete = True
            message = str(condition.get("message") or "")
            suspended = condition.get("status") == "True"
    if not complete:
        return Health(PROGRESSING, message)
    if failed:
        return Health(DEGRADED, failure)
    if suspended:
        return Health(SUSPENDED, failure)
    return Health(HEALTHY, message)


def _service(obj: Obj) -> Health:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return Health(HEALTHY)
    return _load_balanced(obj)


def _load_balanced(obj: Obj) -> Health:
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")
    return Health(HEALTHY if ingress else PROGRESSING)


def _claim(obj: Obj) -> Health:
    phase = str((obj.get("status") or {}).get("phase") or "")
    return Health({"Lost": DEGRADED, "Pending": PROGRESSING, "Bound": HEALTHY}.get(phase, UNKNOWN))


_RULES = {
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replicaset,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "PersistentVolumeClaim"): _claim,
    ("batch", "Job"): _job,
    ("networking.k8s.io", "Ingress"): _load_balanced,
    ("extensions", "Ingress"): _load_balanced,
}
