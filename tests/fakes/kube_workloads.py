"""Workloads for the fake Kubernetes API server (`kube_server.FakeKubeServer.workloads`).

Serves apps/v1 Deployments, ReplicaSets, StatefulSets and DaemonSets, batch/v1 Jobs and
CronJobs, core Pods, Services, PersistentVolumeClaims and Events, networking.k8s.io/v1
Ingresses, with minimal controllers: a Deployment owns one ReplicaSet per pod template
(`pod-template-hash`), a ReplicaSet its Pods (`ownerReferences`), a StatefulSet `<name>-<i>`
Pods, a DaemonSet one Pod (one node), a Job one Pod that completes; deleting an owner deletes
what it owns; controllers record Events. Pods, their logs and Events: `kube_kubelet.py`.

Deliberate simplifications (tests must not rely on them):

* Controllers run synchronously inside the write that triggers them: right after a Deployment
  is created (or its `spec.template` changes, e.g. a `kubectl rollout restart` PATCH of
  `kubectl.kubernetes.io/restartedAt`) its new ReplicaSet and Pods exist, Running and Ready, and
  the old ReplicaSets are scaled to 0 with their Pods gone. No surge, no minReadySeconds.
* A PersistentVolumeClaim is Bound at once (a provisioner is assumed); a Service of type
  LoadBalancer gets no address unless a test sets one (`set_status`).
* Deleting an owner deletes its dependents at once (background propagation, no orphaning).
Test controls: `set_pod_log`, `append_pod_log`, `crash_loop` (its owners' status follows),
`exceed_progress_deadline`, `add_event`.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from typing import TYPE_CHECKING, Any

from tests.fakes.kube_kubelet import (
    EVENTS,
    NODE,
    PODS,
    Kubelet,
    record_event,
    timestamp,
    write_status,
)
from tests.fakes.kube_server import JsonDict, ResourceType, TextReply

if TYPE_CHECKING:
    from tests.fakes.kube_server import FakeKubeServer

_APPS, _BATCH, _NET = "apps", "batch", "networking.k8s.io"
REPLICASETS = ResourceType(
    _APPS,
    "v1",
    "replicasets",
    "ReplicaSet",
    True,
    short_names=("rs",),
    status_subresource=True,
    field_labels=("status.replicas",),
)


def _workload(group: str, plural: str, kind: str, short: str) -> ResourceType:
    return ResourceType(
        group, "v1", plural, kind, True, short_names=(short,), status_subresource=True
    )


WORKLOAD_TYPES: tuple[ResourceType, ...] = (
    PODS,
    EVENTS,
    REPLICASETS,
    _workload("", "services", "Service", "svc"),
    _workload("", "persistentvolumeclaims", "PersistentVolumeClaim", "pvc"),
    _workload(_APPS, "deployments", "Deployment", "deploy"),
    _workload(_APPS, "statefulsets", "StatefulSet", "sts"),
    _workload(_APPS, "daemonsets", "DaemonSet", "ds"),
    _workload(_BATCH, "jobs", "Job", "job"),
    _workload(_BATCH, "cronjobs", "CronJob", "cj"),
    _workload(_NET, "ingresses", "Ingress", "ing"),
)
_TYPES = {(t.group, t.plural): t for t in WORKLOAD_TYPES}
# Types whose metadata.generation the API server keeps (bumped on every spec change): of these,
# the ones outside the core group.
_GENERATION = {(t.group, t.plural) for t in WORKLOAD_TYPES if t.group}
_REVISION = "deployment.kubernetes.io/revision"
_HASH = "pod-template-hash"


def template_hash(template: JsonDict) -> str:
    """A stable hash of a pod template, as the `pod-template-hash` label carries one."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    # Safe alphabet of the real controller (no vowels: no words in names).
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    number = int(digest[:16], 16)
    chars = []
    for _ in range(10):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def _suffix() -> str:
    return "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))


def _owner_ref(owner: JsonDict) -> JsonDict:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _ready(pod: JsonDict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _spec_of(obj: JsonDict) -> Any:
    return obj.get("spec")


class Workloads:
    """The controllers, the kubelet and the pod logs of one fake API server."""

    types = WORKLOAD_TYPES

    def __init__(self, server: FakeKubeServer) -> None:
        self.server = server
        self.kubelet = Kubelet(server)
        self._deadline_exceeded: set[tuple[str, str, str]] = set()  # (ns, deployment, hash)

    # -- Hooks called by the server (inside its lock) -----------------------------
    def prepare(self, rtype: ResourceType, obj: JsonDict, old: JsonDict | None) -> None:
        """Defaulting a real API server does before storing a create (`old` None) or update."""
        key = (rtype.group, rtype.plural)
        if key not in _TYPES or rtype.custom:
            return
        meta = obj["metadata"]
        if key in _GENERATION:
            if old is None:
                meta["generation"] = 1
            else:
                changed = _spec_of(obj) != _spec_of(old)
                meta["generation"] = old["metadata"].get("generation", 1) + int(changed)
        if old is not None:
            return
        if rtype.status_subresource:
            obj.pop("status", None)  # status is the controllers' on create
        spec = obj.setdefault("spec", {}) if rtype.plural != "events" else {}
        if rtype.plural == "pods":
            spec.setdefault("restartPolicy", "Always")
            spec.setdefault("nodeName", NODE)
            spec.setdefault("serviceAccountName", "default")
        elif rtype.plural == "services":
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("clusterIP", f"10.43.{secrets.randbelow(250)}.{secrets.randbelow(250)}")
            obj["status"] = {"loadBalancer": {}}
        elif rtype.plural == "ingresses":
            obj["status"] = {"loadBalancer": {}}
        elif rtype.plural == "persistentvolumeclaims":
            obj["status"] = {"phase": "Bound", "accessModes": spec.get("accessModes") or []}
        elif rtype.plural == "statefulsets":
            spec.setdefault("replicas", 1)
            spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {}})
            spec["updateStrategy"].get("rollingUpdate", {}).setdefault("partition", 0)
        elif rtype.plural in ("deployments", "replicasets"):
            spec.setdefault("replicas", 1)
        elif rtype.plural == "events":
            obj.setdefault("count", 1)
            obj.setdefault("type", "Normal")

    def written(self, rtype: ResourceType, obj: JsonDict, old: JsonDict | None) -> None:
        """Run the controllers after a create or update."""
        if rtype.custom:
            return
        plural = rtype.plural
        if plural == "pods" and old is None:
            self.kubelet.start_pod(obj)
        elif plural == "deployments":
            self._deployment(obj)
        elif plural == "replicasets":
            self._replicaset(obj)
        elif plural in ("statefulsets", "daemonsets"):
            self._pods_of_set(obj)
        elif plural == "jobs" and old is None:
            self._job(obj)

    def deleted(self, rtype: ResourceType, obj: JsonDict) -> None:
        """After an API DELETE: garbage-collect what `obj` owned; the controller owning a
        deleted Pod replaces it (a ReplicaSet with a new name, a StatefulSet with the same)."""
        self._collect(obj)
        owner = self._owner(obj)
        if rtype.plural == "pods" and owner is not None:
            self.written(owner[0], owner[1], owner[1])

    # -- Controllers ---------------------------------------------------------------
    def _deployment(self, deployment: JsonDict) -> None:
        meta, spec = deployment["metadata"], deployment.get("spec") or {}
        namespace = meta["namespace"]
        template = spec.get("template") or {}
        wanted_hash = template_hash(template)
        owned = self._owned(REPLICASETS, deployment)
        current = next(
            (r for r in owned if r["metadata"].get("labels", {}).get(_HASH) == wanted_hash), None
        )
        replicas = int(spec.get("replicas", 1))
        if current is None:
            revision = 1 + max(
                (int(r["metadata"].get("annotations", {}).get(_REVISION, 0)) for r in owned),
                default=0,
            )
            labels = {**((template.get("metadata") or {}).get("labels") or {}), _HASH: wanted_hash}
            selector = copy.deepcopy(spec.get("selector") or {"matchLabels": {}})
            selector.setdefault("matchLabels", {})[_HASH] = wanted_hash
            pod_template = copy.deepcopy(template)
            pod_template.setdefault("metadata", {})["labels"] = labels
            name = f"{meta['name']}-{wanted_hash}"
            self._modify(deployment, annotations={_REVISION: str(revision)})
            self._record(
                deployment,
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {replicas}",
                component="deployment-controller",
            )
            self.server._create(
                REPLICASETS,
                namespace,
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": name,
                        "namespace": namespace,
                        "labels": labels,
                        "annotations": {_REVISION: str(revision)},
                        "ownerReferences": [_owner_ref(deployment)],
                    },
                    "spec": {"replicas": replicas, "selector": selector, "template": pod_template},
                },
            )
        elif int(current["spec"].get("replicas", 1)) != replicas:
            self._modify(current, spec={"replicas": replicas})
        for old in owned:
            if old is not current and int(old["spec"].get("replicas", 0)) > 0:
                before = old["spec"]["replicas"]
                self._modify(old, spec={"replicas": 0})
                self._record(
                    deployment,
                    "ScalingReplicaSet",
                    f"Scaled down replica set {old['metadata']['name']} from {before} to 0",
                    component="deployment-controller",
                )
        self._deployment_status(namespace, meta["name"])

    def _replicaset(self, replicaset: JsonDict) -> None:
        wanted = int((replicaset.get("spec") or {}).get("replicas", 1))
        pods = self._owned(PODS, replicaset)
        for pod in pods[wanted:]:
            self._remove(pod)
            self._record(replicaset, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
        for _ in range(wanted - len(pods)):
            name = f"{replicaset['metadata']['name']}-{_suffix()}"
            self._new_pod(replicaset, name, {})
            self._record(replicaset, "SuccessfulCreate", f"Created pod: {name}")
        self._set_status_of(replicaset)

    def _pods_of_set(self, owner: JsonDict) -> None:
        """A StatefulSet's `<name>-<i>` Pods, or a DaemonSet's Pod on the one node; Pods of an
        older template are replaced at once."""
        name, spec = owner["metadata"]["name"], owner.get("spec") or {}
        revision = f"{name}-{template_hash(spec.get('template') or {})}"
        stateful = owner["kind"] == "StatefulSet"
        label = "controller-revision-hash"
        pods = self._owned(PODS, owner)
        for pod in pods:
            if pod["metadata"].get("labels", {}).get(label) != revision:
                self._remove(pod)
        pods = [p for p in pods if p["metadata"].get("labels", {}).get(label) == revision]
        names = (
            [f"{name}-{i}" for i in range(int(spec.get("replicas", 1)))]
            if stateful
            else [pods[0]["metadata"]["name"] if pods else f"{name}-{_suffix()}"]
        )
        for pod in pods:
            if pod["metadata"]["name"] not in names:
                self._remove(pod)
        existing = {p["metadata"]["name"] for p in pods}
        for pod_name in names:
            if pod_name not in existing:
                extra = {label: revision}
                if stateful:
                    extra["statefulset.kubernetes.io/pod-name"] = pod_name
                self._new_pod(owner, pod_name, extra)
                self._record(
                    owner,
                    "SuccessfulCreate",
                    f"create Pod {pod_name} in {owner['kind']} {name} successful",
                )
        self._set_status_of(owner)

    def _job(self, job: JsonDict) -> None:
        name = f"{job['metadata']['name']}-{_suffix()}"
        uid = job["metadata"]["uid"]
        labels = {
            "job-name": job["metadata"]["name"],
            "batch.kubernetes.io/job-name": job["metadata"]["name"],
            "controller-uid": uid,
        }
        self._new_pod(job, name, labels)
        self._record(job, "SuccessfulCreate", f"Created pod: {name}")
        self._record(job, "Completed", "Job completed")
        self._set_status_of(job)

    def _new_pod(self, owner: JsonDict, name: str, labels: dict[str, str]) -> None:
        template = copy.deepcopy((owner.get("spec") or {}).get("template") or {})
        template_meta = template.get("metadata") or {}
        namespace = owner["metadata"]["namespace"]
        self.server._create(
            PODS,
            namespace,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": {**(template_meta.get("labels") or {}), **labels},
                    **(
                        {"annotations": template_meta["annotations"]}
                        if template_meta.get("annotations")
                        else {}
                    ),
                    "ownerReferences": [_owner_ref(owner)],
                },
                "spec": template.get("spec") or {"containers": []},
            },
        )

    # -- Status --------------------------------------------------------------------
    def _set_status_of(self, obj: JsonDict) -> None:
        """Recompute a controller's status from its Pods, then its owner's."""
        meta, spec = obj["metadata"], obj.get("spec") or {}
        pods = self._owned(PODS, obj)
        ready = sum(1 for p in pods if _ready(p))
        generation = meta.get("generation", 1)
        kind = obj["kind"]
        if kind == "ReplicaSet":
            status: JsonDict = {
                "replicas": len(pods),
                "fullyLabeledReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": generation,
            }
        elif kind == "StatefulSet":
            revision = f"{meta['name']}-{template_hash(spec.get('template') or {})}"
            status = {
                "replicas": len(pods),
                "readyReplicas": ready,
                "currentReplicas": len(pods),
                "updatedReplicas": len(pods),
                "availableReplicas": ready,
                "currentRevision": revision,
                "updateRevision": revision,
                "observedGeneration": generation,
                "collisionCount": 0,
            }
        elif kind == "DaemonSet":
            status = {
                "desiredNumberScheduled": 1,
                "currentNumberScheduled": len(pods),
                "numberReady": ready,
                "numberAvailable": ready,
                "updatedNumberScheduled": len(pods),
                "numberMisscheduled": 0,
                "observedGeneration": generation,
            }
        else:  # Job
            done = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
            now = timestamp()
            status = {"startTime": now, "succeeded": done, "active": len(pods) - done}
            if pods and done == len(pods):
                status.update(
                    completionTime=now,
                    conditions=[
                        {
                            "type": "Complete",
                            "status": "True",
                            "lastProbeTime": now,
                            "lastTransitionTime": now,
                        }
                    ],
                )
        self._write_status(obj, status)
        owner = self._owner(obj)
        if owner is not None and owner[1]["kind"] == "Deployment":
            self._deployment_status(meta["namespace"], owner[1]["metadata"]["name"])

    def _deployment_status(self, namespace: str, name: str) -> None:
        deployment = self.server._objects.get((_APPS, "deployments", namespace, name))
        if deployment is None:
            return
        spec = deployment.get("spec") or {}
        wanted = int(spec.get("replicas", 1))
        current_hash = template_hash(spec.get("template") or {})
        sets = self._owned(REPLICASETS, deployment)
        new = next(
            (r for r in sets if r["metadata"].get("labels", {}).get(_HASH) == current_hash), None
        )
        counts = [r.get("status") or {} for r in sets]
        available = sum(c.get("availableReplicas", 0) for c in counts)
        updated = (new.get("status") or {}).get("replicas", 0) if new else 0
        now = timestamp()
        new_name = new["metadata"]["name"] if new else ""

        def condition(kind: str, ok: bool, reason: str, message: str) -> JsonDict:
            return {
                "type": kind,
                "status": "True" if ok else "False",
                "reason": reason,
                "message": message,
                "lastUpdateTime": now,
                "lastTransitionTime": now,
            }

        if (namespace, name, current_hash) in self._deadline_exceeded:
            progressing = condition(
                "Progressing",
                False,
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{new_name}" has timed out progressing.',
            )
        elif updated == wanted and available >= wanted:
            progressing = condition(
                "Progressing",
                True,
                "NewReplicaSetAvailable",
                f'ReplicaSet "{new_name}" has successfully progressed.',
            )
        else:
            progressing = condition(
                "Progressing", True, "ReplicaSetUpdated", f'ReplicaSet "{new_name}" is progressing.'
            )
        minimum = available >= wanted
        status = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "replicas": sum(c.get("replicas", 0) for c in counts),
            "updatedReplicas": updated,
            "readyReplicas": sum(c.get("readyReplicas", 0) for c in counts),
            "availableReplicas": available,
            "conditions": [
                condition(
                    "Available",
                    minimum,
                    "MinimumReplicasAvailable" if minimum else "MinimumReplicasUnavailable",
                    "Deployment has minimum availability."
                    if minimum
                    else "Deployment does not have minimum availability.",
                ),
                progressing,
            ],
        }
        if available < wanted:
            status["unavailableReplicas"] = wanted - available
        self._write_status(deployment, status)

    # -- Test controls -------------------------------------------------------------
    def set_pod_log(
        self, namespace: str, pod: str, container: str, text: str, *, previous: bool = False
    ) -> None:
        """What `kubectl logs [--previous]` shows for the container."""
        self.kubelet.set_pod_log(namespace, pod, container, text, previous=previous)

    def append_pod_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        """The container writes more (a follow in progress sees it)."""
        self.kubelet.append_pod_log(namespace, pod, container, text)

    def pod_log(self, namespace: str, name: str, query: dict[str, list[str]]) -> TextReply:
        """`GET pods/{name}/log` (the kubelet's)."""
        return self.kubelet.pod_log(namespace, name, query)

    def crash_loop(
        self, namespace: str, pod: str, container: str | None = None, **options: Any
    ) -> JsonDict:
        """Put a container of a Pod into a waiting state (CrashLoopBackOff after `restarts`
        failed runs, or e.g. ImagePullBackOff with `waiting_reason=..., restarts=0`; see
        `Kubelet.crash`): the Pod is no longer Ready and its owners' status follows."""
        with self.server._lock:
            obj = self.server._objects[("", "pods", namespace, pod)]
            self.kubelet.crash(obj, container, **options)
            owner = self._owner(obj)
            if owner is not None:
                self._set_status_of(owner[1])
            return copy.deepcopy(obj)

    def exceed_progress_deadline(self, namespace: str, deployment: str) -> JsonDict:
        """The Deployment's rollout timed out (`progressDeadlineSeconds` passed): its
        Progressing condition turns False with reason ProgressDeadlineExceeded."""
        with self.server._lock:
            obj = self.server._objects[(_APPS, "deployments", namespace, deployment)]
            current = template_hash((obj.get("spec") or {}).get("template") or {})
            self._deadline_exceeded.add((namespace, deployment, current))
            self._deployment_status(namespace, deployment)
            return copy.deepcopy(
                self.server._objects[(_APPS, "deployments", namespace, deployment)]
            )

    def add_event(
        self,
        involved: JsonDict,
        reason: str,
        message: str,
        *,
        type_: str = "Normal",
        count: int = 1,
        at: str | None = None,
        component: str = "kubelet",
    ) -> JsonDict:
        """Record an Event about `involved` (a stored object), as a component would."""
        with self.server._lock:
            event = record_event(
                self.server, involved, reason, message,
                type_=type_, count=count, at=at, component=component,
            )  # fmt: skip
            return copy.deepcopy(event)

    # -- Helpers -------------------------------------------------------------------
    def _owned(self, rtype: ResourceType, owner: JsonDict) -> list[JsonDict]:
        namespace, uid = owner["metadata"].get("namespace") or "", owner["metadata"].get("uid")
        return [
            obj
            for key, obj in sorted(self.server._objects.items())
            if key[:3] == (rtype.group, rtype.plural, namespace)
            and any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])
        ]

    def _owner(self, obj: JsonDict) -> tuple[ResourceType, JsonDict] | None:
        """The controller owning `obj` (its type and the stored object), when served here."""
        namespace = obj["metadata"].get("namespace") or ""
        for ref in obj["metadata"].get("ownerReferences") or []:
            group = ref.get("apiVersion", "").rpartition("/")[0]
            for rtype in WORKLOAD_TYPES:
                if (rtype.group, rtype.kind) != (group, ref.get("kind")):
                    continue
                owner = self.server._objects.get((group, rtype.plural, namespace, ref.get("name")))
                if owner is not None and owner["metadata"].get("uid") == ref.get("uid"):
                    return rtype, owner
        return None

    def _remove(self, obj: JsonDict) -> None:
        """A controller deletes `obj` (no replacement), and what it owned."""
        meta = obj["metadata"]
        rtype = _kind_type(obj)
        key = (rtype.group, rtype.plural, meta.get("namespace") or "", meta["name"])
        if self.server._objects.pop(key, None) is not None:
            self._collect(obj)

    def _collect(self, obj: JsonDict) -> None:
        """Garbage collection: every dependent of `obj` goes; a Pod's logs go with it."""
        meta = obj["metadata"]
        namespace, uid = meta.get("namespace") or "", meta.get("uid")
        for key, dependent in list(self.server._objects.items()):
            refs = dependent["metadata"].get("ownerReferences") or []
            if key[2] == namespace and any(ref.get("uid") == uid for ref in refs):
                self._remove(dependent)
        if obj.get("kind") == "Pod":
            self.kubelet.forget(namespace, meta["name"])

    def _modify(
        self,
        obj: JsonDict,
        *,
        spec: JsonDict | None = None,
        annotations: dict[str, str] | None = None,
    ) -> None:
        """An update another controller makes (spec fields, annotations); runs controllers."""
        meta = obj["metadata"]
        rtype = _kind_type(obj)
        if annotations:
            meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
        meta["resourceVersion"] = self.server._next_resource_version()
        if spec:
            obj["spec"] = {**(obj.get("spec") or {}), **spec}
            meta["generation"] = meta.get("generation", 1) + 1
            self.server.history.append(copy.deepcopy(obj))
            self.written(rtype, obj, obj)
        else:
            self.server.history.append(copy.deepcopy(obj))

    def _write_status(self, obj: JsonDict, status: JsonDict) -> None:
        write_status(self.server, obj, status)

    def _record(self, involved: JsonDict, reason: str, message: str, **options: Any) -> None:
        record_event(self.server, involved, reason, message, **options)


def _kind_type(obj: JsonDict) -> ResourceType:
    """The type of a stored object served here (from its kind)."""
    return next(t for t in WORKLOAD_TYPES if t.kind == obj["kind"])
