"""What the console shows of a Pod: phase, ready containers, restarts, the last termination
reason and its containers (for the log picker). Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class ContainerInfo:
    """One container of a Pod, as its status says."""

    name: str
    init: bool
    image: str
    ready: bool
    restarts: int
    state: str  # running, waiting, terminated, or "" before the first status
    reason: str  # why it waits or ended (CrashLoopBackOff, Completed...)
    last_termination_reason: str  # how its previous run ended (Error, OOMKilled...)


@dataclass(frozen=True)
class PodInfo:
    """A Pod's summary, as `kubectl get pods` shows it."""

    phase: str
    status: str  # kubectl's STATUS column: a waiting/terminated reason, else the phase
    ready: str  # "1/2": ready containers of all (init containers not counted)
    restarts: int
    last_termination_reason: str
    containers: tuple[ContainerInfo, ...]

    def container_names(self, *, init: bool = True) -> list[str]:
        return [c.name for c in self.containers if init or not c.init]


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _container(spec: Obj, status: Obj, *, init: bool) -> ContainerInfo:
    state = status.get("state") or {}
    current = next(iter(state), "")
    detail = state.get(current) or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    return ContainerInfo(
        name=str(spec.get("name") or ""),
        init=init,
        image=str(spec.get("image") or ""),
        ready=bool(status.get("ready")),
        restarts=_int(status.get("restartCount")),
        state=str(current),
        reason=str(detail.get("reason") or ""),
        last_termination_reason=str(last.get("reason") or ""),
    )


def pod_info(pod: Obj) -> PodInfo:
    """The summary of a live Pod."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = {
        str(s.get("name")): s
        for s in (status.get("initContainerStatuses") or [])
        + (status.get("containerStatuses") or [])
    }
    containers = tuple(
        _container(c, statuses.get(str(c.get("name")), {}), init=init)
        for init, key in ((True, "initContainers"), (False, "containers"))
        for c in spec.get(key) or []
    )
    main = [c for c in containers if not c.init]
    phase = str(status.get("phase") or "")
    # Like kubectl: a container's waiting or failure reason says more than the phase.
    shown = next(
        (c.reason for c in main if c.state == "waiting" and c.reason),
        next((c.reason for c in main if c.state == "terminated" and c.reason), ""),
    )
    if pod.get("metadata", {}).get("deletionTimestamp"):
        shown = "Terminating"
    last = _last_termination(main)
    return PodInfo(
        phase=phase,
        status=shown or str(status.get("reason") or "") or phase,
        ready=f"{sum(1 for c in main if c.ready)}/{len(main)}",
        restarts=sum(c.restarts for c in main),
        last_termination_reason=last,
        containers=containers,
    )


def _last_termination(containers: list[ContainerInfo]) -> str:
    """The reason the most restarted container last ended (Error, OOMKilled...)."""
    ended = [c for c in containers if c.last_termination_reason]
    if not ended:
        return ""
    return max(ended, key=lambda c: c.restarts).last_termination_reason
