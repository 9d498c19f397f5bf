"""The fake API server's kubelet: Pods started Running and Ready, containers made to crash,
pod logs (`GET pods/{name}/log`) and the Events components record.

`follow=true` streams the log, then what is appended within `follow_seconds`, then ends: a
real kubelet keeps the stream open until the container stops.
"""

from __future__ import annotations

import copy
import datetime as dt
import secrets
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from tests.fakes.kube_server import ApiError, JsonDict, ResourceType, TextReply

if TYPE_CHECKING:
    from tests.fakes.kube_server import FakeKubeServer

NODE = "fake-node"
_WAITING_TO_START = ("ContainerCreating", "PodInitializing")
_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)
_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)
PODS = ResourceType(
    "",
    "v1",
    "pods",
    "Pod",
    True,
    short_names=("po",),
    status_subresource=True,
    subresources=(("log", ("get",)),),
    field_labels=_POD_FIELDS,
)
EVENTS = ResourceType(
    "", "v1", "events", "Event", True, short_names=("ev",), field_labels=_EVENT_FIELDS
)


def timestamp() -> str:
    """The API's timestamp format, to the second."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_status(server: FakeKubeServer, obj: JsonDict, status: JsonDict) -> None:
    """A component writes a stored object's status (a new resourceVersion)."""
    obj["status"] = status
    obj["metadata"]["resourceVersion"] = server._next_resource_version()


class Kubelet:
    """The one node's kubelet: pod statuses and container logs."""

    def __init__(self, server: FakeKubeServer) -> None:
        self.server = server
        self.follow_seconds = 0.3
        # (namespace, pod, container) -> {"current": text, "previous": text}
        self._logs: dict[tuple[str, str, str], dict[str, str]] = {}

    def forget(self, namespace: str, pod: str) -> None:
        """A deleted Pod's logs go with it."""
        for key in [k for k in self._logs if k[:2] == (namespace, pod)]:
            del self._logs[key]

    def start_pod(self, pod: JsonDict) -> None:
        """The kubelet: every container started and ready (or, for a pod that does not
        restart, run to completion)."""
        spec, now = pod.get("spec") or {}, timestamp()
        finite = spec.get("restartPolicy") in ("Never", "OnFailure")
        statuses = []
        for container in spec.get("containers") or []:
            state: JsonDict = {"running": {"startedAt": now}}
            if finite:
                state = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": now,
                        "finishedAt": now,
                    }
                }
            statuses.append(
                {
                    "name": container.get("name", ""),
                    "image": container.get("image", ""),
                    "imageID": f"docker.io/{container.get('image', '')}@sha256:{'0' * 64}",
                    "containerID": f"containerd://{secrets.token_hex(32)}",
                    "ready": not finite,
                    "started": not finite,
                    "restartCount": 0,
                    "state": state,
                    "lastState": {},
                }
            )
        init_statuses = [
            {
                "name": c.get("name", ""),
                "image": c.get("image", ""),
                "ready": True,
                "restartCount": 0,
                "lastState": {},
                "state": {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": now,
                        "finishedAt": now,
                    }
                },
            }
            for c in spec.get("initContainers") or []
        ]
        ready = "False" if finite else "True"
        conditions = [
            {"type": t, "status": s, "lastProbeTime": None, "lastTransitionTime": now}
            for t, s in (
                ("PodReadyToStartContainers", "True"),
                ("Initialized", "True"),
                ("Ready", ready),
                ("ContainersReady", ready),
                ("PodScheduled", "True"),
            )
        ]
        status: JsonDict = {
            "phase": "Succeeded" if finite else "Running",
            "conditions": conditions,
            "hostIP": "10.0.0.10",
            "podIP": f"10.42.0.{secrets.randbelow(250) + 2}",
            "startTime": now,
            "containerStatuses": statuses,
            "qosClass": "BestEffort",
        }
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        write_status(self.server, pod, status)
        name = pod["metadata"]["name"]
        record_event(
            self.server,
            pod,
            "Scheduled",
            f"Successfully assigned {pod['metadata']['namespace']}/{name} to {NODE}",
            component="default-scheduler",
        )
        for container in spec.get("containers") or []:
            for reason, message in (
                (
                    "Pulled",
                    f'Container image "{container.get("image", "")}" already present on machine',
                ),
                ("Created", f"Created container {container.get('name', '')}"),
                ("Started", f"Started container {container.get('name', '')}"),
            ):
                record_event(self.server, pod, reason, message, component="kubelet")

    def set_pod_log(
        self, namespace: str, pod: str, container: str, text: str, *, previous: bool = False
    ) -> None:
        """What `kubectl logs [--previous]` shows for the container."""
        with self.server._lock:
            entry = self._logs.setdefault((namespace, pod, container), {})
            entry["previous" if previous else "current"] = text

    def append_pod_log(self, namespace: str, pod: str, container: str, text: str) -> None:
        """The container writes more (a follow in progress sees it)."""
        with self.server._lock:
            entry = self._logs.setdefault((namespace, pod, container), {})
            entry["current"] = entry.get("current", "") + text

    def crash(
        self,
        obj: JsonDict,
        container: str | None = None,
        *,
        restarts: int = 5,
        waiting_reason: str = "CrashLoopBackOff",
        exit_code: int = 1,
        terminated_reason: str = "Error",
    ) -> None:
        """A container of a stored Pod waits (CrashLoopBackOff after `restarts` failed runs,
        or e.g. ImagePullBackOff with `restarts=0`): the Pod is no longer Ready."""
        namespace, pod = obj["metadata"]["namespace"], obj["metadata"]["name"]
        status = copy.deepcopy(obj.get("status") or {})
        now = timestamp()
        statuses = status.get("containerStatuses") or []
        target = next((s for s in statuses if container in (None, s["name"])), None)
        if target is None:
            raise KeyError(f"pod {namespace}/{pod} has no container {container}")
        name = target["name"]
        uid = obj["metadata"]["uid"]
        message = (
            f"back-off 5m0s restarting failed container={name} pod={pod}_{namespace}({uid})"
            if waiting_reason == "CrashLoopBackOff"
            else f'Back-off pulling image "{target.get("image", "")}"'
        )
        target.update(
            ready=False,
            started=False,
            restartCount=restarts,
            state={"waiting": {"reason": waiting_reason, "message": message}},
        )
        if restarts:
            target["lastState"] = {
                "terminated": {
                    "exitCode": exit_code,
                    "reason": terminated_reason,
                    "startedAt": now,
                    "finishedAt": now,
                    "containerID": target.get("containerID", ""),
                }
            }
        for condition in status.get("conditions") or []:
            if condition["type"] in ("Ready", "ContainersReady"):
                condition.update(
                    status="False",
                    reason="ContainersNotReady",
                    message=f"containers with unready status: [{name}]",
                )
        write_status(self.server, obj, status)
        event = (
            (
                "BackOff",
                f"Back-off restarting failed container {name} in pod {pod}_{namespace}({uid})",
            )
            if waiting_reason == "CrashLoopBackOff"
            else ("Failed", f"Error: {waiting_reason}")
        )
        record_event(
            self.server,
            obj,
            *event,
            type_="Warning",
            count=max(restarts, 1),
            component="kubelet",
        )

    def pod_log(self, namespace: str, name: str, query: dict[str, list[str]]) -> TextReply:
        """`GET /api/v1/namespaces/{ns}/pods/{name}/log`, with the API server's refusals."""
        pod = self.server._objects.get(("", "pods", namespace, name))
        if pod is None:
            raise ApiError(404, f'pods "{name}" not found', details={"name": name, "kind": "pods"})
        spec = pod.get("spec") or {}
        containers = [c.get("name", "") for c in spec.get("containers") or []]
        init = [c.get("name", "") for c in spec.get("initContainers") or []]
        container = _first(query, "container")
        if not container:
            if len(containers) != 1:
                more = f" or one of the init containers: [{' '.join(init)}]" if init else ""
                raise ApiError(
                    400,
                    f"a container name must be specified for pod {name}, "
                    f"choose one of: [{' '.join(containers)}]{more}",
                )
            container = containers[0]
        elif container not in containers + init:
            raise ApiError(400, f"container {container} is not valid for pod {name}")
        tail = _number(query, "tailLines", name, minimum=0)
        limit = _number(query, "limitBytes", name, minimum=1)
        previous = _first(query, "previous") in ("true", "1")
        status = pod.get("status") or {}
        found = next(
            (
                s
                for s in (status.get("containerStatuses") or [])
                + (status.get("initContainerStatuses") or [])
                if s.get("name") == container
            ),
            {},
        )
        entry = self._logs.get((namespace, name, container), {})
        if previous and "previous" not in entry and not found.get("restartCount"):
            raise ApiError(
                400, f'previous terminated container "{container}" in pod "{name}" not found'
            )
        waiting = (found.get("state") or {}).get("waiting") or {}
        if not previous and waiting.get("reason") in _WAITING_TO_START:
            raise ApiError(
                400,
                f'container "{container}" in pod "{name}" is waiting to start: {waiting["reason"]}',
            )
        text = entry.get("previous" if previous else "current", "")
        body = _tailed(text, tail, limit)
        if _first(query, "follow") not in ("true", "1") or previous:
            return TextReply(body)
        return TextReply(body, stream=self._follow(namespace, name, container, body, len(text)))

    def _follow(
        self, namespace: str, pod: str, container: str, first: bytes, offset: int
    ) -> Iterator[bytes]:
        """What is there, then what the container appends for `follow_seconds` (bounded)."""
        yield first
        deadline = time.monotonic() + self.follow_seconds
        while time.monotonic() < deadline and not self.server._stopped.is_set():
            time.sleep(0.02)
            with self.server._lock:
                entry = self._logs.get((namespace, pod, container))
                if entry is None:
                    return
                text = entry.get("current", "")
            if len(text) > offset:
                yield text[offset:].encode()
                offset = len(text)


def record_event(
    server: FakeKubeServer,
    involved: JsonDict,
    reason: str,
    message: str,
    *,
    type_: str = "Normal",
    count: int = 1,
    at: str | None = None,
    component: str = "",
) -> JsonDict:
    """Store an Event about `involved`, as `component` records one."""
    meta = involved["metadata"]
    component = component or f"{involved['kind'].lower()}-controller"
    when = at or timestamp()
    return server._create(
        EVENTS,
        meta["namespace"],
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{meta['name']}.{secrets.token_hex(8)}",
                "namespace": meta["namespace"],
            },
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", "v1"),
                "kind": involved["kind"],
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta.get("uid", ""),
                "resourceVersion": meta.get("resourceVersion", ""),
            },
            "reason": reason,
            "message": message,
            "type": type_,
            "count": count,
            "firstTimestamp": when,
            "lastTimestamp": when,
            "source": {
                "component": component,
                **({"host": NODE} if component == "kubelet" else {}),
            },
            "reportingComponent": component,
            "reportingInstance": "",
        },
    )


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _number(query: dict[str, list[str]], name: str, pod: str, *, minimum: int) -> int | None:
    raw = _first(query, name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f'strconv.ParseInt: parsing "{raw}": invalid syntax') from None
    if value < minimum:
        rule = "greater than or equal to 0" if minimum == 0 else "greater than 0"
        raise ApiError(
            422, f'PodLogOptions "{pod}" is invalid: {name}: Invalid value: {value}: must be {rule}'
        )
    return value


def _tailed(text: str, tail: int | None, limit: int | None) -> bytes:
    lines = text.splitlines(keepends=True)
    if tail is not None:
        lines = lines[len(lines) - tail :] if tail else []
    data = "".join(lines).encode()
    return data[:limit] if limit is not None else data
