"""Argo CD's built-in health rules as the console applies them (cases after gitops-engine's
`pkg/health` tests, objects written here)."""

from __future__ import annotations

from typing import Any

import pytest

from deployments.console.health import resource_health, worst


def obj(api_version: str, kind: str, spec: Any = None, status: Any = None, **meta: Any) -> dict:
    body: dict[str, Any] = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", **meta},
    }
    if spec is not None:
        body["spec"] = spec
    if status is not None:
        body["status"] = status
    return body


def deployment(status: dict[str, Any], replicas: int = 2, **spec: Any) -> dict:
    return obj("apps/v1", "Deployment", {"replicas": replicas, **spec}, status, generation=2)


AVAILABLE = {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
DEADLINE = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}


def container(waiting: str = "", *, ready: bool = True, last: str = "") -> dict[str, Any]:
    status: dict[str, Any] = {"name": "app", "ready": ready, "restartCount": 0}
    status["state"] = (
        {"waiting": {"reason": waiting, "message": f"{waiting}!"}} if waiting else {"running": {}}
    )
    if last:
        status["lastState"] = {"terminated": {"reason": last, "exitCode": 1}}
    return status


def pod(
    phase: str, *containers: dict[str, Any], ready: bool = True, policy: str = "", **extra: Any
) -> dict:
    spec = {"restartPolicy": policy} if policy else {}
    status = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        "containerStatuses": list(containers),
        **extra,
    }
    return obj("v1", "Pod", spec, status)


CASES: list[tuple[str, dict[str, Any], str]] = [
    ("deployment available", deployment(AVAILABLE), "Healthy"),
    ("deployment paused", deployment(AVAILABLE, paused=True), "Suspended"),
    (
        "deployment generation not observed",
        deployment({**AVAILABLE, "observedGeneration": 1}),
        "Progressing",
    ),
    ("deployment updating", deployment({**AVAILABLE, "updatedReplicas": 1}), "Progressing"),
    ("deployment old replicas", deployment({**AVAILABLE, "replicas": 3}), "Progressing"),
    ("deployment unavailable", deployment({**AVAILABLE, "availableReplicas": 1}), "Progressing"),
    (
        "deployment deadline",
        deployment({**AVAILABLE, "availableReplicas": 0, "conditions": [DEADLINE]}),
        "Degraded",
    ),
    (
        "replicaset short",
        obj("apps/v1", "ReplicaSet", {"replicas": 2}, {"availableReplicas": 1}),
        "Progressing",
    ),
    (
        "replicaset failure",
        obj(
            "apps/v1",
            "ReplicaSet",
            {"replicas": 1},
            {"conditions": [{"type": "ReplicaFailure", "status": "True", "message": "quota"}]},
        ),
        "Degraded",
    ),
    (
        "replicaset ok",
        obj("apps/v1", "ReplicaSet", {"replicas": 1}, {"availableReplicas": 1}),
        "Healthy",
    ),
    ("statefulset unobserved", obj("apps/v1", "StatefulSet", {"replicas": 1}, {}), "Progressing"),
    (
        "statefulset not ready",
        obj(
            "apps/v1", "StatefulSet", {"replicas": 2}, {"observedGeneration": 1, "readyReplicas": 1}
        ),
        "Progressing",
    ),
    (
        "statefulset partition done",
        obj(
            "apps/v1",
            "StatefulSet",
            {
                "replicas": 2,
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            },
            {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2},
        ),
        "Healthy",
    ),
    (
        "statefulset rolling",
        obj(
            "apps/v1",
            "StatefulSet",
            {"replicas": 1, "updateStrategy": {"type": "RollingUpdate"}},
            {
                "observedGeneration": 1,
                "readyReplicas": 1,
                "currentRevision": "a",
                "updateRevision": "b",
            },
        ),
        "Progressing",
    ),
    (
        "statefulset on delete",
        obj(
            "apps/v1",
            "StatefulSet",
            {"replicas": 1, "updateStrategy": {"type": "OnDelete"}},
            {"observedGeneration": 1, "readyReplicas": 1},
        ),
        "Healthy",
    ),
    (
        "daemonset updating",
        obj("apps/v1", "DaemonSet", {}, {"desiredNumberScheduled": 2, "updatedNumberScheduled": 1}),
        "Progressing",
    ),
    (
        "daemonset unavailable",
        obj(
            "apps/v1",
            "DaemonSet",
            {},
            {"desiredNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 1},
        ),
        "Progressing",
    ),
    (
        "daemonset ok",
        obj(
            "apps/v1",
            "DaemonSet",
            {},
            {"desiredNumberScheduled": 1, "updatedNumberScheduled": 1, "numberAvailable": 1},
        ),
        "Healthy",
    ),
    ("pod ready", pod("Running", container()), "Healthy"),
    ("pod pending", pod("Pending", container(ready=False), ready=False), "Progressing"),
    (
        "pod crash loop",
        pod("Running", container("CrashLoopBackOff", ready=False), ready=False),
        "Degraded",
    ),
    (
        "pod image pull",
        pod("Pending", container("ImagePullBackOff", ready=False), ready=False),
        "Degraded",
    ),
    (
        "pod err image pull",
        pod("Pending", container("ErrImagePull", ready=False), ready=False),
        "Degraded",
    ),
    (
        "pod config error",
        pod("Pending", container("CreateContainerConfigError", ready=False), ready=False),
        "Degraded",
    ),
    (
        "pod creating",
        pod("Pending", container("ContainerCreating", ready=False), ready=False),
        "Progressing",
    ),
    (
        "pod restarted not ready",
        pod("Running", container(ready=False, last="Error"), ready=False),
        "Degraded",
    ),
    ("pod not ready yet", pod("Running", container(ready=False), ready=False), "Progressing"),
    ("pod never restarts running", pod("Running", container(), policy="Never"), "Progressing"),
    (
        "hook pod backoff is not degraded",
        pod("Running", container("CrashLoopBackOff"), policy="OnFailure"),
        "Progressing",
    ),
    ("pod failed", pod("Failed", container(), message="evicted"), "Degraded"),
    ("pod succeeded", pod("Succeeded", container()), "Healthy"),
    ("pod unknown phase", pod("Unknown", container()), "Unknown"),
    (
        "pod being deleted",
        {
            **pod("Running", container()),
            "metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"},
        },
        "Progressing",
    ),
    ("job running", obj("batch/v1", "Job", {}, {"active": 1}), "Progressing"),
    (
        "job complete",
        obj("batch/v1", "Job", {}, {"conditions": [{"type": "Complete", "status": "True"}]}),
        "Healthy",
    ),
    (
        "job failed",
        obj("batch/v1", "Job", {}, {"conditions": [{"type": "Failed", "status": "True"}]}),
        "Degraded",
    ),
    (
        "job suspended",
        obj("batch/v1", "Job", {}, {"conditions": [{"type": "Suspended", "status": "True"}]}),
        "Suspended",
    ),
    ("service cluster ip", obj("v1", "Service", {"type": "ClusterIP"}, {}), "Healthy"),
    (
        "service lb pending",
        obj("v1", "Service", {"type": "LoadBalancer"}, {"loadBalancer": {}}),
        "Progressing",
    ),
    (
        "service lb ready",
        obj(
            "v1",
            "Service",
            {"type": "LoadBalancer"},
            {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}},
        ),
        "Healthy",
    ),
    (
        "ingress pending",
        obj("networking.k8s.io/v1", "Ingress", {}, {"loadBalancer": {}}),
        "Progressing",
    ),
    (
        "ingress ready",
        obj(
            "networking.k8s.io/v1",
            "Ingress",
            {},
            {"loadBalancer": {"ingress": [{"hostname": "h"}]}},
        ),
        "Healthy",
    ),
    ("pvc bound", obj("v1", "PersistentVolumeClaim", {}, {"phase": "Bound"}), "Healthy"),
    ("pvc pending", obj("v1", "PersistentVolumeClaim", {}, {"phase": "Pending"}), "Progressing"),
    ("pvc lost", obj("v1", "PersistentVolumeClaim", {}, {"phase": "Lost"}), "Degraded"),
]


@pytest.mark.parametrize(("case", "body", "expected"), CASES, ids=[c[0] for c in CASES])
def test_argo_cd_health_rules(case: str, body: dict[str, Any], expected: str) -> None:
    health = resource_health(body)
    assert health is not None and health.status == expected, (case, health)


def test_messages_say_why() -> None:
    degraded = resource_health(deployment({**AVAILABLE, "conditions": [DEADLINE]}))
    assert (
        degraded is not None and degraded.message == 'Deployment "x" exceeded its progress deadline'
    )
    waiting = resource_health(
        pod("Running", container("CrashLoopBackOff", ready=False), ready=False)
    )
    assert waiting is not None and waiting.message == "CrashLoopBackOff!"
    killed = {"name": "app", "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}
    failed = obj("v1", "Pod", {}, {"phase": "Failed", "containerStatuses": [killed]})
    health = resource_health(failed)
    assert health is not None and health.message == "OOMKilled"


def test_kinds_without_a_rule_have_none() -> None:
    assert resource_health(obj("v1", "ConfigMap")) is None
    assert resource_health(obj("argoproj.io/v1alpha1", "Rollout", {}, {})) is None
    assert resource_health(obj("example.com/v1", "Deployment", {}, {})) is None


def test_worst_follows_argo_cds_order() -> None:
    assert worst(["Healthy", "Progressing", "Suspended"]) == "Progressing"
    assert worst(["Healthy", "Missing", "Degraded"]) == "Degraded"
    assert worst([]) == "Healthy"
